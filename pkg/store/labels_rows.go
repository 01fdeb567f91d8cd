package store

import (
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// UnitLabel is one row of pioreactor_unit_labels, for exports.
type UnitLabel struct {
	Experiment string
	Unit       string
	Label      string
	CreatedAt  time.Time
}

// UnitLabelRows lists the labels of an experiment with their created_at, by unit name
// (none for an unknown experiment).
func (db *DB) UnitLabelRows(experiment string) ([]UnitLabel, error) {
	var out []UnitLabel
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
			t, err := parseTime(rec.CreatedAt)
			if err != nil {
				return err
			}
			out = append(out, UnitLabel{Experiment: experiment, Unit: string(k), Label: rec.Label, CreatedAt: t})
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read unit labels of %s: %w", experiment, err)
	}
	return out, nil
}
