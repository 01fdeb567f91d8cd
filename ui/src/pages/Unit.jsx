// One Pioreactor: its card and control dialog, and the overview's charts for this unit alone,
// in the experiment it is assigned to (which may not be the one selected).
import { useRoute } from 'preact-iso';
import { get, enc } from '../lib/api.js';
import { section, flag } from '../lib/config.js';
import { useExperimentUnits } from '../lib/units.js';
import { timeWindow, timeScale, TIME_WINDOWS, setTimeWindow } from '../lib/format.js';
import { UnitCard } from '../components/UnitCard.jsx';
import { Chart } from '../components/Chart.jsx';
import { ErrorLine, Spinner, useAsync } from '../components/ui.jsx';

export default function Unit() {
  const { params } = useRoute();
  const unit = params.unit;
  const assignment = useAsync(() => get(`/api/workers/${enc(unit)}/experiment`), [unit]);
  const a = assignment.data;
  return (
    <section class="page" data-page="unit" data-unit={unit}>
      <div class="page-head">
        <h1>{unit}</h1>
        <a href="/pioreactors">All Pioreactors</a>
      </div>
      {assignment.loading && <Spinner />}
      <ErrorLine error={assignment.error} />
      {a && !a.experiment && <p class="card">{unit} is not assigned to an experiment. Assign it from the <a href="/inventory">inventory</a> or the Pioreactors page.</p>}
      {a?.experiment && <Assigned unit={unit} worker={a} exp={a.experiment} />}
    </section>
  );
}

function Assigned({ unit, worker, exp }) {
  const { units, labels } = useExperimentUnits(exp);
  const descriptors = useAsync(() => get('/api/charts/descriptors'), []);
  const experiment = useAsync(() => get(`/api/experiments/${enc(exp)}`), [exp]);
  const enabled = section('ui.overview.charts');
  const scale = timeScale.value || (section('ui.overview.settings').time_display_mode === 'clock_time' ? 'clock_time' : 'hours');
  const charts = (descriptors.data || []).filter((d) => flag(enabled[d.chart_key]));
  return (
    <>
      <p class="muted">In experiment <strong>{exp}</strong>.</p>
      <UnitCard unit={unit} worker={worker} exp={exp} units={units.length ? units : [unit]} labels={labels} linkToUnit={false} />
      <div class="page-head">
        <div class="toggle" role="group" aria-label="Time window">
          {TIME_WINDOWS.map((w) => (
            <button type="button" key={w.hours} aria-pressed={timeWindow.value === w.hours} onClick={() => setTimeWindow(w.hours)}>{w.label}</button>
          ))}
        </div>
      </div>
      {experiment.data && (
        <div class="grid charts">
          {charts.map((d) => (
            <Chart key={`${d.chart_key}-${timeWindow.value}-${scale}`} descriptor={d} experiment={exp} createdAt={experiment.data.created_at}
              units={units.length ? units : [unit]} labels={labels} lookbackHours={timeWindow.value} scale={scale} unit={unit} />
          ))}
        </div>
      )}
    </>
  );
}
