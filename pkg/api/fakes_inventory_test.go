package api

import (
	"fmt"
	"slices"

	"github.com/pioreactor/pioreactord/pkg/store"
)

// The fake's side of InventoryStore: enough for the routes of the first slice, whose tests
// use it. The inventory routes are tested on the real store (newStoreCluster).

func (s *fakeStore) DeleteWorker(unit string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.workers[unit]; !ok {
		return store.ErrNotFound
	}
	delete(s.workers, unit)
	delete(s.assigned, unit)
	return nil
}

func (s *fakeStore) SetWorkerActive(unit string, active bool) error {
	if _, err := s.Worker(unit); err != nil {
		return err
	}
	s.update(unit, func(w *store.Worker) { w.IsActive = active })
	return nil
}

func (s *fakeStore) SetWorkerModel(unit, name, version string) error {
	if _, err := s.Worker(unit); err != nil {
		return err
	}
	s.update(unit, func(w *store.Worker) { w.ModelName, w.ModelVersion = name, version })
	return nil
}

func (s *fakeStore) AssignmentOf(unit string) (store.Assignment, error) {
	if _, err := s.Worker(unit); err != nil {
		return store.Assignment{}, store.ErrUnknownWorker
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.assigned[unit]
	if !ok {
		return store.Assignment{}, store.ErrNotAssigned
	}
	return store.Assignment{Unit: unit, Experiment: exp}, nil
}

func (s *fakeStore) ClearAssignments() ([]store.Assignment, error) {
	as, _ := s.Assignments()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.assigned = map[string]string{}
	return as, nil
}

func (s *fakeStore) UnassignAll(exp string) ([]string, error) {
	ws, _ := s.AssignedWorkers(exp)
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []string{}
	for _, w := range ws {
		delete(s.assigned, w.Unit)
		out = append(out, w.Unit)
	}
	return out, nil
}

func (s *fakeStore) AssignmentHistory(unit, exp string) ([]store.AssignmentInterval, error) {
	as, _ := s.Assignments()
	var out []store.AssignmentInterval
	for _, a := range as {
		if (unit == "" || a.Unit == unit) && (exp == "" || a.Experiment == exp) {
			out = append(out, store.AssignmentInterval{Unit: a.Unit, Experiment: a.Experiment})
		}
	}
	return out, nil
}

func (s *fakeStore) UpdateExperiment(name string, desc *string, tags *[]string) (store.Experiment, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.experiments, func(e store.Experiment) bool { return e.Name == name })
	if i < 0 {
		return store.Experiment{}, store.ErrNotFound
	}
	if desc != nil {
		s.experiments[i].Description = *desc
	}
	if tags != nil {
		s.experiments[i].Tags = *tags
	}
	return s.experiments[i], nil
}

func (s *fakeStore) DeleteExperiment(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.experiments, func(e store.Experiment) bool { return e.Name == name })
	if i < 0 {
		return store.ErrNotFound
	}
	s.experiments = slices.Delete(s.experiments, i, i+1)
	for u, e := range s.assigned {
		if e == name {
			delete(s.assigned, u)
		}
	}
	return nil
}

func (s *fakeStore) UnitLabels(string) (map[string]string, error) { return map[string]string{}, nil }

func (s *fakeStore) SetUnitLabel(exp, unit, label string) error {
	if _, err := s.Experiment(exp); err != nil {
		return fmt.Errorf("label: %w", store.ErrUnknownExperiment)
	}
	return nil
}
