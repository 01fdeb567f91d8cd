package session

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/pioreactor/pioreactord/pkg/calibration"
)

// protocol is one guided calibration: which step to show, and what an answer to it does.
type protocol interface {
	name() string
	devices() []string
	info(device string) ProtocolInfo
	// first is the step a new session opens on.
	first() string
	step(s *Session) *Step
	// advance applies the inputs of the current step (running hardware if the step says so)
	// and moves the session on. An error wrapping ErrBadInput leaves the session as it was.
	advance(ctx context.Context, m *Manager, s *Session, in Inputs) error
}

var protocols = []protocol{pumpProtocol{}, stirringProtocol{}, odProtocol{}}

// Manager keeps one unit's sessions.
type Manager struct {
	unit string
	rig  Rig
	cals *calibration.Store
	now  func() time.Time

	mu       sync.Mutex
	sessions map[string]*entry
}

type entry struct {
	mu sync.Mutex // held while an input is applied
	s  Session
	p  protocol
}

// New returns a manager for unit; now is the daemon's clock (created_at of sessions and files).
func New(unit string, rig Rig, cals *calibration.Store, now func() time.Time) *Manager {
	return &Manager{unit: unit, rig: rig, cals: cals, now: now, sessions: map[string]*entry{}}
}

// Protocols lists the guided protocols, sorted by device, priority and title.
func (m *Manager) Protocols() []ProtocolInfo {
	var out []ProtocolInfo
	for _, p := range protocols {
		for _, d := range p.devices() {
			out = append(out, p.info(d))
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.TargetDevice != b.TargetDevice {
			return a.TargetDevice < b.TargetDevice
		}
		if a.Priority != b.Priority {
			return a.Priority < b.Priority
		}
		return a.Title < b.Title
	})
	return out
}

// Start opens a session of protocol on device.
func (m *Manager) Start(device, protocolName string) (View, error) {
	var p protocol
	for _, q := range protocols {
		if q.name() == protocolName && contains(q.devices(), device) {
			p = q
		}
	}
	if p == nil {
		return View{}, fmt.Errorf("%w: %q for device %q (see the protocol list)", ErrUnknownProtocol, protocolName, device)
	}
	id := make([]byte, 8)
	_, _ = rand.Read(id)
	now := m.stamp()
	e := &entry{p: p, s: Session{SessionID: hex.EncodeToString(id), ProtocolName: protocolName, TargetDevice: device,
		Status: InProgress, StepID: p.first(), Data: map[string]any{}, CreatedAt: now, UpdatedAt: now}}
	m.mu.Lock()
	m.sessions[e.s.SessionID] = e
	m.mu.Unlock()
	return e.view(), nil
}

func (m *Manager) stamp() string { return m.now().UTC().Format("2006-01-02T15:04:05.000Z") }

func (m *Manager) get(id string) (*entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.sessions[id]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return e, nil
}

// Get is a session's state.
func (m *Manager) Get(id string) (View, error) {
	e, err := m.get(id)
	if err != nil {
		return View{}, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.view(), nil
}

// Input answers the current step. Bad inputs change nothing; a hardware or save failure
// fails the session.
func (m *Manager) Input(ctx context.Context, id string, in map[string]any) (View, error) {
	e, err := m.get(id)
	if err != nil {
		return View{}, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.s.Status != InProgress {
		return e.view(), fmt.Errorf("%w: it is %s", ErrClosed, e.s.Status)
	}
	next := e.s
	next.Data = cloneMap(e.s.Data)
	err = e.p.advance(ctx, m, &next, Inputs(in))
	switch {
	case errors.Is(err, ErrBadInput):
		return e.view(), err
	case err != nil:
		next = e.s
		next.Status, next.Error = Failed, err.Error()
	}
	next.UpdatedAt = m.stamp()
	e.s = next
	return e.view(), nil
}

// Abort ends a session without saving anything.
func (m *Manager) Abort(ctx context.Context, id string) (View, error) {
	e, err := m.get(id)
	if err != nil {
		return View{}, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.s.Status == InProgress {
		if e.s.TargetDevice == "stirring" {
			_ = m.rig.StopStirring(ctx) // whatever a measurement left running
		}
		e.s.Status, e.s.UpdatedAt = Aborted, m.stamp()
	}
	return e.view(), nil
}

func (e *entry) view() View {
	v := View{Session: e.s}
	v.Session.Data = cloneMap(e.s.Data)
	if e.s.Status == InProgress || e.s.Status == Complete {
		v.Step = e.p.step(&e.s)
	}
	return v
}

func cloneMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// save writes the calibration (and makes it active) when the user asked to; either way the
// session is complete with the calibration as its result.
func (m *Manager) save(s *Session, device string, c calibration.Calibration, in Inputs) error {
	keep, err := in.Bool("save", true)
	if err != nil {
		return err
	}
	active, err := in.Bool("set_active", true)
	if err != nil {
		return err
	}
	if name, err := in.String("calibration_name", ""); err != nil {
		return err
	} else if name != "" {
		if err := calibration.ValidName(name); err != nil {
			return fmt.Errorf("%w: calibration_name: %v", ErrBadInput, err)
		}
		c.Name = name
	}
	if keep {
		if _, err := m.cals.Save(device, c); err != nil {
			return fmt.Errorf("save the calibration: %w", err)
		}
		if active {
			if err := m.cals.SetActive(device, c.Name); err != nil {
				return fmt.Errorf("make the calibration active: %w", err)
			}
		}
	}
	s.Status, s.StepID, s.Result = Complete, "complete", c
	s.Data["saved"], s.Data["active"] = keep, keep && active
	return nil
}
