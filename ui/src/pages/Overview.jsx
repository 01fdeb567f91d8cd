// The experiment overview: the experiment's card, the enabled charts, the time controls and
// the dosing, profile and event-log cards.
import { useEffect, useState } from 'preact/hooks';
import { get, patch, enc } from '../lib/api.js';
import { section, flag } from '../lib/config.js';
import { experiment, refreshExperiment } from '../lib/experiment.js';
import { useExperimentUnits } from '../lib/units.js';
import { TIME_WINDOWS, timeWindow, setTimeWindow, timeScale, setTimeScale, formatElapsed, parseUTC } from '../lib/format.js';
import { Chart } from '../components/Chart.jsx';
import { Dialog, ErrorLine, useAsync } from '../components/ui.jsx';
import { DosingCard, ProfilesCard, EventLogCard } from '../components/OverviewCards.jsx';

export default function Overview() {
  const exp = experiment.value;
  if (!exp) {
    return (
      <section class="page" data-page="overview">
        <h1>No experiment yet</h1>
        <p><a href="/start-new-experiment">Start a new experiment</a> to begin.</p>
      </section>
    );
  }
  return <ExperimentOverview exp={exp} />;
}

function ExperimentOverview({ exp }) {
  const name = exp.experiment;
  const { units, labels, loaded } = useExperimentUnits(name);
  const descriptors = useAsync(() => get('/api/charts/descriptors'), []);
  const enabled = section('ui.overview.charts');
  const cards = section('ui.overview.cards');
  const scale = timeScale.value || (section('ui.overview.settings').time_display_mode === 'clock_time' ? 'clock_time' : 'hours');
  const charts = (descriptors.data || []).filter((d) => flag(enabled[d.chart_key]));
  const showCard = (k) => cards[k] === undefined || flag(cards[k]);
  return (
    <section class="page" data-page="overview">
      <ExperimentCard exp={exp} />
      {loaded && units.length === 0 && (
        <p class="card">No Pioreactor is assigned to this experiment. <a href="/pioreactors">Assign Pioreactors</a> to start collecting data.</p>
      )}
      <div class="page-head">
        <div class="toggle" role="group" aria-label="Time window">
          {TIME_WINDOWS.map((w) => (
            <button type="button" key={w.hours} aria-pressed={timeWindow.value === w.hours} onClick={() => setTimeWindow(w.hours)}>{w.label}</button>
          ))}
        </div>
        <div class="toggle" role="group" aria-label="Time axis">
          <button type="button" aria-pressed={scale === 'hours'} onClick={() => setTimeScale('hours')}>Elapsed time</button>
          <button type="button" aria-pressed={scale === 'clock_time'} onClick={() => setTimeScale('clock_time')}>Timestamp</button>
        </div>
      </div>
      <ErrorLine error={descriptors.error} />
      <div class="two-col">
        <div class="grid charts">
          {loaded && charts.map((d) => (
            <Chart key={`${d.chart_key}-${timeWindow.value}-${scale}`} descriptor={d} experiment={name} createdAt={exp.created_at}
              units={units} labels={labels} lookbackHours={timeWindow.value} scale={scale} />
          ))}
        </div>
        <aside>
          {showCard('dosings') && <DosingCard exp={name} units={units} labels={labels} />}
          {showCard('profiles') && <ProfilesCard exp={name} />}
          {showCard('event_logs') && <EventLogCard exp={exp} labels={labels} scale={scale} />}
        </aside>
      </div>
    </section>
  );
}

function ExperimentCard({ exp }) {
  const [editing, setEditing] = useState(false);
  const [now, setNow] = useState(Date.now());
  useEffect(() => { const t = setInterval(() => setNow(Date.now()), 60000); return () => clearInterval(t); }, []);
  const created = parseUTC(exp.created_at);
  return (
    <section class="card experiment-card">
      <header>
        <h1 style="margin:0;margin-right:auto">{exp.experiment}</h1>
        <button type="button" onClick={() => setEditing(true)}>Edit</button>
      </header>
      <dl class="kv">
        <dt>Started</dt><dd>{new Date(created).toLocaleString()} ({formatElapsed((now - created) / 3600000)} ago)</dd>
        <dt>Description</dt><dd>{exp.description || <span class="muted">none</span>}</dd>
        {exp.tags?.length > 0 && <><dt>Tags</dt><dd>{exp.tags.map((t) => <span key={t} class="pill">{t}</span>)}</dd></>}
      </dl>
      <EditExperiment exp={exp} open={editing} onClose={() => setEditing(false)} />
    </section>
  );
}

export function EditExperiment({ exp, open, onClose }) {
  const [description, setDescription] = useState(exp.description || '');
  const [tags, setTags] = useState((exp.tags || []).join(', '));
  const [err, setErr] = useState(null);
  useEffect(() => { setDescription(exp.description || ''); setTags((exp.tags || []).join(', ')); setErr(null); }, [open, exp.experiment]);
  const save = async (ev) => {
    ev.preventDefault();
    try {
      await patch(`/api/experiments/${enc(exp.experiment)}`, {
        description, tags: tags.split(',').map((t) => t.trim()).filter(Boolean),
      });
      await refreshExperiment();
      onClose();
    } catch (e) { setErr(e); }
  };
  return (
    <Dialog open={open} onClose={onClose} title={`Edit ${exp.experiment}`} name="edit-experiment">
      <form onSubmit={save}>
        <label class="block">Description<textarea name="description" rows={4} value={description} onInput={(e) => setDescription(e.currentTarget.value)} /></label>
        <label class="block">Tags (comma separated)<input name="tags" value={tags} onInput={(e) => setTags(e.currentTarget.value)} /></label>
        <ErrorLine error={err} />
        <div class="actions"><button type="button" onClick={onClose}>Cancel</button><button type="submit" class="primary">Save</button></div>
      </form>
    </Dialog>
  );
}
