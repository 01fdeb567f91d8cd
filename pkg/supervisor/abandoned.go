package supervisor

import (
	"context"

	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
)

// A start abandoned during its connect may still have reached the broker: a frozen broker
// reads the CONNECT when it wakes, sees the connection gone and publishes its last will,
// `lost`, for a job that never ran. The supervisor remembers the $state topics of such
// starts and answers a `lost` on one of them, while no instance of that job runs, with the
// truth: `disconnected`.

// abandon remembers the $state topic of a start whose connect failed.
func (s *Supervisor) abandon(topic string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.abandoned[topic] = struct{}{}
}

// connected forgets topic: an instance connected with this will is now the truth.
func (s *Supervisor) connected(topic string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.abandoned, topic)
}

// correctWills is the handler of the unit's $state topics.
func (s *Supervisor) correctWills(conn pubsub.Client) pubsub.Handler {
	return func(m pubsub.Message) {
		if State(m.Payload) != Lost || !s.wasAbandoned(m.Topic) {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), publishTimeout)
		defer cancel()
		if err := conn.Publish(ctx, m.Topic, []byte(Disconnected), pubsub.ExactlyOnce, true); err != nil {
			s.cfg.Log.Warn("could not correct the last will of an abandoned start", "topic", m.Topic, "err", err)
			return
		}
		s.connected(m.Topic)
		s.cfg.Log.Info("corrected the last will of a start abandoned while connecting", "topic", m.Topic)
	}
}

// wasAbandoned: topic belongs to an abandoned start, and no instance of its job runs now.
func (s *Supervisor) wasAbandoned(topic string) bool {
	p, ok := contract.Parse(topic)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, gone := s.abandoned[topic]; !gone || !ok {
		return false
	}
	for _, in := range s.running {
		if in.spec.Name == p.Job && in.rt.experiment == p.Experiment {
			return false
		}
	}
	return true
}
