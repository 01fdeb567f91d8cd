// The experiment selector at the top: active experiments (a worker assigned) first, then the
// inactive ones, and "New experiment". Choosing one only changes what this browser shows.
import { useEffect, useRef, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { get } from '../lib/api.js';
import { experiment, experimentsVersion, selectExperiment } from '../lib/experiment.js';

export function ExperimentSelector() {
  const [list, setList] = useState([]);
  const [counts, setCounts] = useState({});
  const ref = useRef(null);
  const { route } = useLocation();
  useEffect(() => {
    get('/api/experiments').then(setList, () => setList([]));
  }, [experimentsVersion.value]);
  const refreshCounts = () => {
    get('/api/experiments/assignment_count').then((rows) => {
      const m = {};
      for (const r of rows || []) m[r.experiment] = r.worker_count;
      setCounts(m);
    }, () => {});
    get('/api/experiments').then(setList, () => {});
  };
  const current = experiment.value?.experiment || '';
  const active = list.filter((e) => (counts[e.experiment] ?? e.worker_count) > 0);
  const inactive = list.filter((e) => !((counts[e.experiment] ?? e.worker_count) > 0));
  const choose = (ev) => {
    const name = ev.currentTarget.value;
    if (name === '__new__') { route('/start-new-experiment'); ev.currentTarget.value = current; return; }
    const exp = list.find((e) => e.experiment === name);
    if (exp) selectExperiment(exp);
  };
  return (
    <label class="experiment-selector">
      <span class="sr-only">Experiment</span>
      <select ref={ref} name="experiment-selector" value={current} onFocus={refreshCounts} onChange={choose}>
        {!current && <option value="">No experiment</option>}
        <option value="__new__">＋ New experiment</option>
        {active.length > 0 && <optgroup label="Active">{active.map((e) => <option key={e.experiment} value={e.experiment}>{e.experiment}</option>)}</optgroup>}
        {inactive.length > 0 && <optgroup label="Inactive">{inactive.map((e) => <option key={e.experiment} value={e.experiment}>{e.experiment}</option>)}</optgroup>}
      </select>
    </label>
  );
}
