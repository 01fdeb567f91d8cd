package profile

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
)

// Subscriber is the part of an MQTT connection live values need.
type Subscriber interface {
	Subscribe(ctx context.Context, filter string, qos byte, h pubsub.Handler) error
}

// retainedWait bounds the wait for a retained message after subscribing. It is wall time: it
// waits for the broker, not for the experiment.
const retainedWait = 2 * time.Second

// LiveValues reads retained settings over MQTT. Each topic is subscribed once and then kept
// current by its messages, so repeated checks of a condition cost nothing.
type LiveValues struct {
	sub Subscriber
	// wait bounds the wait for a retained message after subscribing (retainedWait).
	wait time.Duration
	mu   sync.Mutex
	// topics maps a subscribed topic to its latest payload (nil: none retained).
	topics  map[string][]byte
	arrived map[string]chan struct{}
}

// NewLiveValues reads values through sub.
func NewLiveValues(sub Subscriber) *LiveValues {
	return &LiveValues{sub: sub, wait: retainedWait, topics: map[string][]byte{}, arrived: map[string]chan struct{}{}}
}

// Setting implements Values: the unit's assignment gives the experiment of the topic.
func (v *LiveValues) Setting(ctx context.Context, unit, job, setting string) ([]byte, error) {
	raw, err := v.retained(ctx, contract.AssignmentTopicFor(unit))
	if err != nil {
		return nil, fmt.Errorf("%s is not assigned to an experiment: %w", unit, err)
	}
	var a contract.Assignment
	if err := json.Unmarshal(raw, &a); err != nil || a.Experiment == nil || *a.Experiment == "" {
		return nil, fmt.Errorf("%s is not assigned to an experiment", unit)
	}
	topic := contract.JobTopic(unit, *a.Experiment, job, setting)
	payload, err := v.retained(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", topic, err)
	}
	return payload, nil
}

func (v *LiveValues) retained(ctx context.Context, topic string) ([]byte, error) {
	v.mu.Lock()
	payload, subscribed := v.topics[topic]
	arrived := v.arrived[topic]
	if !subscribed {
		arrived = make(chan struct{})
		v.topics[topic], v.arrived[topic] = nil, arrived
	}
	v.mu.Unlock()
	if !subscribed {
		var once sync.Once
		err := v.sub.Subscribe(ctx, topic, pubsub.AtLeastOnce, func(m pubsub.Message) {
			v.mu.Lock()
			if len(m.Payload) == 0 {
				v.topics[topic] = nil // cleared
			} else {
				v.topics[topic] = append([]byte(nil), m.Payload...)
			}
			v.mu.Unlock()
			once.Do(func() { close(arrived) })
		})
		if err != nil {
			v.mu.Lock()
			delete(v.topics, topic)
			delete(v.arrived, topic)
			v.mu.Unlock()
			return nil, fmt.Errorf("subscribe to %s: %w", topic, err)
		}
		wait, cancel := context.WithTimeout(ctx, v.wait)
		defer cancel()
		select {
		case <-arrived:
		case <-wait.Done():
		}
		v.mu.Lock()
		payload = v.topics[topic]
		v.mu.Unlock()
	}
	if payload == nil {
		return nil, ErrNoValue
	}
	return payload, nil
}
