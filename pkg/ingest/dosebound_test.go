package ingest_test

import (
	"fmt"
	"testing"
	"testing/synctest"

	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/store"
)

// The store takes every dosing event the unit's book takes (up to contract.MaxDoseML) and
// small negative corrections, and refuses the rest.
func TestDosingVolumeBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, nil)
		for i, tc := range []struct {
			ml     float64
			stored bool
		}{
			{contract.MaxDoseML, true},
			{5000, true},
			{-1, true},
			{contract.MaxDoseML + 1, false},
			{-1.5, false},
		} {
			// A second apart: a copy of a timestamped event is dropped as a duplicate.
			stamp := fmt.Sprintf("2026-03-01T12:00:%02d.000000Z", i)
			r.publish(topic("dosing_events"), fmt.Sprintf(`{"volume_change":%v,"event":"add_media","timestamp":"%s"}`, tc.ml, stamp))
			r.settle()
			var found bool
			for _, row := range r.rows(store.DosingEvents) {
				found = found || row.Value == tc.ml
			}
			if found != tc.stored {
				t.Errorf("volume_change %v mL: stored %v, want %v", tc.ml, found, tc.stored)
			}
		}
	})
}
