package store

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// labelRecord is the stored value under experiment_data/<exp>/unit_labels/<unit>.
type labelRecord struct {
	Label     string `json:"label"`
	CreatedAt string `json:"created_at"`
}

// SetUnitLabel gives a unit a label within an experiment; "" removes the unit's label.
// Labels are unique per experiment, so a label held by another unit is taken from it
// (docs/http.md, "Experiments"). The unit need not be in the inventory (labels outlive workers), but the
// experiment must exist: ErrUnknownExperiment.
func (db *DB) SetUnitLabel(experiment, unit, label string) error {
	if unit == "" {
		return fmt.Errorf("set unit label in %s: %w", experiment, ErrEmptyName)
	}
	err := db.update(func(tx *bolt.Tx) error {
		if !experimentExists(tx, experiment) {
			return ErrUnknownExperiment
		}
		if label == "" {
			labels, err := experimentData(tx, experiment, bucketUnitLabels, false)
			if err != nil || labels == nil {
				return err
			}
			return labels.Delete([]byte(unit))
		}
		labels, err := experimentData(tx, experiment, bucketUnitLabels, true)
		if err != nil {
			return err
		}
		var holders [][]byte
		err = labels.ForEach(func(k, v []byte) error {
			var rec labelRecord
			if err := jsonUnmarshal(k, v, &rec); err != nil {
				return err
			}
			if rec.Label == label && string(k) != unit {
				holders = append(holders, append([]byte(nil), k...))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range holders {
			if err := labels.Delete(k); err != nil {
				return err
			}
		}
		// created_at is refreshed on every change: the row describes the current label.
		rec := labelRecord{Label: label, CreatedAt: formatTime(db.now())}
		return putJSON(labels, []byte(unit), rec)
	})
	if err != nil {
		return fmt.Errorf("set label of %s in %s: %w", unit, experiment, err)
	}
	return nil
}

// UnitLabels maps unit to label for one experiment (empty for an unknown experiment,
// which is what GET unit_labels answers).
func (db *DB) UnitLabels(experiment string) (map[string]string, error) {
	out := map[string]string{}
	err := db.view(func(tx *bolt.Tx) error {
		labels, err := experimentData(tx, experiment, bucketUnitLabels, false)
		if err != nil || labels == nil {
			return err
		}
		return labels.ForEach(func(k, v []byte) error {
			var rec labelRecord
			if err := jsonUnmarshal(k, v, &rec); err != nil {
				return err
			}
			out[string(k)] = rec.Label
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read unit labels of %s: %w", experiment, err)
	}
	return out, nil
}
