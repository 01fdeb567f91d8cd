package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/pioreactor/pioreactord/pkg/cluster"
	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/store"
)

// LeaderStore is the part of the leader's database the /api routes use; *store.DB
// implements it.
type LeaderStore interface {
	Workers() ([]store.Worker, error)
	Worker(unit string) (store.Worker, error)
	PutWorker(w store.Worker) error
	Experiments() ([]store.Experiment, error)
	Experiment(name string) (store.Experiment, error)
	LatestExperiment() (store.Experiment, error)
	CreateExperiment(e store.Experiment) error
	Assign(unit, experiment string, at time.Time) (previous string, err error)
	Unassign(unit, experiment string) error
	Assignments() ([]store.Assignment, error)
	AssignedWorkers(experiment string) ([]store.Worker, error)
	InventoryStore
}

// Publisher sends MQTT messages; pubsub.Client implements it.
type Publisher interface {
	Publish(ctx context.Context, topic string, payload []byte, qos byte, retain bool) error
}

// Leader is what only the leader has: the inventory, the broker and the other units.
type Leader struct {
	Store     LeaderStore
	Publisher Publisher
	Cluster   *cluster.Client
	// Name is the leader's unit name; "" means Config.Unit.Name().
	Name string
	// Addresses is [cluster.addresses]; an entry that is a literal IPv4 address is reported
	// as the worker's ipv4_address.
	Addresses map[string]string
	// Testing sets TESTING=1 in the env of every job the leader starts (test clusters).
	Testing bool
	// ConfigHistory keeps the snapshots of saved config files; nil keeps none (the history
	// routes answer []).
	ConfigHistory ConfigHistory
	// Models are the registered bioreactor models; nil means BuiltinModels().
	Models []Model
	// Simulation lists the simulation_truth dataset (pioreactord --sim); without it the
	// dataset is hidden.
	Simulation bool
	// Profiles are the experiment profiles and their runs; nil makes those routes answer 501.
	Profiles *Profiles
}

func (l *Leader) validate() error {
	switch {
	case l.Store == nil:
		return errors.New("leader: Store is required")
	case l.Publisher == nil:
		return errors.New("leader: Publisher is required")
	case l.Cluster == nil:
		return errors.New("leader: Cluster is required")
	}
	return nil
}

// MQTT quality of service levels the leader uses (docs/mqtt.md, "QoS and retain").
const (
	qosAtLeastOnce byte = 1
	qosExactlyOnce byte = 2
)

// publishTimeout bounds the wait for the broker's hand-off (docs/http.md, "Jobs and settings").
const publishTimeout = 2 * time.Second

func (s *Server) leaderRoutes(g *echo.Group) {
	g.GET("/units", s.listUnits)
	g.GET("/workers", s.listWorkers)
	g.PUT("/workers", s.putWorker)
	g.GET("/workers/assignments", s.listAssignments)
	g.GET("/workers/:unit", s.getWorker)

	g.GET("/experiments", s.listExperiments)
	g.POST("/experiments", s.createExperiment)
	g.GET("/experiments/latest", s.latestExperiment)
	g.GET("/experiments/:exp", s.getExperiment)
	g.GET("/experiments/:exp/workers", s.experimentWorkers)
	g.PUT("/experiments/:exp/workers", s.assignWorker)
	g.DELETE("/experiments/:exp/workers/:unit", s.unassignWorker)

	for _, p := range []string{"/workers", "/units"} {
		for _, m := range []string{http.MethodPatch, http.MethodPost} {
			g.Add(m, p+"/:unit/jobs/run/job_name/:job/experiments/:exp", s.leaderRunJob)
			g.Add(m, p+"/:unit/jobs/stop/job_name/:job/experiments/:exp", s.leaderStopJob)
			g.Add(m, p+"/:unit/jobs/stop/experiments/:exp", s.leaderStopExperiment)
		}
		g.PATCH(p+"/:unit/jobs/update/job_name/:job/experiments/:exp", s.leaderUpdateJob)
		g.GET(p+"/:unit/jobs/running", s.leaderRunningJobs)
	}
	g.GET("/workers/:unit/jobs/settings/job_name/:job/experiments/:exp", s.leaderJobSettings)
	g.GET("/workers/:unit/jobs/settings/job_name/:job/setting/:setting/experiments/:exp", s.leaderJobSettings)
	s.clusterRoutes(g)
	s.dataRoutes(g)
	s.profileRoutes(g)
	s.leaderDescriptorRoutes(g)
}

func (s *Server) leader() *Leader { return s.cfg.Leader }

func (s *Server) leaderName() string {
	if n := s.cfg.Leader.Name; n != "" {
		return n
	}
	return s.cfg.Unit.Name()
}

// publish sends one message, waiting at most publishTimeout for the broker, and not for a
// client that has gone away: the action has been decided by then.
func (s *Server) publish(ctx context.Context, topic string, payload []byte, qos byte, retain bool) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), publishTimeout)
	defer cancel()
	if err := s.leader().Publisher.Publish(ctx, topic, payload, qos, retain); err != nil {
		return fmt.Errorf("publish %s: %w", topic, err)
	}
	return nil
}

// logTo publishes an INFO log line into an experiment, as the original's loggers do; the
// MQTT→DB ingester stores it. Best effort: the action it describes has already happened.
func (s *Server) logTo(ctx context.Context, exp, taskName, msg string) {
	name := s.leaderName()
	payload := contract.Marshal(contract.Log{Message: msg, Level: "INFO", Task: taskName,
		Source: contract.SourceApp, Timestamp: contract.Timestamp(s.now())})
	if err := s.publish(ctx, contract.LogTopic(name, exp, contract.SourceApp, "info"), payload, qosExactlyOnce, false); err != nil {
		s.log.Warn("publish log line", "experiment", exp, "err", err)
	}
}

// units is the leader plus every worker, leader first, without duplicates (a leader may
// also be a worker).
func (s *Server) units() ([]string, error) {
	ws, err := s.leader().Store.Workers()
	if err != nil {
		return nil, err
	}
	out := []string{s.leaderName()}
	for _, w := range ws {
		if w.Unit != s.leaderName() {
			out = append(out, w.Unit)
		}
	}
	return out, nil
}

// resolveUnits maps a path's <unit> to the units it names: `$broadcast` is every unit,
// otherwise the unit must be the leader or a worker (docs/http.md, "Addresses and roles").
func (s *Server) resolveUnits(unit string) ([]string, error) {
	all, err := s.units()
	if err != nil {
		return nil, internal("Could not read the inventory.", err)
	}
	if unit == contract.Broadcast {
		return all, nil
	}
	if validName(unit) {
		for _, u := range all {
			if u == unit {
				return []string{u}, nil
			}
		}
	}
	return nil, httpError(http.StatusBadRequest, "Unknown Pioreactor unit: "+unit,
		fmt.Sprintf("%s is neither the leader nor a worker in the inventory.", unit),
		"Check the unit name, or add the worker to the inventory first.")
}
