package api

import (
	"context"
	"fmt"
	"maps"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/pioreactor/pioreactord/pkg/contract"
)

// BioreactorStore keeps a unit's vessel variables per experiment (docs/data.md, "Unit caches",
// namespace `bioreactor`). Values returns only what was stored.
type BioreactorStore interface {
	BioreactorValues(experiment string) (map[string]float64, error)
	SetBioreactorValues(experiment string, values map[string]float64) error
}

// bioreactorVar is one canonical vessel variable: its [bioreactor] key, fallback, and
// whether the model's capacity caps it.
type bioreactorVar struct {
	name, configKey string
	fallback        float64
	capped          bool
}

var bioreactorVars = []bioreactorVar{
	{"current_volume_ml", "initial_volume_ml", 14, true},
	{"efflux_tube_volume_ml", "efflux_tube_volume_ml", 14, true},
	{"alt_media_fraction", "initial_alt_media_fraction", 0, false},
	{"cumulative_media_added_ml", "initial_cumulative_media_added_ml", 0, false},
	{"cumulative_alt_media_added_ml", "initial_cumulative_alt_media_added_ml", 0, false},
	{"cumulative_waste_removed_ml", "initial_cumulative_waste_removed_ml", 0, false},
}

func checkBioreactorNames(values map[string]float64) error {
	for _, k := range slices.Sorted(maps.Keys(values)) {
		if !slices.ContainsFunc(bioreactorVars, func(v bioreactorVar) bool { return v.name == k }) {
			names := make([]string, len(bioreactorVars))
			for i, v := range bioreactorVars {
				names[i] = v.name
			}
			return httpError(http.StatusBadRequest, "Unknown bioreactor variable: "+k,
				"Known variables: "+strings.Join(names, ", ")+".", "")
		}
	}
	return nil
}

// bioreactorDefaults are the variables' starting values from [bioreactor], else fallbacks.
func (s *Server) bioreactorDefaults() map[string]float64 {
	out := make(map[string]float64, len(bioreactorVars))
	conf, _ := s.effectiveConfig()
	for _, v := range bioreactorVars {
		out[v.name] = v.fallback
		if conf != nil {
			if f, err := conf.Float("bioreactor", v.configKey, v.fallback); err == nil {
				out[v.name] = f
			}
		}
	}
	return out
}

func (s *Server) bioreactorCurrent(exp string) (map[string]float64, error) {
	stored, err := s.bioreactor.BioreactorValues(exp)
	if err != nil {
		return nil, internal("Could not read the bioreactor values.", err)
	}
	out := s.bioreactorDefaults()
	maps.Copy(out, stored)
	return out, nil
}

func (s *Server) bioreactorValues(c echo.Context) error {
	v, err := s.bioreactorCurrent(param(c, "exp"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"values": v})
}

// setBioreactorValues is PATCH /unit_api/bioreactor/experiments/:exp: validate every value,
// store them, then announce each retained and log the change.
func (s *Server) setBioreactorValues(c echo.Context) error {
	exp := param(c, "exp")
	var b bioreactorBody
	if err := decodeBody(c, &b, decodeOpts{}); err != nil {
		return err
	}
	if len(b.Values) == 0 {
		return httpError(http.StatusBadRequest, "No bioreactor values given.", "values is empty.",
			`Send {"values": {"current_volume_ml": 12.5}}.`)
	}
	if err := checkBioreactorNames(b.Values); err != nil {
		return err
	}
	if !topicSegment(exp) {
		return badTopic(exp)
	}
	capacity := 40.0
	if s.cfg.ModelCapacityML != nil {
		if c := s.cfg.ModelCapacityML(); c > 0 {
			capacity = c
		}
	}
	for _, v := range bioreactorVars {
		x, ok := b.Values[v.name]
		if !ok {
			continue
		}
		switch {
		case math.IsNaN(x) || x < 0:
			return httpError(http.StatusBadRequest, fmt.Sprintf("%s must be a non-negative number.", v.name),
				fmt.Sprintf("%s = %g is out of range.", v.name, x), "")
		case v.capped && x > capacity:
			return httpError(http.StatusBadRequest, fmt.Sprintf("%s cannot exceed the reactor capacity of %g mL.", v.name, capacity),
				fmt.Sprintf("%s = %g is out of range.", v.name, x), "")
		case v.name == "alt_media_fraction" && x > 1:
			return httpError(http.StatusBadRequest, "alt_media_fraction must be between 0 and 1.",
				fmt.Sprintf("alt_media_fraction = %g is out of range.", x), "")
		}
	}
	before, err := s.bioreactorCurrent(exp)
	if err != nil {
		return err
	}
	if err := s.bioreactor.SetBioreactorValues(exp, b.Values); err != nil {
		return internal("Could not store the bioreactor values.", err)
	}
	ctx := c.Request().Context()
	unit := s.cfg.Unit.Name()
	for _, v := range bioreactorVars {
		x, ok := b.Values[v.name]
		if !ok || s.cfg.Publisher == nil {
			continue
		}
		payload, _ := contract.Encode(x)
		if err := s.unitPublish(ctx, contract.Topic(unit, exp, "bioreactor", v.name), payload, qosExactlyOnce, true); err != nil {
			s.log.Warn("announce bioreactor value", "variable", v.name, "err", err)
		}
		unitWord := " mL"
		if !strings.HasSuffix(v.name, "_ml") {
			unitWord = ""
		}
		msg := fmt.Sprintf("Updated %s from %s%s to %s%s.", v.name, contract.FormatFloat(before[v.name]), unitWord,
			contract.FormatFloat(x), unitWord)
		log := contract.Marshal(contract.Log{Message: msg, Level: "INFO", Task: "bioreactor", Source: contract.SourceApp,
			Timestamp: contract.Timestamp(s.now())})
		if err := s.unitPublish(ctx, contract.LogTopic(unit, exp, contract.SourceApp, "info"), log, qosExactlyOnce, false); err != nil {
			s.log.Warn("publish log line", "err", err)
		}
	}
	return c.JSON(http.StatusOK, Status{"success"})
}

// memoryBioreactor is the BioreactorStore of a unit given none: values live as long as the
// daemon, and the retained messages outlive it on the broker.
type memoryBioreactor struct {
	mu sync.Mutex
	v  map[string]map[string]float64
}

func newMemoryBioreactor() *memoryBioreactor {
	return &memoryBioreactor{v: map[string]map[string]float64{}}
}

func (m *memoryBioreactor) BioreactorValues(exp string) (map[string]float64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.v[exp]), nil
}

func (m *memoryBioreactor) SetBioreactorValues(exp string, values map[string]float64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.v[exp] == nil {
		m.v[exp] = map[string]float64{}
	}
	maps.Copy(m.v[exp], values)
	return nil
}

// unitPublish sends one of this unit's own messages, waiting at most publishTimeout.
func (s *Server) unitPublish(ctx context.Context, topic string, payload []byte, qos byte, retain bool) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), publishTimeout)
	defer cancel()
	if err := s.cfg.Publisher.Publish(ctx, topic, payload, qos, retain); err != nil {
		return fmt.Errorf("publish %s: %w", topic, err)
	}
	return nil
}
