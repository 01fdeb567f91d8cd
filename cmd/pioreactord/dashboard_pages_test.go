package main

import (
	"context"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp/kb"

	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// The overview draws every unit's OD line from history, then keeps adding the live readings.
func TestDashboardOverviewODLinesGainPoints(t *testing.T) {
	chromiumPath(t) // skip (or fail under CI) before starting a daemon
	c := startCluster(t, "--units", "3", "--speed", "60", "--demo")
	b := newTab(t, c)
	b.open("/overview", "overview")
	units := []string{"pio01", "pio02", "pio03"}
	first := b.unitPoints("optical_density", units, nil)
	later := b.unitPoints("optical_density", units, first)
	t.Logf("OD points per unit: %v, then %v", first, later)
}

// The Pioreactors page controls jobs: start stirring and see it ready with its RPM, change
// the target RPM (retained on MQTT), pause, resume, stop; start a turbidostat through the
// automation form (its settings retained on MQTT); stop all activity.
func TestDashboardPioreactorsControls(t *testing.T) {
	chromiumPath(t) // skip (or fail under CI) before starting a daemon
	c := startCluster(t, "--units", "2", "--speed", "20")
	b := newTab(t, c)
	b.open("/pioreactors", "pioreactors")

	card := `article.unit-card[data-unit="pio01"]`
	stirring := css(card, `div.job[data-job="stirring"]`)
	inState := func(job, state string) string { return job + fmt.Sprintf(`[data-state=%q]`, state) }
	const topic = "pioreactor/pio01/demo/stirring"

	// Start: the state becomes ready and the measured RPM shows, with its unit.
	b.waitVisible(inState(stirring, "disconnected"))
	b.click(css(stirring, `button[data-action="start"]`))
	b.waitVisible(inState(stirring, "ready"))
	c.waitRetained(t, topic+"/$state", "ready")
	rpm := b.waitJS("the measured RPM", fmt.Sprintf(`(() => {
		const dd = document.querySelector(%s); if (!dd) return null;
		let v; try { v = JSON.parse(dd.getAttribute('data-value')); } catch { return null; }
		return v && v.measured_rpm > 0 && /\d\s*RPM/.test(dd.innerText) ? dd.innerText : null; })()`,
		jsString(css(stirring, `dd[data-setting="measured_rpm"]`))))
	t.Logf("measured RPM shown: %s", rpm)
	if got := b.attr(css(stirring, `dd[data-setting="target_rpm"]`), "data-value"); got == "" {
		t.Fatalf("no target RPM shown once stirring is ready")
	}

	// Change the target RPM in the page: the job retains the new value on MQTT.
	b.typeInto(css(stirring, `input[data-setting-input="target_rpm"]`), "650"+kb.Enter)
	c.waitRetained(t, topic+"/target_rpm", "650.0")
	b.waitVisible(css(stirring, `dd[data-setting="target_rpm"][data-value="650"]`))

	// Pause, resume, stop.
	b.click(css(stirring, `button[data-action="pause"]`))
	b.waitVisible(inState(stirring, "sleeping"))
	c.waitRetained(t, topic+"/$state", "sleeping")
	b.click(css(stirring, `button[data-action="resume"]`))
	b.waitVisible(inState(stirring, "ready"))
	c.waitRetained(t, topic+"/$state", "ready")
	b.click(css(stirring, `button[data-action="stop"]`))
	b.waitVisible(inState(stirring, "disconnected"))
	c.waitRetained(t, topic+"/$state", "disconnected")

	// A turbidostat on pio02, from the automation form.
	dosing := css(`article.unit-card[data-unit="pio02"]`, `div.job[data-job="dosing_automation"]`)
	form := css(dosing, `dialog[data-dialog="automation"][open]`)
	b.click(css(dosing, `button[data-action="start"]`))
	b.waitVisible(css(form, `select[name="automation_name"]`))
	b.choose(css(form, `select[name="automation_name"]`), "turbidostat", css(form, `input[name="target_biomass"]`))
	b.typeInto(css(form, `input[name="target_biomass"]`), "2.5")
	b.typeInto(css(form, `input[name="exchange_volume_ml"]`), "0.75")
	b.click(css(form, `button[type="submit"]`))
	b.waitVisible(inState(dosing, "ready"))
	const auto = "pioreactor/pio02/demo/dosing_automation"
	c.waitRetained(t, auto+"/$state", "ready")
	c.waitRetained(t, auto+"/automation_name", "turbidostat")
	c.waitRetained(t, auto+"/target_biomass", "2.5")
	c.waitRetained(t, auto+"/exchange_volume_ml", "0.75")
	b.waitVisible(css(dosing, `dd[data-setting="automation_name"][data-value="turbidostat"]`))
	b.waitVisible(css(dosing, `dd[data-setting="target_biomass"][data-value="2.5"]`))

	// Stop all activity asks first, then stops the automation.
	b.click(`button[data-action="stop-all"]`)
	b.click(`dialog[data-dialog="confirm"][open] button[data-action="confirm"]`)
	b.waitVisible(inState(dosing, "disconnected"))
	c.waitRetained(t, auto+"/$state", "disconnected")
}

// A job added to the job table shows on the Pioreactors page from its descriptor alone:
// its name, its settings with their units, start, an edit and stop.
func TestDashboardShowsAJobAddedToTheTable(t *testing.T) {
	chromiumPath(t) // skip (or fail under CI) before starting a daemon
	testJobs = []supervisor.Spec{aeratorSpec()}
	t.Cleanup(func() { testJobs = nil }) // runs after the daemon stopped (cleanups run last-in first-out)
	c := startCluster(t, "--units", "1", "--speed", "20")
	b := newTab(t, c)
	b.open("/pioreactors", "pioreactors")

	job := css(`article.unit-card[data-unit="pio01"]`, `div.job[data-job="aerator"]`)
	b.waitVisible(job + `[data-state="disconnected"]`)
	if name := b.eval(fmt.Sprintf(`document.querySelector(%s)?.innerText ?? ''`, jsString(css(job, ".name")))); name != "Test aerator" {
		t.Errorf("the job's name shows %q, want its descriptor's display name", name)
	}
	b.click(css(job, `button[data-action="start"]`))
	b.waitVisible(job + `[data-state="ready"]`)
	b.waitVisible(css(job, `dd[data-setting="bubble_rate"][data-value="2.5"]`))
	b.waitVisible(css(job, `dd[data-setting="valve"][data-value="open"]`))
	if text := b.eval(fmt.Sprintf(`document.querySelector(%s)?.innerText ?? ''`, jsString(css(job, `dd[data-setting="valve"]`)))); text != "open" {
		t.Errorf("valve shows %q, want open", text)
	}
	b.typeInto(css(job, `input[data-setting-input="bubble_rate"]`), "4"+kb.Enter)
	c.waitRetained(t, "pioreactor/pio01/demo/aerator/bubble_rate", "4.0")
	b.waitVisible(css(job, `dd[data-setting="bubble_rate"][data-value="4"]`))
	b.click(css(job, `button[data-action="stop"]`))
	b.waitVisible(job + `[data-state="disconnected"]`)
}

// aeratorSpec is a job no UI code knows: two published settings, one editable.
func aeratorSpec() supervisor.Spec {
	settings := []supervisor.Setting{
		{Name: "bubble_rate", Datatype: contract.Float, Unit: "Hz", Settable: true, Display: true,
			Label: "Bubble rate", Description: "Bubbles a second."},
		{Name: "valve", Datatype: contract.String, Display: true, Label: "Valve", Description: "The air valve."},
	}
	return supervisor.Spec{
		Name: "aerator",
		New:  func(supervisor.Options) (supervisor.Job, error) { return aerator{settings}, nil },
		UI:   &supervisor.UI{DisplayName: "Test aerator", Description: "A job only the tests have.", Settings: settings},
	}
}

type aerator struct{ settings []supervisor.Setting }

func (a aerator) Run(ctx context.Context, rt *supervisor.Runtime) error {
	if err := rt.Declare(a.settings...); err != nil {
		return err
	}
	if err := rt.Set(ctx, "bubble_rate", 2.5); err != nil {
		return err
	}
	if err := rt.Set(ctx, "valve", "open"); err != nil {
		return err
	}
	if err := rt.Ready(ctx); err != nil {
		return err
	}
	return rt.Serve(ctx)
}
