// The logs of the selected experiment (or of one unit): history from the leader page by page,
// new lines live from MQTT on top, a level filter, and "Record event" for manual notes.
import { useEffect, useRef, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { get, enc } from '../lib/api.js';
import { section } from '../lib/config.js';
import { experiment } from '../lib/experiment.js';
import { subscribe } from '../lib/mqtt.js';
import { useExperimentUnits } from '../lib/units.js';
import { unitLabel } from '../lib/format.js';
import { levelsFrom } from '../components/OverviewCards.jsx';
import { ErrorLine, Spinner, useAsync } from '../components/ui.jsx';
import { LogTable, RecordEvent } from '../components/LogTable.jsx';

const LEVEL_CHOICES = [['NOTICE', 'Only important'], ['INFO', 'Standard'], ['DEBUG', 'Detailed']];
// "Load more" stays enabled while the rows loaded are a non-zero multiple of this: the leader
// answers full pages (100 rows) until the data runs out, so a short page means the end.
const PAGE_MULTIPLE = 50;
// Live lines are kept up to this many rows so a page left open for days stays light.
const MAX_ROWS = 5000;

function defaultLevel() {
  const l = String(section('logging').ui_log_level || 'INFO').toUpperCase();
  return l === 'DEBUG' || l === 'INFO' ? l : 'NOTICE';
}

// sourcePath is the route of ui.md §2.6 for the chosen unit and "only while assigned".
function sourcePath(exp, unit, assignedOnly) {
  if (assignedOnly) return unit ? `/api/workers/${enc(unit)}/experiments/${enc(exp)}/logs` : `/api/experiments/${enc(exp)}/logs`;
  return unit ? `/api/units/${enc(unit)}/logs` : '/api/logs';
}

let nextKey = 1;
const keyed = (r) => ({ ...r, key: nextKey++ });

export default function Logs({ params }) {
  const unit = params?.unit || '';
  const exp = experiment.value?.experiment;
  const { route } = useLocation();
  const [level, setLevel] = useState(defaultLevel);
  const [assignedOnly, setAssignedOnly] = useState(true);
  const [recording, setRecording] = useState(false);
  const history = useAsync(() => (exp ? get(`/api/experiments/${enc(exp)}/historical_worker_assignments`) : []), [exp]);
  const { labels, units: assigned } = useExperimentUnits(exp);
  const [view, setView] = useState({ rows: [], loaded: 0, loading: true, error: null, full: false });
  const gen = useRef(0); // which query the rows belong to: a late answer of an older one is dropped
  const path = exp ? sourcePath(exp, unit, assignedOnly) : '';

  useEffect(() => {
    if (!exp) return undefined;
    const my = ++gen.current;
    let ready = false;
    const early = []; // live lines that arrive before the first page
    setView({ rows: [], loaded: 0, loading: true, error: null, full: false });
    get(`${path}?min_level=${level}&skip=0`).then((page) => {
      if (gen.current !== my) return;
      ready = true;
      const rows = [...early.reverse(), ...(page || []).map(keyed)];
      setView({ rows, loaded: (page || []).length, loading: false, error: null, full: false });
    }, (error) => { if (gen.current === my) { ready = true; setView((v) => ({ ...v, loading: false, error })); } });
    const offs = levelsFrom(level).map((l) => subscribe(`pioreactor/${unit || '+'}/${exp}/logs/+/${l.toLowerCase()}`, (topic, text, retained) => {
      if (retained) return; // a retained log line is an old one, already in the history
      let p; try { p = JSON.parse(text); } catch { return; }
      const row = keyed({ timestamp: p.timestamp || new Date().toISOString(), level: String(p.level || l).toUpperCase(), pioreactor_unit: topic.split('/')[1], task: p.task || '', message: p.message, experiment: exp });
      if (!ready) { early.push(row); return; }
      setView((v) => {
        const rows = [row, ...v.rows];
        return rows.length > MAX_ROWS ? { ...v, rows: rows.slice(0, MAX_ROWS), full: true } : { ...v, rows };
      });
    }));
    return () => { gen.current++; offs.forEach((off) => off()); };
  }, [exp, path, level]);

  const loadMore = async () => {
    const my = gen.current;
    setView((v) => ({ ...v, loading: true, error: null }));
    try {
      // skip = rows shown: live lines are in the leader's table too, so they count.
      const page = await get(`${path}?min_level=${level}&skip=${view.rows.length}`);
      if (gen.current !== my) return;
      setView((v) => ({ ...v, rows: [...v.rows, ...(page || []).map(keyed)], loaded: v.loaded + (page || []).length, loading: false }));
    } catch (error) { if (gen.current === my) setView((v) => ({ ...v, loading: false, error })); }
  };

  if (!exp) return <section class="page" data-page="logs"><h1>Logs</h1><p><a href="/start-new-experiment">Start an experiment</a> first.</p></section>;
  const units = [...new Set([...(history.data || []).map((a) => a.pioreactor_unit), ...(unit ? [unit] : [])])].sort();
  const canMore = !view.full && view.loaded > 0 && view.loaded % PAGE_MULTIPLE === 0;
  const exportHref = `/export-data?experiment=${enc(exp)}&datasets=logs${unit ? '&partition_by_unit=true' : ''}`;
  return (
    <section class="page" data-page="logs">
      <div class="page-head">
        <h1>Logs{unit ? ` · ${unitLabel(unit, labels)}` : ''}</h1>
        <button type="button" data-action="record-event" onClick={() => setRecording(true)}>Record event</button>
        <a class="button" style="text-decoration:none" href={exportHref} data-action="export-logs">Export logs</a>
      </div>
      <div class="row" style="margin-bottom:.8rem">
        <label>Level
          <select name="level" value={level} onChange={(e) => setLevel(e.currentTarget.value)}>
            {LEVEL_CHOICES.map(([v, text]) => <option key={v} value={v}>{text}</option>)}
          </select>
        </label>
        <label>Pioreactor
          <select name="unit" value={unit} onChange={(e) => route(e.currentTarget.value ? `/logs/${enc(e.currentTarget.value)}` : '/logs')}>
            <option value="">All assigned Pioreactors</option>
            {units.map((u) => <option key={u} value={u}>{unitLabel(u, labels)}</option>)}
          </select>
        </label>
        <label title="Hide lines written while a Pioreactor was in another experiment">
          <input type="checkbox" name="assigned_only" checked={assignedOnly} onChange={(e) => setAssignedOnly(e.currentTarget.checked)} />
          Only logs while assigned to {exp}
        </label>
      </div>
      <ErrorLine error={history.error} />
      <div class="card">
        <LogTable rows={view.rows} labels={labels} />
        <ErrorLine error={view.error} />
        <div class="actions" style="justify-content:center">
          {view.loading ? <Spinner /> : (
            <button type="button" data-action="load-more" disabled={!canMore} onClick={loadMore}>{canMore ? 'Load more' : 'No older logs'}</button>
          )}
        </div>
      </div>
      <RecordEvent key={unit} open={recording} onClose={() => setRecording(false)} exp={exp} units={assigned} unit={unit} labels={labels} />
    </section>
  );
}
