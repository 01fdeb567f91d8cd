// Export data: pick an experiment (or the system's own data), datasets and options; the leader
// builds a ZIP of CSVs in a background task, then the browser downloads it.
import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { ApiError, get, post, enc, headers, waitTask } from '../lib/api.js';
import { experiment } from '../lib/experiment.js';
import { ErrorLine, Spinner, useAsync } from '../components/ui.jsx';
import { DatasetList } from '../components/ExportDatasets.jsx';
import { localInput } from '../components/LogTable.jsx';

const SYSTEM = '$experiment';
const truthy = (v) => ['1', 'true', 'yes', 'on'].includes(String(v ?? '').toLowerCase());

// fromQuery reads the form's starting values from the address (links from the logs page and
// elsewhere prefill it): experiment, datasets (repeated or comma separated), partition_by_unit,
// start_time, end_time, use_time_filter.
function fromQuery(url) {
  const q = new URL(url, location.origin).searchParams;
  const asLocal = (s) => {
    if (!s) return '';
    const d = new Date(s);
    return Number.isNaN(d.getTime()) ? '' : localInput(d);
  };
  const start = asLocal(q.get('start_time'));
  const end = asLocal(q.get('end_time'));
  return {
    experiment: q.get('experiment') || experiment.value?.experiment || '',
    datasets: new Set(q.getAll('datasets').flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean)),
    partitionByUnit: truthy(q.get('partition_by_unit')),
    useTime: q.has('use_time_filter') ? truthy(q.get('use_time_filter')) : Boolean(start || end),
    start,
    end,
  };
}

// toISO turns a datetime-local value (the browser's zone) into UTC ISO, which the leader needs
// (a time without a zone is refused).
const toISO = (local) => (local ? new Date(local).toISOString() : null);

// download fetches the file with the API headers (the leader may ask for the key, which a plain
// link cannot send) and saves it through an object URL.
async function download(filename) {
  const res = await fetch(`/exports/${enc(filename)}`, { headers: headers(false) });
  if (!res.ok) throw new ApiError(res.status, await res.text().catch(() => ''));
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

export default function ExportData() {
  const { url } = useLocation();
  const [form, setForm] = useState(() => fromQuery(url));
  const set = (k, v) => setForm((f) => ({ ...f, [k]: v }));
  const data = useAsync(() => Promise.all([get('/api/experiments'), get('/api/datasets/exportable')]), []);
  const [experiments, datasets] = data.data || [[], []];
  const [job, setJob] = useState({ state: 'idle', polls: 0, error: null, filename: '', rows: null });

  const toggle = (name) => {
    const s = new Set(form.datasets);
    if (s.has(name)) s.delete(name); else s.add(name);
    set('datasets', s);
  };
  const known = new Set((datasets || []).map((d) => d.dataset_name));
  const chosen = [...form.datasets].filter((d) => known.has(d));
  const timeError = form.useTime && form.start && form.end && new Date(form.start) > new Date(form.end) ? 'The start is after the end.' : '';
  const busy = job.state === 'running';

  const run = async (ev) => {
    ev.preventDefault();
    if (!form.experiment || chosen.length === 0 || timeError) return;
    setJob({ state: 'running', polls: 0, error: null, filename: '', rows: null });
    try {
      const accepted = await post('/api/datasets/exportable/export', {
        experiment: form.experiment,
        partition_by_unit: form.partitionByUnit,
        partition_by_experiment: true,
        datasets: chosen,
        start_time: form.useTime ? toISO(form.start) : null,
        end_time: form.useTime ? toISO(form.end) : null,
      });
      const result = await waitTask(accepted, { onPoll: () => setJob((j) => ({ ...j, polls: j.polls + 1 })) });
      if (!result?.filename || result.result === false) throw new ApiError(500, { error: 'Export failed', cause: result?.msg || 'the leader wrote no file' });
      setJob({ state: 'done', polls: 0, error: null, filename: result.filename, rows: result.row_count ?? null });
      await download(result.filename);
    } catch (error) {
      setJob((j) => ({ ...j, state: j.filename ? 'done' : 'failed', error }));
    }
  };

  const names = (experiments || []).map((e) => e.experiment);
  if (form.experiment && form.experiment !== SYSTEM && !names.includes(form.experiment) && data.data) names.unshift(form.experiment);
  return (
    <section class="page" data-page="export-data">
      <div class="page-head"><h1>Export data</h1></div>
      <ErrorLine error={data.error} />
      <form onSubmit={run}>
        <div class="card">
          <label class="block">Experiment
            <select name="experiment" value={form.experiment} onChange={(e) => set('experiment', e.currentTarget.value)} required>
              {!form.experiment && <option value="">Choose an experiment</option>}
              <option value={SYSTEM}>&lt;System&gt;</option>
              {names.map((n) => <option key={n} value={n}>{n}</option>)}
            </select>
          </label>
          <fieldset>
            <legend>Options</legend>
            <label style="display:flex;margin:.3rem 0">
              <input type="checkbox" name="partition_by_unit" checked={form.partitionByUnit} onChange={(e) => set('partitionByUnit', e.currentTarget.checked)} />
              One CSV per Pioreactor
            </label>
            <label style="display:flex;margin:.3rem 0">
              <input type="checkbox" name="use_time_filter" checked={form.useTime} onChange={(e) => set('useTime', e.currentTarget.checked)} />
              Only rows in a time range (your local time)
            </label>
            {form.useTime && (
              <div class="row">
                <label>From <input type="datetime-local" step="1" name="start_time" value={form.start} onInput={(e) => set('start', e.currentTarget.value)} /></label>
                <label>To <input type="datetime-local" step="1" name="end_time" value={form.end} onInput={(e) => set('end', e.currentTarget.value)} /></label>
              </div>
            )}
            <ErrorLine error={timeError} />
          </fieldset>
        </div>
        <div class="card">
          <header><h2>Datasets</h2><span class="muted">{chosen.length} chosen</span></header>
          {data.loading ? <Spinner /> : <DatasetList datasets={datasets || []} chosen={form.datasets} onToggle={toggle} />}
        </div>
        {/* Sticky: the dataset list is long, the button and the download link stay in view. */}
        <div class="card" aria-live="polite" style="position:sticky;bottom:0;z-index:2;margin:0;box-shadow:0 -4px 14px rgba(0,0,0,.08)">
          <div class="row">
            <button type="submit" class="primary" data-action="export" disabled={busy || !form.experiment || chosen.length === 0 || !!timeError}>
              {busy ? 'Exporting…' : 'Export'}
            </button>
            {chosen.length === 0 && <span class="muted">Choose at least one dataset.</span>}
            {busy && <span data-export-progress><Spinner label="Exporting" /> Building the ZIP{job.polls ? ` (${job.polls} s)` : ''}…</span>}
            {job.filename && (
              <span>
                Ready{job.rows !== null ? ` (${job.rows} rows)` : ''}:{' '}
                <a data-export-link href={`/exports/${enc(job.filename)}`} download={job.filename}
                  onClick={(e) => { e.preventDefault(); download(job.filename).catch((error) => setJob((j) => ({ ...j, error }))); }}>{job.filename}</a>
              </span>
            )}
          </div>
          <ErrorLine error={job.error} />
        </div>
      </form>
    </section>
  );
}
