// Start a new experiment: name, description, tags, and optionally the Pioreactors to assign to
// it at once. The new experiment becomes the selected one and the Pioreactors page opens.
import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { get, post, put, enc } from '../lib/api.js';
import { experimentsVersion, selectExperiment } from '../lib/experiment.js';
import { ErrorLine, Spinner, toast, useAsync } from '../components/ui.jsx';
import { TagsInput, nameProblem } from '../components/ExperimentForm.jsx';

export default function NewExperiment() {
  const { route } = useLocation();
  const data = useAsync(() => Promise.all([
    get('/api/experiments'),
    get('/api/workers').catch(() => []),
    get('/api/workers/assignments').catch(() => []),
  ]), []);
  const [experiments, workers, assignments] = data.data || [[], [], []];
  const [name, setName] = useState('');
  const [touched, setTouched] = useState(false);
  const [taken, setTaken] = useState(''); // a name the daemon answered 409 for
  const [description, setDescription] = useState('');
  const [tags, setTags] = useState([]);
  const [chosen, setChosen] = useState(new Set());
  const [err, setErr] = useState(null);
  const [busy, setBusy] = useState(false);

  const names = (experiments || []).map((e) => e.experiment);
  const problem = nameProblem(name.trim(), taken ? [...names, taken] : names);
  const where = {};
  for (const a of assignments || []) where[a.pioreactor_unit] = a.experiment;
  const toggle = (u) => { const s = new Set(chosen); if (s.has(u)) s.delete(u); else s.add(u); setChosen(s); };

  const submit = async (ev) => {
    ev.preventDefault();
    setTouched(true);
    if (problem) return;
    setBusy(true); setErr(null);
    const exp = name.trim();
    try {
      await post('/api/experiments', { experiment: exp, description, ...(tags.length ? { tags } : {}) });
    } catch (e) {
      setBusy(false);
      if (e.status === 409) { setTaken(exp); return; }
      setErr(e);
      return;
    }
    // The experiment exists now: a failed assignment is reported, the rest still goes ahead.
    const failed = [];
    for (const u of chosen) {
      try { await put(`/api/experiments/${enc(exp)}/workers`, { pioreactor_unit: u }); } catch (e) { failed.push(`${u}: ${e.detail}`); }
    }
    if (failed.length) toast(`Could not assign ${failed.join('; ')}`, 'error', 12000);
    try { selectExperiment(await get(`/api/experiments/${enc(exp)}`)); } catch { selectExperiment({ experiment: exp, description, tags, created_at: new Date().toISOString() }); }
    experimentsVersion.value++;
    toast(`Experiment ${exp} started`, 'success', 4000);
    route('/pioreactors');
  };

  const showProblem = (touched || name) && problem;
  return (
    <section class="page" data-page="new-experiment">
      <div class="page-head"><h1>Start a new experiment</h1></div>
      <form class="card" style="max-width:40rem" onSubmit={submit} noValidate>
        <label class="block">Experiment name
          <input name="experiment" value={name} required autoFocus maxLength={200} autoComplete="off"
            aria-invalid={showProblem ? 'true' : undefined} aria-describedby="experiment-problem"
            onInput={(e) => setName(e.currentTarget.value)} onBlur={() => setTouched(true)} />
          <span id="experiment-problem" class="error" style="margin:0;min-height:1.2em" role={showProblem ? 'alert' : undefined} data-field-error="experiment">
            {showProblem || ''}
          </span>
        </label>
        <label class="block">Description
          <textarea name="description" rows={4} value={description} onInput={(e) => setDescription(e.currentTarget.value)}
            placeholder="What is grown, in what media, what you want to learn" />
        </label>
        <div class="block" style="margin-bottom:.8rem">
          <span>Tags</span>
          <TagsInput tags={tags} onChange={setTags} suggestions={(experiments || []).flatMap((e) => e.tags || [])} />
        </div>
        <fieldset>
          <legend>Assign Pioreactors (optional)</legend>
          {data.loading && <Spinner />}
          {!data.loading && (workers || []).length === 0 && <p class="muted">The inventory is empty: <a href="/inventory">add a Pioreactor</a>.</p>}
          {(workers || []).map((w) => {
            const u = w.pioreactor_unit;
            const other = where[u];
            return (
              <label key={u} style="display:flex;margin:.3rem 0">
                <input type="checkbox" name="unit" value={u} checked={chosen.has(u)} onChange={() => toggle(u)} />
                {u}
                {other && <span class="muted">{chosen.has(u) ? `— moves from ${other}, whose jobs on it stop` : `— in ${other}`}</span>}
                {!w.is_active && <span class="pill">inactive</span>}
              </label>
            );
          })}
        </fieldset>
        <ErrorLine error={data.error} />
        <ErrorLine error={err} />
        <div class="actions">
          <a class="button" style="text-decoration:none" href="/experiments">Cancel</a>
          <button type="submit" class="primary" disabled={busy}>{busy ? 'Starting…' : 'Start experiment'}</button>
        </div>
      </form>
    </section>
  );
}
