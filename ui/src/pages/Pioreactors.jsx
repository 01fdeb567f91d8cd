// The Pioreactors page: a card per unit assigned to the selected experiment, the assign
// dialog, "Control all" and "Stop all activity".
import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { get, put, del, enc, waitTask } from '../lib/api.js';
import { experiment, experimentsVersion, refreshExperiment, selectExperiment } from '../lib/experiment.js';
import { useExperimentUnits } from '../lib/units.js';
import { stopAll, useDescriptors, useLive } from '../lib/jobs.js';
import { UnitCard } from '../components/UnitCard.jsx';
import { ControlDialog } from '../components/ControlDialog.jsx';
import { ConfirmButton, Dialog, ErrorLine, Menu, toast, useAsync } from '../components/ui.jsx';
import { EditExperiment } from './Overview.jsx';

export default function Pioreactors() {
  const exp = experiment.value;
  const [version, setVersion] = useState(0);
  const { workers, labels, units, loaded, error } = useExperimentUnits(exp?.experiment, version);
  const [assign, setAssign] = useState(false);
  const [controlAll, setControlAll] = useState(false);
  const [editing, setEditing] = useState(false);
  if (!exp) return <section class="page" data-page="pioreactors"><h1>Pioreactors</h1><p><a href="/start-new-experiment">Start an experiment</a> first.</p></section>;
  const name = exp.experiment;
  const active = workers.filter((w) => w.is_active);
  const inactive = workers.filter((w) => !w.is_active);
  return (
    <section class="page" data-page="pioreactors">
      <div class="page-head">
        <h1>Pioreactors</h1>
        <ConfirmButton danger data-action="stop-all" question={`Stop every activity of ${name} on every assigned Pioreactor? Pumps, heaters and stirring stop.`}
          confirmLabel="Stop all" onConfirm={() => stopAll('$broadcast', name).then(() => toast('Stopping all activity', 'info', 3000))}>Stop all activity</ConfirmButton>
        <button type="button" data-action="assign" onClick={() => setAssign(true)}>Assign Pioreactors</button>
        <button type="button" data-action="control-all" disabled={active.length === 0} onClick={() => setControlAll(true)}>Control all</button>
        <ExperimentMenu exp={exp} onEdit={() => setEditing(true)} />
      </div>
      <ErrorLine error={error} />
      {loaded && workers.length === 0 && (
        <div class="card empty">
          <p>No Pioreactors assigned to this experiment.</p>
          <button type="button" class="primary" onClick={() => setAssign(true)}>Assign Pioreactors</button>
        </div>
      )}
      <div class="grid">
        {active.map((w) => <UnitCard key={w.pioreactor_unit} unit={w.pioreactor_unit} worker={w} exp={name} units={units} labels={labels} />)}
      </div>
      {inactive.length > 0 && (
        <>
          <h2 style="margin:1.2rem 0 .5rem">Inactive</h2>
          <div class="grid">
            {inactive.map((w) => (
              <article key={w.pioreactor_unit} class="card unit-card muted" data-unit={w.pioreactor_unit} data-inactive>
                <header><h2>{w.pioreactor_unit}</h2><span class="pill">inactive</span></header>
                <p>Activate it in the <a href="/inventory">inventory</a> to control it.</p>
              </article>
            ))}
          </div>
        </>
      )}
      <AssignDialog open={assign} onClose={() => setAssign(false)} exp={name} onChanged={() => setVersion((v) => v + 1)} />
      {controlAll && <ControlAll exp={name} onClose={() => setControlAll(false)} />}
      <EditExperiment exp={exp} open={editing} onClose={() => setEditing(false)} />
    </section>
  );
}

function ControlAll({ exp, onClose }) {
  const desc = useDescriptors('$broadcast');
  const jobs = desc.jobs.filter((j) => j.display !== false);
  const collections = desc.collections.filter((c) => c.display !== false);
  const live = useLive('$broadcast', exp, []);
  return <ControlDialog open onClose={onClose} unit="$broadcast" exp={exp} jobs={jobs} collections={collections} live={live} />;
}

function ExperimentMenu({ exp, onEdit }) {
  const name = exp.experiment;
  const { route } = useLocation();
  const end = async () => {
    await del(`/api/experiments/${enc(name)}/workers`);
    toast(`${name} ended: its Pioreactors are unassigned`, 'success');
    await refreshExperiment();
  };
  const remove = async () => {
    const r = await del(`/api/experiments/${enc(name)}`);
    await waitTask(r);
    selectExperiment(await get('/api/experiments/latest'));
    experimentsVersion.value++;
    route('/overview');
  };
  return (
    <Menu label="Experiment ▾" action="experiment-menu">
        <button type="button" onClick={onEdit}>Edit details</button>
        <ConfirmButton question={`End ${name}? Every Pioreactor is unassigned and its jobs stop. The data stays.`} confirmLabel="End experiment" onConfirm={end}>End experiment</ConfirmButton>
        <ConfirmButton danger question={`Delete ${name} and its data? This cannot be undone.`} confirmLabel="Delete" onConfirm={remove}>Delete experiment</ConfirmButton>
    </Menu>
  );
}

// AssignDialog assigns and unassigns workers; a worker in another experiment moves in one PUT.
export function AssignDialog({ open, onClose, exp, onChanged }) {
  const data = useAsync(() => (open ? Promise.all([get('/api/workers'), get('/api/workers/assignments')]) : Promise.resolve(null)), [open]);
  const [workers, assignments] = data.data || [[], []];
  const where = {};
  for (const a of assignments || []) where[a.pioreactor_unit] = a.experiment;
  const [wanted, setWanted] = useState(null);
  const [err, setErr] = useState(null);
  const [busy, setBusy] = useState(false);
  const initial = new Set((workers || []).filter((w) => where[w.pioreactor_unit] === exp).map((w) => w.pioreactor_unit));
  const chosen = wanted || initial;
  const toggle = (u) => { const s = new Set(chosen); if (s.has(u)) s.delete(u); else s.add(u); setWanted(s); };
  const adds = [...chosen].filter((u) => !initial.has(u));
  const removes = [...initial].filter((u) => !chosen.has(u));
  const label = adds.length && removes.length ? `Update ${adds.length + removes.length}` : adds.length ? `Assign ${adds.length}` : removes.length ? `Unassign ${removes.length}` : 'No changes';
  const close = () => { setWanted(null); setErr(null); onClose(); };
  const submit = async (ev) => {
    ev.preventDefault();
    setBusy(true); setErr(null);
    try {
      for (const u of adds) await put(`/api/experiments/${enc(exp)}/workers`, { pioreactor_unit: u });
      for (const u of removes) await del(`/api/experiments/${enc(exp)}/workers/${enc(u)}`);
      onChanged?.();
      experimentsVersion.value++;
      close();
    } catch (e) { setErr(e); } finally { setBusy(false); }
  };
  const available = (workers || []).filter((w) => !where[w.pioreactor_unit] || where[w.pioreactor_unit] === exp).map((w) => w.pioreactor_unit);
  return (
    <Dialog open={open} onClose={close} title={`Assign Pioreactors to ${exp}`} name="assign">
      <ErrorLine error={data.error} />
      <form onSubmit={submit}>
        {(workers || []).length === 0 && <p class="muted">The inventory is empty: <a href="/inventory">add a Pioreactor</a>.</p>}
        {(workers || []).map((w) => {
          const u = w.pioreactor_unit;
          const other = where[u] && where[u] !== exp ? where[u] : '';
          return (
            <label class="block-inline" key={u} style="display:flex;margin:.3rem 0">
              <input type="checkbox" name="unit" value={u} checked={chosen.has(u)} onChange={() => toggle(u)} />
              {u}
              {other && <span class="muted">{chosen.has(u) ? ` — will be unassigned from ${other} and re-assigned` : ` — currently assigned to ${other}`}</span>}
              {!w.is_active && <span class="pill">inactive</span>}
            </label>
          );
        })}
        <button type="button" class="small" onClick={() => setWanted(new Set(available))}>Select all available</button>
        <ErrorLine error={err} />
        <div class="actions"><button type="button" onClick={close}>Cancel</button><button type="submit" class="primary" disabled={busy || (!adds.length && !removes.length)}>{label}</button></div>
      </form>
    </Dialog>
  );
}
