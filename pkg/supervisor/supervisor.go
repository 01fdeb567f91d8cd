package supervisor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"

	"github.com/pioreactor/pioreactord/pkg/clock"
	"github.com/pioreactor/pioreactord/pkg/config"
	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/hal"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
)

// Config wires a supervisor to its unit.
type Config struct {
	Unit     string
	Leader   string // leader hostname, recorded on each registry row
	Jobs     []Spec
	Dialer   pubsub.Dialer
	Registry Registry
	Board    hal.Board
	Clock    clock.Clock
	Log      *slog.Logger
	Conf     *config.Config // daemon configuration; each job gets a snapshot with its overrides
	// Autostart names jobs Run starts once the registry is reset (the monitor, on every unit).
	Autostart []string
	// Model is the unit's own bioreactor model as it knows it now (nil: unknown); a run
	// request naming one overrides it for that job (Options.Model).
	Model func() contract.Model
}

// Supervisor runs one unit's jobs.
type Supervisor struct {
	cfg   Config
	specs map[string]Spec
	pwms  *pwmBank
	base  context.Context // parent of every job's context; ends when Run ends
	end   context.CancelFunc
	// started closes once Run has reset the registry: a start before that would be wiped.
	started chan struct{}

	mu         sync.Mutex
	running    map[string]*instance
	experiment string // the unit's assignment, from the leader's retained message
	closed     bool
	abandoned  map[string]struct{} // $state topics of starts abandoned while connecting
}

// New checks the configuration and returns an idle supervisor; Run starts it.
func New(cfg Config) (*Supervisor, error) {
	if cfg.Unit == "" || cfg.Dialer == nil || cfg.Registry == nil || cfg.Clock == nil || cfg.Log == nil || cfg.Conf == nil {
		return nil, errors.New("supervisor: Unit, Dialer, Registry, Clock, Log and Conf are required")
	}
	specs := make(map[string]Spec, len(cfg.Jobs))
	for _, s := range cfg.Jobs {
		if err := validJobName(s.Name); err != nil {
			return nil, err
		}
		specs[s.Name] = s
	}
	base, end := context.WithCancel(context.Background())
	return &Supervisor{cfg: cfg, specs: specs, pwms: newPWMBank(cfg.Board.PWM), base: base, end: end,
		started: make(chan struct{}), running: map[string]*instance{}, abandoned: map[string]struct{}{}}, nil
}

// Name is the unit's name.
func (s *Supervisor) Name() string { return s.cfg.Unit }

// Jobs lists the job names this unit can run, sorted.
func (s *Supervisor) Jobs() []string {
	names := make([]string, 0, len(s.specs))
	for n := range s.specs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Experiment is the experiment the leader assigned this unit to ("" if none).
func (s *Supervisor) Experiment() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.experiment
}

// Run resets the registry, follows the unit's assignment, and on ctx end stops every job in
// the safe order (pumps and PWM, heaters, automations, the rest).
func (s *Supervisor) Run(ctx context.Context) error {
	if err := s.cfg.Registry.Reset(); err != nil {
		return fmt.Errorf("reset job registry: %w", err)
	}
	s.pwms.zeroAll(s.cfg.Log) // before any job may claim an output
	close(s.started)
	// From here jobs may start, so every way out stops them (a failed connect too).
	defer s.stopAll()
	conn, err := s.cfg.Dialer.Dial(ctx, pubsub.Options{ClientID: "supervisor-" + s.cfg.Unit + "-" + pubsub.ClientSuffix()})
	if err != nil {
		return cancelled(ctx, fmt.Errorf("connect supervisor of %s: %w", s.cfg.Unit, err))
	}
	defer conn.Close()
	if err := conn.Subscribe(ctx, contract.AssignmentTopicFor(s.cfg.Unit), pubsub.ExactlyOnce, s.onAssignment); err != nil {
		return cancelled(ctx, fmt.Errorf("subscribe to assignment: %w", err))
	}
	if err := conn.Subscribe(ctx, contract.Topic(s.cfg.Unit, "+", "pwms", "dc"), pubsub.AtLeastOnce, s.correctPWMs(conn)); err != nil {
		return cancelled(ctx, fmt.Errorf("subscribe to pwms/dc: %w", err))
	}
	if err := conn.Subscribe(ctx, contract.JobTopic(s.cfg.Unit, "+", "+", contract.StateAttr), pubsub.AtLeastOnce, s.correctWills(conn)); err != nil {
		return cancelled(ctx, fmt.Errorf("subscribe to $state: %w", err))
	}
	for _, job := range s.cfg.Autostart {
		if err := s.StartJob(ctx, job, contract.RunRequest{}); err != nil && ctx.Err() == nil {
			s.cfg.Log.Error("could not start "+job, "unit", s.cfg.Unit, "err", err)
		}
	}
	<-ctx.Done()
	return nil
}

// stopAll refuses new starts and stops every job in the safe order.
func (s *Supervisor) stopAll() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.stopInstances(s.selectRunning(func(*instance) bool { return true }))
	s.end()
}

// cancelled turns an error caused by the end of ctx into nil: cancellation is not an error.
func cancelled(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

func (s *Supervisor) onAssignment(m pubsub.Message) {
	var a contract.Assignment
	if len(m.Payload) > 0 {
		if err := json.Unmarshal(m.Payload, &a); err != nil {
			s.cfg.Log.Warn("bad assignment message", "err", err)
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.experiment = ""
	if a.Experiment != nil {
		s.experiment = *a.Experiment
	}
}

// StopJobs stops the running jobs the filter selects, in the safe order, and returns how many.
func (s *Supervisor) StopJobs(ctx context.Context, f contract.StopFilter) (int, error) {
	if f.Empty() {
		return 0, errors.New("no job filter specified")
	}
	picked := s.selectRunning(func(in *instance) bool {
		if f.All {
			return !in.spec.LongRunning
		}
		return (f.JobName == "" || f.JobName == in.spec.Name) &&
			(f.Experiment == "" || f.Experiment == in.rt.experiment) &&
			(f.JobSource == "" || f.JobSource == in.source) &&
			(f.JobID == nil || *f.JobID == in.rt.jobID)
	})
	s.stopInstances(picked)
	return len(picked), ctx.Err()
}

func (s *Supervisor) selectRunning(keep func(*instance) bool) []*instance {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*instance
	for _, in := range s.running {
		if keep(in) {
			out = append(out, in)
		}
	}
	return out
}

// stopInstances stops jobs group by group in stop order; jobs of one group stop together.
func (s *Supervisor) stopInstances(list []*instance) {
	sort.SliceStable(list, func(i, j int) bool {
		pi, pj := stopPriority(list[i].spec.Name), stopPriority(list[j].spec.Name)
		return pi < pj || pi == pj && list[i].spec.Name < list[j].spec.Name
	})
	for i := 0; i < len(list); {
		j := i
		for j < len(list) && stopPriority(list[j].spec.Name) == stopPriority(list[i].spec.Name) {
			j++
		}
		var wg sync.WaitGroup
		for _, in := range list[i:j] {
			wg.Go(in.stopAndWait)
		}
		wg.Wait()
		i = j
	}
}

// stopPriority orders a stop of many jobs: pumps and PWM first, then heaters, then
// automations, then the rest (docs/mqtt.md, "Stopping a job").
func stopPriority(job string) int {
	switch {
	case strings.Contains(job, "pump") || strings.Contains(job, "pwm") || isDosingAction(job):
		return 1
	case strings.Contains(job, "temperature") || strings.Contains(job, "heat"):
		return 2
	case strings.HasSuffix(job, "_automation"):
		return 3
	}
	return 5
}

// isDosingAction: the pump actions are named for what they pump, not "pump".
func isDosingAction(job string) bool {
	switch job {
	case "add_media", "remove_waste", "add_alt_media", "circulate_media", "circulate_alt_media":
		return true
	}
	return false
}

// Running lists the unit's running jobs from the registry.
func (s *Supervisor) Running() ([]contract.JobRow, error) { return s.cfg.Registry.Running() }

// History lists every job this unit ran since the registry was created, newest first.
func (s *Supervisor) History() ([]contract.JobRow, error) { return s.cfg.Registry.History() }

// JobSettings returns the current settings of a running job.
func (s *Supervisor) JobSettings(job string) (map[string]any, error) {
	s.mu.Lock()
	in, ok := s.running[job]
	s.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNotRunning, job)
	}
	return in.rt.Values(), nil
}

var forbiddenJobNames = map[string]bool{"run": true, "dosing_events": true, "leds": true,
	"led_change_events": true, "unit_label": true, "pwm": true, "assignment": true}

func validJobName(name string) error {
	if forbiddenJobNames[name] || name == "" || strings.ToLower(name) != name || !strings.ContainsAny(name, "abcdefghijklmnopqrstuvwxyz") {
		return fmt.Errorf("job name %q is not allowed", name)
	}
	return nil
}
