package profile

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
)

func TestLiveValuesReadRetainedSettingsOfTheUnitsExperiment(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bus := pubsub.NewBus()
	pub, _ := bus.Dial(ctx, pubsub.Options{})
	sub, _ := bus.Dial(ctx, pubsub.Options{})
	exp := "exp1"
	_ = pub.Publish(ctx, contract.AssignmentTopicFor("pio01"), contract.Marshal(contract.Assignment{PioreactorUnit: "pio01", Experiment: &exp}), 1, true)
	_ = pub.Publish(ctx, "pioreactor/pio01/exp1/stirring/target_rpm", []byte("400"), 1, true)
	v := NewLiveValues(sub)
	v.wait = 50 * time.Millisecond
	got, err := v.Setting(ctx, "pio01", "stirring", "target_rpm")
	if err != nil || string(got) != "400" {
		t.Fatalf("%s %v", got, err)
	}
	// later messages keep the value current
	_ = pub.Publish(ctx, "pioreactor/pio01/exp1/stirring/target_rpm", []byte("500"), 1, true)
	time.Sleep(10 * time.Millisecond)
	if got, _ := v.Setting(ctx, "pio01", "stirring", "target_rpm"); string(got) != "500" {
		t.Errorf("after an update: %s", got)
	}
	if _, err := v.Setting(ctx, "pio01", "stirring", "nothing"); !errors.Is(err, ErrNoValue) {
		t.Errorf("missing: %v", err)
	}
	if _, err := v.Setting(ctx, "pio02", "stirring", "target_rpm"); err == nil {
		t.Errorf("an unassigned unit answered")
	}
	// a cleared value no longer exists
	_ = pub.Publish(ctx, "pioreactor/pio01/exp1/stirring/target_rpm", nil, 1, true)
	time.Sleep(10 * time.Millisecond)
	if _, err := v.Setting(ctx, "pio01", "stirring", "target_rpm"); !errors.Is(err, ErrNoValue) {
		t.Errorf("cleared: %v", err)
	}
}
