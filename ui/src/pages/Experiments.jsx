// The experiments list: every experiment with its description, tags and whether a Pioreactor is
// assigned to it; search and filters; a menu per row to select, edit, end or delete it.
import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { get, del, enc, waitTask } from '../lib/api.js';
import { experiment, experimentsVersion, refreshExperiment, selectExperiment } from '../lib/experiment.js';
import { formatClock, parseUTC } from '../lib/format.js';
import { ConfirmButton, Dialog, ErrorLine, Spinner, toast, useAsync } from '../components/ui.jsx';
import { EditDetails } from '../components/ExperimentForm.jsx';

const SHOWN_TAGS = 3;
// On a phone a row folds: the name and description on top, date, tags, status and menu below
// (styles.css is shared, so the rule lives here).
const NARROW = `@media (max-width: 640px) {
  table.exp-table thead { display: none; }
  table.exp-table tr { display: flex; flex-wrap: wrap; align-items: center; gap: .2rem .6rem; border-bottom: 1px solid var(--line); padding: .4rem 0; }
  table.exp-table td { border: 0; padding: 0 .2rem; }
  table.exp-table td:first-child { flex-basis: 100%; }
  table.exp-table td:last-child { margin-left: auto; }
}`;

export default function Experiments() {
  const list = useAsync(() => get('/api/experiments'), [experimentsVersion.value]);
  const [search, setSearch] = useState('');
  const [status, setStatus] = useState('all');
  const [tag, setTag] = useState('');
  const [editing, setEditing] = useState(null);
  const all = list.data || [];
  const allTags = [...new Set(all.flatMap((e) => e.tags || []))].sort();
  const q = search.trim().toLowerCase();
  const shown = all.filter((e) => {
    const active = e.worker_count > 0;
    if (status === 'active' && !active) return false;
    if (status === 'inactive' && active) return false;
    if (tag && !(e.tags || []).includes(tag)) return false;
    if (!q) return true;
    return [e.experiment, e.description || '', ...(e.tags || [])].some((s) => s.toLowerCase().includes(q));
  });
  return (
    <section class="page" data-page="experiments">
      <div class="page-head">
        <h1>Experiments</h1>
        <a class="button primary" style="text-decoration:none" href="/start-new-experiment">New experiment</a>
      </div>
      <div class="row" style="margin-bottom:.8rem">
        <label>Search <input type="search" name="search" value={search} onInput={(e) => setSearch(e.currentTarget.value)} placeholder="name, description, tag" /></label>
        <label>Status
          <select name="status" value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
            <option value="all">All</option><option value="active">Active</option><option value="inactive">Inactive</option>
          </select>
        </label>
        <label>Tag
          <select name="tag" value={tag} onChange={(e) => setTag(e.currentTarget.value)}>
            <option value="">Any</option>
            {allTags.map((t) => <option key={t} value={t}>{t}</option>)}
          </select>
        </label>
      </div>
      <ErrorLine error={list.error} />
      {list.loading && !list.data && <Spinner />}
      <div class="card table-wrap" style="position:relative">
        <style>{NARROW}</style>
        <table class="exp-table">
          <thead><tr><th>Experiment</th><th>Created</th><th>Tags</th><th>Status</th><th><span class="sr-only">Actions</span></th></tr></thead>
          <tbody>
            {list.data && shown.length === 0 && (
              <tr><td colSpan={5} class="empty">{all.length ? 'No experiment matches.' : <>No experiments yet. <a href="/start-new-experiment">Start one</a>.</>}</td></tr>
            )}
            {shown.map((e) => (
              <Row key={e.experiment} exp={e} onEdit={() => setEditing(e)} onChanged={list.reload} />
            ))}
          </tbody>
        </table>
      </div>
      <EditDetails exp={editing} open={!!editing} onClose={() => setEditing(null)} onSaved={list.reload} suggestions={allTags} />
    </section>
  );
}

function Row({ exp, onEdit, onChanged }) {
  const { route } = useLocation();
  const name = exp.experiment;
  const selected = experiment.value?.experiment === name;
  const active = exp.worker_count > 0;
  const tags = exp.tags || [];
  const [menu, setMenu] = useState(false);
  const choose = () => { setMenu(false); selectExperiment(exp); route('/overview'); };
  const end = async () => {
    const r = await del(`/api/experiments/${enc(name)}/workers`);
    // The task's result is the stop fan-out; the unassignment itself is done when it settles.
    await waitTask(r).catch((e) => toast(`Some jobs of ${name} may still run: ${e.detail}`, 'warning'));
    setMenu(false);
    toast(`${name} ended: its Pioreactors are unassigned`, 'success');
    if (selected) await refreshExperiment(); else experimentsVersion.value++;
    onChanged();
  };
  const remove = async () => {
    await waitTask(await del(`/api/experiments/${enc(name)}`));
    setMenu(false);
    toast(`${name} deleted`, 'success');
    if (selected) selectExperiment(await get('/api/experiments/latest'));
    experimentsVersion.value++;
    onChanged();
  };
  return (
    <tr data-experiment={name} aria-current={selected ? 'true' : undefined}>
      <td>
        <button type="button" class="icon" style="padding:0;color:var(--accent);font-weight:600;text-align:left" title="Show this experiment" onClick={choose}>{name}</button>
        {selected && <span class="muted"> (selected)</span>}
        {exp.description && <div class="muted" style="font-size:.85rem;max-width:32rem">{exp.description}</div>}
      </td>
      <td style="white-space:nowrap">{exp.created_at ? formatClock(parseUTC(exp.created_at), true) : ''}</td>
      <td>
        {tags.slice(0, SHOWN_TAGS).map((t) => <span class="pill" key={t} style="margin:0 .2rem .2rem 0">{t}</span>)}
        {tags.length > SHOWN_TAGS && <span class="pill" title={tags.slice(SHOWN_TAGS).join(', ')}>+{tags.length - SHOWN_TAGS}</span>}
      </td>
      <td><span class={`pill ${active ? 'ready' : ''}`} data-status={active ? 'active' : 'inactive'}>{active ? 'Active' : 'Inactive'}</span></td>
      <td>
        <button type="button" class="small" data-action="menu" aria-label={`Actions for ${name}`} aria-haspopup="dialog" onClick={() => setMenu(true)}>⋯</button>
        {/* A dialog rather than a drop-down: the table scrolls sideways on phones and would clip it. */}
        <Dialog open={menu} onClose={() => setMenu(false)} title={name} name="experiment-menu">
          <div class="actions" style="justify-content:flex-start;flex-direction:column;align-items:stretch">
            <button type="button" data-action="select" onClick={choose}>Select (show on the overview)</button>
            <button type="button" data-action="edit" onClick={() => { setMenu(false); onEdit(); }}>Edit details</button>
            <ConfirmButton data-action="end" disabled={!active} question={`End ${name}? Every Pioreactor is unassigned and its jobs stop. The data stays.`} confirmLabel="End experiment" onConfirm={end}>End experiment</ConfirmButton>
            <ConfirmButton danger data-action="delete" question={`Delete ${name} and its data? This cannot be undone.`} confirmLabel="Delete" onConfirm={remove}>Delete experiment</ConfirmButton>
          </div>
        </Dialog>
      </td>
    </tr>
  );
}
