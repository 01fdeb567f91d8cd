package jobs

import "github.com/pioreactor/pioreactord/pkg/calibration"

// Dosing is what the pump actions, the dosing automation and the bioreactor projection of one
// unit share. The daemon builds one per unit with NewDosing and passes it to their Specs.
type Dosing struct {
	// Calibrations holds the active pump calibrations; nil means no pump is calibrated.
	Calibrations *calibration.Store
	// Bioreactor is the unit's bioreactor book (volume, alt-media fraction, cumulatives).
	Bioreactor *Bioreactor
	// Estimators is the unit's estimator folder (ODDeps.Estimators): an active od_fused
	// estimator makes the turbidostat's auto signal od_fused. "" has none.
	Estimators string
}

// NewDosing opens the unit's calibration folder (<data-dir>/<unit>/calibrations) and its
// bioreactor book in the unit cache at cacheDir ("" keeps the book in memory). vessel is the
// unit's model now, asked at every check (NewBioreactor); nil is the 40 ml model.
func NewDosing(calibrationDir, cacheDir string, vessel func() Vessel) (*Dosing, error) {
	store, err := calibration.Open(calibrationDir)
	if err != nil {
		return nil, err
	}
	return &Dosing{Calibrations: store, Bioreactor: NewBioreactor(cacheDir, vessel)}, nil
}
