package supervisor

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"

	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
)

// Support for one-shot actions with the light lifecycle (docs/mqtt.md, "Actions") and for jobs that
// hold an output only for part of their life (a dosing automation holds a pump for one dose).

// actionSeq numbers action instances, so each has its own key in Supervisor.running.
var actionSeq atomic.Uint64

// runningKey is the key an instance reserves in s.running: the job name, so a second start is
// refused; for an action a fresh key, so instances run side by side (no uniqueness check).
func (s *Supervisor) runningKey(spec Spec) string {
	if !spec.Action {
		return spec.Name
	}
	return spec.Name + "#" + strconv.FormatUint(actionSeq.Add(1), 10)
}

// StopOnAnyExperiment also honours `disconnected` sent to the job's $state/set under the
// experiment `$experiment` (unit or $broadcast), as actions do. Call it after Ready.
func (rt *Runtime) StopOnAnyExperiment(ctx context.Context) error {
	for _, unit := range []string{rt.unit, contract.Broadcast} {
		topic := contract.SetTopic(unit, contract.UniversalExp, rt.job, contract.StateAttr)
		if err := rt.conn.Subscribe(ctx, topic, pubsub.ExactlyOnce, rt.onSet); err != nil {
			return fmt.Errorf("subscribe to %s: %w", topic, err)
		}
	}
	return nil
}

// ReleasePWM switches a channel this job claimed to 0 and frees it for other jobs before the
// job ends. The handle PWM returned must not be used afterwards; claim the channel again.
// Releasing a channel the job does not hold does nothing.
func (rt *Runtime) ReleasePWM(channel string) error {
	rt.mu.Lock()
	held := false
	for i, ch := range rt.claimed {
		if ch == channel {
			rt.claimed = append(rt.claimed[:i:i], rt.claimed[i+1:]...)
			held = true
			break
		}
	}
	rt.mu.Unlock()
	if !held {
		return nil
	}
	b := rt.pwms
	err := b.outputs[channel].SetDutyCycle(0)
	b.record(channel, 0)
	b.mu.Lock()
	delete(b.owner, channel)
	b.mu.Unlock()
	rt.publishPWMs()
	if err != nil {
		return fmt.Errorf("switch PWM channel %s off: %w", channel, err)
	}
	return nil
}
