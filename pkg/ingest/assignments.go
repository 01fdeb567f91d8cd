package ingest

import (
	"context"
	"time"

	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
	"github.com/pioreactor/pioreactord/pkg/store"
)

// Assignments is implemented by a Store that also keeps the workers' assignments
// (*store.DB does): the streamer republishes them, retained, when it starts, since a
// restarted broker has forgotten them.
type Assignments interface {
	Assignments() ([]store.Assignment, error)
}

// announceAssignments republishes every current assignment, retained: the store is the
// truth, and a broker that restarted has lost its retained messages.
func (in *Ingester) announceAssignments(ctx context.Context, c pubsub.Client) {
	src, ok := in.cfg.Store.(Assignments)
	if !ok {
		return
	}
	as, err := src.Assignments()
	if err != nil {
		in.log.Warn("read assignments to republish", "err", err)
		return
	}
	now := contract.Timestamp(in.clock.Now())
	for _, a := range as {
		exp, at := a.Experiment, contract.Timestamp(a.AssignedAt)
		payload := contract.Marshal(contract.Assignment{PioreactorUnit: a.Unit, Experiment: &exp, AssignedAt: &at, UpdatedAt: now})
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := c.Publish(pctx, contract.AssignmentTopicFor(a.Unit), payload, pubsub.AtLeastOnce, true)
		cancel()
		if err != nil {
			in.log.Warn("republish assignment", "unit", a.Unit, "err", err)
		}
	}
}
