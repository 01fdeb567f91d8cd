package ingest_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pioreactor/pioreactord/pkg/clock"
	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/ingest"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
	"github.com/pioreactor/pioreactord/pkg/store"
)

// now is the leader's clock in the tests: rows without a payload timestamp get it.
var now = time.Date(2026, 3, 1, 12, 0, 10, 0, time.UTC)

type fixedClock struct{}

func (fixedClock) Now() time.Time                                   { return now }
func (fixedClock) Sleep(ctx context.Context, _ time.Duration) error { return ctx.Err() }
func (fixedClock) NewTicker(d time.Duration) clock.Ticker           { return clock.Real{}.NewTicker(d) }

// ts is the payload timestamp of the golden messages.
const ts = "2026-03-01T12:00:05.123Z"

var at = time.Date(2026, 3, 1, 12, 0, 5, 123e6, time.UTC)

// rig is a running Ingester on an in-memory bus with its store. Create it inside a
// synctest bubble.
type rig struct {
	t     *testing.T
	bus   *pubsub.Bus
	db    *store.DB
	in    *ingest.Ingester
	pub   pubsub.Client
	stop  context.CancelFunc
	done  chan error
	dbDir string
}

func newRig(t *testing.T, before func(pub pubsub.Client)) *rig {
	t.Helper()
	return newRigWith(t, before, nil)
}

// newRigWith is newRig with setup run on the Ingester before Run.
func newRigWith(t *testing.T, before func(pub pubsub.Client), setup func(*ingest.Ingester)) *rig {
	t.Helper()
	r := &rig{t: t, bus: pubsub.NewBus(), done: make(chan error, 1), dbDir: t.TempDir()}
	var err error
	if r.db, err = store.Open(filepath.Join(r.dbDir, "leader.db"), store.Options{}); err != nil {
		t.Fatal(err)
	}
	if r.pub, err = r.bus.Dial(context.Background(), pubsub.Options{ClientID: "worker"}); err != nil {
		t.Fatal(err)
	}
	if before != nil {
		before(r.pub)
	}
	r.in, err = ingest.New(ingest.Config{Dialer: r.bus, Store: r.db, Leader: "leader", Clock: fixedClock{}})
	if err != nil {
		t.Fatal(err)
	}
	if setup != nil {
		setup(r.in)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.stop = cancel
	go func() { r.done <- r.in.Run(ctx) }()
	synctest.Wait()
	t.Cleanup(func() {
		r.shutdown()
		r.pub.Close()
		if err := r.db.Close(); err != nil {
			t.Error(err)
		}
	})
	return r
}

func (r *rig) shutdown() {
	if r.stop == nil {
		return
	}
	r.stop()
	r.stop = nil
	if err := <-r.done; err != nil {
		r.t.Errorf("Run: %v", err)
	}
}

func (r *rig) publish(topic, payload string) {
	r.t.Helper()
	if err := r.pub.Publish(context.Background(), topic, []byte(payload), 1, false); err != nil {
		r.t.Fatal(err)
	}
}

// settle lets every delivery and the writer's batch delay run out.
func (r *rig) settle() {
	synctest.Wait()
	time.Sleep(time.Second)
	synctest.Wait()
}

func (r *rig) rows(table store.Table) []store.Row {
	r.t.Helper()
	var out []store.Row
	it := r.db.Rows(store.Query{Table: table})
	for it.Next() {
		out = append(out, *it.Row())
	}
	if err := it.Err(); err != nil {
		r.t.Fatal(err)
	}
	return out
}

func topic(rest ...string) string { return contract.Topic("pio01", "exp1", rest...) }

// golden is one message per mapped topic and the row it must become.
var golden = []struct {
	topic, payload string
	want           store.Row
}{
	{topic("od_reading", "od2"),
		`{"calibrated":1,"timestamp":"` + ts + `","angle":"90","od":0.41,"channel":"2","ir_led_intensity":80.0,"calibration_name":"od90-std"}`,
		store.Row{Table: store.ODReadings, Channel: "2", Angle: 90, Value: 0.41}},
	{topic("od_reading", "raw_od1"),
		`{"calibrated":0,"timestamp":"2026-03-01T12:00:05.123456Z","angle":"135","od":0.0312,"channel":"1","ir_led_intensity":80.0}`,
		store.Row{Table: store.RawODReadings, Channel: "1", Value: 0.0312}},
	{topic("od_reading", "od_fused"), `{"od_fused":0.7,"timestamp":"` + ts + `"}`,
		store.Row{Table: store.ODReadingsFused, Value: 0.7}},
	{topic("od_reading", "relative_intensity_of_ir_led"), `{"relative_intensity_of_ir_led":0.98,"timestamp":"` + ts + `"}`,
		store.Row{Table: store.IRLEDIntensities, Value: 0.98}},
	{topic("growth_rate_calculating", "od_filtered"), `{"od_filtered":1.37,"timestamp":"` + ts + `"}`,
		store.Row{Table: store.ODReadingsFiltered, Value: 1.37}},
	{topic("growth_rate_calculating", "growth_rate"), `{"growth_rate":0.213,"timestamp":"2026-03-01T07:00:05.123-05:00"}`,
		store.Row{Table: store.GrowthRates, Value: 0.213}},
	{topic("temperature_automation", "temperature"), `{"timestamp":"` + ts + `","temperature":30.1}`,
		store.Row{Table: store.TemperatureReadings, Value: 30.1}},
	{topic("stirring", "measured_rpm"), `{"measured_rpm":498.2,"timestamp":"` + ts + `"}`,
		store.Row{Table: store.StirringRates, Value: 498.2}},
	{topic("dosing_events"), `{"volume_change":-0.5,"event":"remove_waste","source_of_event":"turbidostat","timestamp":"` + ts + `"}`,
		store.Row{Table: store.DosingEvents, Event: "remove_waste", Value: -0.5, Source: "turbidostat"}},
	{topic("led_change_events"), `{"channel":"B","intensity":50.0,"source_of_event":null,"timestamp":"` + ts + `"}`,
		store.Row{Table: store.LEDChangeEvents, Channel: "B", Value: 50}},
	{topic("bioreactor", "alt_media_fraction"), `0.25`,
		store.Row{Table: store.AltMediaFractions, Value: 0.25, Time: now}},
	{topic("bioreactor", "current_volume_ml"), ` 13.5 `,
		store.Row{Table: store.LiquidVolumes, Value: 13.5, Time: now}},
	{topic("logs", "app", "notice"), `{"source":"app","task":"stirring","message":"Updated target_rpm.","level":"notice","timestamp":"` + ts + `","taskName":null}`,
		store.Row{Table: store.Logs, Level: "NOTICE", Message: "Updated target_rpm.", Task: "stirring", Source: "app"}},
	{topic("logs", "ui", "info"), `{"source":"plugin_x","task":"","message":"hi","level":"INFO","timestamp":"` + ts + `"}`,
		store.Row{Table: store.Logs, Level: "INFO", Message: "hi", Source: "plugin_x"}},
	{topic("dosing_automation", "dosing_automation_settings"),
		`{"pioreactor_unit":"pio01","experiment":"exp1","started_at":"` + ts + `","ended_at":"2026-03-01T13:00:00.000Z","automation_name":"chemostat","settings":"eyJkdXJhdGlvbiI6MjAuMH0="}`,
		store.Row{Table: store.DosingAutomationSettings, Event: "chemostat", Data: "eyJkdXJhdGlvbiI6MjAuMH0=",
			EndedAt: time.Date(2026, 3, 1, 13, 0, 0, 0, time.UTC)}},
	{topic("led_automation", "led_automation_settings"),
		`{"pioreactor_unit":"pio01","experiment":"exp1","started_at":"` + ts + `","ended_at":null,"automation_name":"light_dark_cycle","settings":"e30="}`,
		store.Row{Table: store.LEDAutomationSettings, Event: "light_dark_cycle", Data: "e30="}},
	{topic("temperature_automation", "temperature_automation_settings"),
		`{"pioreactor_unit":"pio01","experiment":"exp1","started_at":"` + ts + `","ended_at":null,"automation_name":"thermostat","settings":"e30="}`,
		store.Row{Table: store.TemperatureAutomationSettings, Event: "thermostat", Data: "e30="}},
	{topic("dosing_automation", "latest_event"), `{"event_name":"DilutionEvent","message":"exchanged","data":{"volume": 1.0}}`,
		store.Row{Table: store.DosingAutomationEvents, Event: "DilutionEvent", Message: "exchanged", Data: `{"volume":1.0}`, Time: now}},
	{topic("led_automation", "latest_event"), `{"event_name":"NoEvent","message":null,"data":null}`,
		store.Row{Table: store.LEDAutomationEvents, Event: "NoEvent", Time: now}},
	{topic("temperature_automation", "latest_event"), `{"event_name":"UpdatedHeaterDC","message":"delta_dc=3.28125","data":{"current_dc":null,"delta_dc":3.28125}}`,
		store.Row{Table: store.TemperatureAutomationEvents, Event: "UpdatedHeaterDC", Message: "delta_dc=3.28125",
			Data: `{"current_dc":null,"delta_dc":3.28125}`, Time: now}},
	{topic("pwms", "dc"), `{"17":35.0,"12":42.5,"4":9.0}`,
		store.Row{Table: store.PWMDCs, PWM: [5]float64{35, 0, 0, 42.5, 0}, Time: now}},
	{topic("od_blank", "mean", "1"), `{"calibrated":0,"timestamp":"` + ts + `","angle":"90","od":0.01,"channel":"1","ir_led_intensity":80.0}`,
		store.Row{Table: store.ODBlanks, Channel: "1", Angle: 90, Value: 0.01}},
	{topic("experiment_profile", "12", "experiment_profile_name"), `demo_stirring.yaml`,
		store.Row{Table: store.ExperimentProfileRuns, Event: "demo_stirring.yaml", Time: now}},
	{topic("simulation", "truth"), `{"timestamp":"` + ts + `","od":0.42,"growth_rate_per_hour":0.61,"liquid_temperature_c":30.02,"heater_pcb_temperature_c":41.5,"volume_ml":15.0,"rpm":498.7,"alt_media_fraction":0.125}`,
		store.Row{Table: store.SimulationTruth, Truth: [store.TruthColumns]float64{0.42, 0.61, 30.02, 41.5, 15, 498.7, 0.125}}},
}

func TestEveryMappedTopicLandsInItsTable(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, nil)
		covered := map[store.Table]bool{}
		for _, g := range golden {
			r.publish(g.topic, g.payload)
		}
		r.settle()
		for _, g := range golden {
			want := g.want
			want.Experiment, want.Unit = "exp1", "pio01"
			if want.Time.IsZero() {
				want.Time = at
			}
			covered[want.Table] = true
			var found bool
			for _, got := range r.rows(want.Table) {
				found = found || reflect.DeepEqual(got, want)
			}
			if !found {
				t.Errorf("%s\n  stored %+v\n  want   %+v", g.topic, r.rows(want.Table), want)
			}
		}
		for _, tb := range store.Tables() {
			if !covered[tb] {
				t.Errorf("no golden message for table %s", tb)
			}
		}
		if st := r.in.Stats(); st.Inserted != int64(len(golden)) || st.Malformed != 0 {
			t.Errorf("stats = %+v, want %d inserted", st, len(golden))
		}
	})
}

func TestSkippedMessages(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		good := `{"growth_rate":0.2,"timestamp":"` + ts + `"}`
		r := newRig(t, func(pub pubsub.Client) {
			// retained before the streamer subscribes: it arrives flagged retained
			_ = pub.Publish(context.Background(), topic("growth_rate_calculating", "growth_rate"), []byte(good), 2, true)
		})
		r.publish(contract.Topic("pio01", "_testing_exp1", "growth_rate_calculating", "growth_rate"), good)
		r.publish(topic("growth_rate_calculating", "growth_rate"), "")
		malformed := []struct{ topic, payload string }{
			{topic("growth_rate_calculating", "growth_rate"), `{"growth_rate":0.2`},
			{topic("growth_rate_calculating", "growth_rate"), `{"growth_rate":"fast","timestamp":"` + ts + `"}`},
			{topic("growth_rate_calculating", "growth_rate"), `{"growth_rate":0.2}`},
			{topic("growth_rate_calculating", "growth_rate"), `{"growth_rate":0.2,"timestamp":"yesterday"}`},
			{topic("od_reading", "od1"), `{"timestamp":"` + ts + `","angle":"90","od":0.1,"channel":"7"}`},
			{topic("od_reading", "od1"), `{"timestamp":"` + ts + `","angle":"wide","od":0.1,"channel":"1"}`},
			{topic("od_reading", "od1"), `[1,2,3]`},
			{topic("dosing_events"), `{"volume_change":1,"timestamp":"` + ts + `"}`},
			{topic("dosing_events"), `{"volume_change":1e308,"event":"remove_waste","timestamp":"` + ts + `"}`},
			{topic("dosing_events"), `{"volume_change":-5,"event":"add_media","timestamp":"` + ts + `"}`},
			{topic("led_change_events"), `{"channel":"Z","intensity":1,"timestamp":"` + ts + `"}`},
			{topic("bioreactor", "current_volume_ml"), `lots`},
			{topic("bioreactor", "current_volume_ml"), `NaN`},
			{topic("logs", "app", "info"), `{"level":"INFO"}`},
			{topic("dosing_automation", "latest_event"), `{"message":"no name"}`},
			{topic("dosing_automation", "dosing_automation_settings"), `{"automation_name":"x","settings":"e30="}`},
			{topic("pwms", "dc"), `{"17":"high"}`},
		}
		for _, m := range malformed {
			r.publish(m.topic, m.payload)
		}
		r.publish(topic("growth_rate_calculating", "growth_rate"), good) // still stored after all that
		r.settle()
		st := r.in.Stats()
		want := ingest.Stats{Received: int64(len(malformed)) + 4, Inserted: 1, Retained: 1, Empty: 1, Testing: 1,
			Malformed: int64(len(malformed))}
		if st != want {
			t.Errorf("stats = %+v\nwant    %+v", st, want)
		}
		if rows := r.rows(store.GrowthRates); len(rows) != 1 {
			t.Errorf("%d growth rate rows, want 1", len(rows))
		}
	})
}

func TestStateAndReplays(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, nil)
		if v, _ := r.bus.Retained(ingest.StateTopic("leader")); string(v) != "ready" {
			t.Errorf("$state = %q, want ready", v)
		}
		var mu sync.Mutex
		var acks []ingest.Ack
		err := r.pub.Subscribe(context.Background(), ingest.AckTopic("pio01"), 1, func(m pubsub.Message) {
			var a ingest.Ack
			if err := json.Unmarshal(m.Payload, &a); err != nil {
				t.Errorf("ack %s: %v", m.Payload, err)
			}
			mu.Lock()
			acks = append(acks, a)
			mu.Unlock()
		})
		if err != nil {
			t.Fatal(err)
		}
		live := golden[0] // an OD reading that also arrives live
		r.publish(live.topic, live.payload)
		r.settle()
		published := contract.Timestamp(time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC))
		batch := ingest.Replay{Batch: 7, Messages: []ingest.ReplayMessage{
			{Topic: live.topic, Payload: []byte(live.payload), PublishedAt: published},
			{Topic: topic("bioreactor", "current_volume_ml"), Payload: []byte("12.0"), PublishedAt: published},
			{Topic: topic("growth_rate_calculating", "growth_rate"), Payload: []byte("{"), PublishedAt: published},
			{Topic: contract.Topic("pio01", "_testing_x", "dosing_events"), Payload: []byte("{}"), PublishedAt: published},
		}}
		for range 2 { // the second copy changes nothing but is acknowledged again
			r.publish(ingest.ReplayTopic("pio01"), string(contract.Marshal(batch)))
			r.settle()
		}
		mu.Lock()
		got := append([]ingest.Ack(nil), acks...)
		mu.Unlock()
		want := []ingest.Ack{{Batch: 7, Inserted: 1, Duplicates: 1, Skipped: 2}, {Batch: 7, Duplicates: 2, Skipped: 2}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("acks = %+v, want %+v", got, want)
		}
		if rows := r.rows(store.ODReadings); len(rows) != 1 {
			t.Errorf("%d OD rows after a live copy and two replays, want 1", len(rows))
		}
		vol := r.rows(store.LiquidVolumes)
		if len(vol) != 1 || !vol[0].Time.Equal(published.Time()) {
			t.Errorf("volume rows = %+v, want one at the replay's published_at", vol)
		}
		r.shutdown()
		if v, _ := r.bus.Retained(ingest.StateTopic("leader")); string(v) != "disconnected" {
			t.Errorf("$state after stop = %q, want disconnected", v)
		}
	})
}

func TestTopicClassification(t *testing.T) {
	t.Parallel()
	tests := []struct {
		topic             string
		stored, timestamp bool
	}{
		{"pioreactor/pio01/exp1/od_reading/od1", true, true},
		{"pioreactor/pio01/exp1/od_reading/ods", false, false},
		{"pioreactor/pio01/exp1/od_reading/$state", false, false},
		{"pioreactor/pio01/exp1/logs/app/info", true, true},
		{"pioreactor/pio01/exp1/bioreactor/current_volume_ml", true, false},
		{"pioreactor/pio01/exp1/bioreactor/efflux_tube_volume_ml", false, false},
		{"pioreactor/pio01/exp1/dosing_automation/latest_event", true, false},
		{"pioreactor/pio01/exp1/dosing_automation/dosing_automation_settings", true, true},
		{"pioreactor/pio01/exp1/dosing_automation/led_automation_settings", false, false},
		{"pioreactor/pio01/_testing_exp1/od_reading/od1", false, true},
		{"pioreactor/pio01/exp1/stirring/target_rpm", false, false},
		{"other/pio01/exp1/od_reading/od1", false, false},
	}
	for _, tt := range tests {
		if got := ingest.Stored(tt.topic); got != tt.stored {
			t.Errorf("Stored(%s) = %t", tt.topic, got)
		}
		if got := ingest.Timestamped(tt.topic); got != tt.timestamp {
			t.Errorf("Timestamped(%s) = %t", tt.topic, got)
		}
	}
	// every filter maps to something, and every filter is a valid MQTT filter
	for _, f := range ingest.Filters() {
		probe := f
		for _, r := range []struct{ from, to string }{{"#", "info"}, {"+", "1"}} {
			probe = replaceAll(probe, r.from, r.to)
		}
		if !ingest.Stored(probe) {
			t.Errorf("filter %s (probe %s) is not stored", f, probe)
		}
	}
}

func replaceAll(s, old, new string) string {
	out := ""
	for i := 0; i < len(s); i++ {
		if s[i:i+1] == old {
			out += new
		} else {
			out += s[i : i+1]
		}
	}
	return out
}

func TestNewRefusesBadConfig(t *testing.T) {
	t.Parallel()
	bus := pubsub.NewBus()
	db, err := store.Open(filepath.Join(t.TempDir(), "x.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, cfg := range []ingest.Config{
		{Store: db, Leader: "l"},
		{Dialer: bus, Leader: "l"},
		{Dialer: bus, Store: db},
		{Dialer: bus, Store: db, Leader: "l", QoS: 3},
	} {
		if _, err := ingest.New(cfg); err == nil {
			t.Errorf("New(%+v) succeeded", cfg)
		}
	}
}
