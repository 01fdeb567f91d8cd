package api

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/store"
)

// The real store must satisfy the interface the routes are written against.
var _ LeaderStore = (*store.DB)(nil)

// fakeUnit is a scripted job supervisor.
type fakeUnit struct {
	name     string
	jobs     []string // nil: no JobLister behaviour is checked (see listingUnit)
	runErr   error
	stopErr  error
	running  []contract.JobRow
	history  []contract.JobRow
	settings map[string]map[string]any

	mu    sync.Mutex
	runs  []runCall
	stops []contract.StopFilter
}

type runCall struct {
	job string
	req contract.RunRequest
}

func (u *fakeUnit) Name() string { return u.name }

func (u *fakeUnit) Run(_ context.Context, job string, req contract.RunRequest) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.runs = append(u.runs, runCall{job, req})
	return u.runErr
}

func (u *fakeUnit) Stop(_ context.Context, f contract.StopFilter) (int, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.stops = append(u.stops, f)
	return 1, u.stopErr
}

func (u *fakeUnit) Running() ([]contract.JobRow, error) { return slices.Clone(u.running), nil }
func (u *fakeUnit) History() ([]contract.JobRow, error) { return slices.Clone(u.history), nil }

func (u *fakeUnit) Settings(job string) (map[string]any, error) {
	s, ok := u.settings[job]
	if !ok {
		return nil, fmt.Errorf("settings of %s: %w", job, ErrNoSuchJob)
	}
	return s, nil
}

func (u *fakeUnit) Runs() []runCall {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.runs)
}

func (u *fakeUnit) Stops() []contract.StopFilter {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.stops)
}

// listingUnit also knows its job names, so unknown ones are refused upfront.
type listingUnit struct{ *fakeUnit }

func (u listingUnit) Jobs() []string { return u.jobs }

// fakeStore is an in-memory LeaderStore with the store's sentinel errors.
type fakeStore struct {
	mu          sync.Mutex
	workers     map[string]store.Worker
	experiments []store.Experiment // insertion order
	assigned    map[string]string  // unit -> experiment
}

func newFakeStore() *fakeStore {
	return &fakeStore{workers: map[string]store.Worker{}, assigned: map[string]string{}}
}

func (s *fakeStore) Workers() ([]store.Worker, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []store.Worker{}
	for _, w := range s.workers {
		out = append(out, w)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Unit < out[j].Unit })
	return out, nil
}

func (s *fakeStore) Worker(unit string) (store.Worker, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w, ok := s.workers[unit]
	if !ok {
		return store.Worker{}, fmt.Errorf("read worker %s: %w", unit, store.ErrNotFound)
	}
	return w, nil
}

func (s *fakeStore) PutWorker(w store.Worker) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	w.IsActive = true
	s.workers[w.Unit] = w
	return nil
}

// update changes a worker row in place (the store's SetWorkerActive / SetWorkerModel).
func (s *fakeStore) update(unit string, change func(*store.Worker)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.workers[unit]
	change(&w)
	s.workers[unit] = w
}

func (s *fakeStore) Experiments() ([]store.Experiment, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.experiments)
	slices.Reverse(out)
	return out, nil
}

func (s *fakeStore) Experiment(name string) (store.Experiment, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.experiments {
		if e.Name == name {
			return e, nil
		}
	}
	return store.Experiment{}, fmt.Errorf("read experiment %s: %w", name, store.ErrNotFound)
}

func (s *fakeStore) LatestExperiment() (store.Experiment, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.experiments) == 0 {
		return store.Experiment{}, store.ErrNotFound
	}
	return s.experiments[len(s.experiments)-1], nil
}

func (s *fakeStore) CreateExperiment(e store.Experiment) error {
	if _, err := s.Experiment(e.Name); err == nil {
		return fmt.Errorf("create experiment: %w", store.ErrExists)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e.CreatedAt = e.CreatedAt.UTC().Truncate(time.Millisecond)
	s.experiments = append(s.experiments, e)
	return nil
}

func (s *fakeStore) Assign(unit, exp string, _ time.Time) (string, error) {
	if _, err := s.Experiment(exp); err != nil {
		if _, werr := s.Worker(unit); werr != nil {
			return "", store.ErrUnknownWorker
		}
		return "", store.ErrUnknownExperiment
	}
	if _, err := s.Worker(unit); err != nil {
		return "", store.ErrUnknownWorker
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	prev := s.assigned[unit]
	s.assigned[unit] = exp
	return prev, nil
}

func (s *fakeStore) Unassign(unit, exp string) error {
	if _, err := s.Worker(unit); err != nil {
		return store.ErrUnknownWorker
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.assigned[unit] != exp {
		return store.ErrNotAssigned
	}
	delete(s.assigned, unit)
	return nil
}

func (s *fakeStore) Assignments() ([]store.Assignment, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []store.Assignment{}
	for u, e := range s.assigned {
		out = append(out, store.Assignment{Unit: u, Experiment: e})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Unit < out[j].Unit })
	return out, nil
}

func (s *fakeStore) AssignedWorkers(exp string) ([]store.Worker, error) {
	as, _ := s.Assignments()
	out := []store.Worker{}
	for _, a := range as {
		if a.Experiment == exp {
			w, _ := s.Worker(a.Unit)
			out = append(out, w)
		}
	}
	return out, nil
}

// published is one recorded MQTT message.
type published struct {
	Topic   string
	Payload string
	QoS     byte
	Retain  bool
}

type fakePublisher struct {
	mu   sync.Mutex
	err  error
	msgs []published
}

func (p *fakePublisher) Publish(_ context.Context, topic string, payload []byte, qos byte, retain bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return p.err
	}
	p.msgs = append(p.msgs, published{topic, string(payload), qos, retain})
	return nil
}

// Messages returns the messages whose topic does not contain /logs/ (log lines are checked
// apart) unless all is set.
func (p *fakePublisher) Messages(all bool) []published {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []published
	for _, m := range p.msgs {
		if all || !strings.Contains(m.Topic, "/logs/") {
			out = append(out, m)
		}
	}
	return out
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
