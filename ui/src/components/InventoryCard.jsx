// One worker of the inventory: activity switch, assignment, model, what its monitor reports
// (software version, addresses), identify, and the power / removal menu.
import { useEffect, useRef, useState } from 'preact/hooks';
import { get, put, del, post, enc, waitTask, fanOut } from '../lib/api.js';
import { subscribe } from '../lib/mqtt.js';
import { blink } from '../lib/jobs.js';
import { experiment, experimentsVersion, selectExperiment } from '../lib/experiment.js';
import { ConfirmButton, ErrorLine, Menu, toast } from './ui.jsx';

// power reboots or shuts down a unit ($broadcast: every unit, the leader last) and throws
// with each unit's refusal, so the confirmation dialog shows why (e.g. 501 under --sim).
export async function power(unit, action) {
  const results = fanOut(await waitTask(await post(`/api/units/${enc(unit)}/system/${action}`, {})));
  const failed = Object.entries(results).filter(([, r]) => !r.ok);
  const done = Object.keys(results).filter((u) => results[u].ok);
  if (done.length) toast(`${action === 'reboot' ? 'Rebooting' : 'Shutting down'} ${done.join(', ')}`, 'info', 5000);
  if (failed.length) throw new Error(failed.map(([u, r]) => `${u}: ${r.error}`).join('\n'));
  if (!done.length) throw new Error('No unit answered.');
}

// useMonitor follows pioreactor/<unit>/$experiment/monitor/+: {setting: text}.
export function useMonitor(unit) {
  const [m, setM] = useState({});
  useEffect(() => {
    setM({});
    return subscribe(`pioreactor/${unit}/$experiment/monitor/+`, (topic, text) => {
      const k = topic.slice(topic.lastIndexOf('/') + 1);
      setM((all) => ({ ...all, [k]: text }));
    });
  }, [unit]);
  return m;
}

function json(text) { try { return JSON.parse(text); } catch { return null; } }

// ModelSelect groups the models as the original does: Latest, Custom (user YAML), Legacy.
export function ModelSelect({ models, value, onChange, name = 'model', ...rest }) {
  const groups = [
    ['Latest', models.filter((m) => !m.is_legacy && !m.is_contrib)],
    ['Custom', models.filter((m) => m.is_contrib)],
    ['Legacy', models.filter((m) => m.is_legacy && !m.is_contrib)],
  ].filter(([, ms]) => ms.length);
  const known = models.some((m) => `${m.model_name}|${m.model_version}` === value);
  return (
    <select name={name} value={value} onChange={(e) => onChange(e.currentTarget.value)} {...rest}>
      {!known && <option value={value}>{value && value !== '|' ? value.replace('|', ' v') : 'Choose a model…'}</option>}
      {groups.map(([label, ms]) => (
        <optgroup key={label} label={label}>
          {ms.map((m) => <option key={`${m.model_name}|${m.model_version}`} value={`${m.model_name}|${m.model_version}`}>{m.display_name || `${m.model_name} v${m.model_version}`}</option>)}
        </optgroup>
      ))}
    </select>
  );
}

export function InventoryCard({ worker, models, leaderVersion, refresh, onChanged }) {
  const unit = worker.pioreactor_unit;
  const monitor = useMonitor(unit);
  const [assigned, setAssigned] = useState({ loaded: false, exp: null });
  const [tick, setTick] = useState(0);
  const [err, setErr] = useState(null);
  const [busy, setBusy] = useState('');
  const selected = experiment.value?.experiment;

  useEffect(() => {
    let live = true;
    get(`/api/workers/${enc(unit)}/experiment`).then(
      (a) => { if (live) setAssigned({ loaded: true, exp: a?.experiment || null }); },
      (e) => { if (live) { setAssigned({ loaded: true, exp: null }); if (e.status !== 404) setErr(e); } },
    );
    return () => { live = false; };
  }, [unit, tick, refresh, worker.is_active]);

  // act runs one change, shows its error on the card, then re-reads the card and the list.
  const act = async (what, fn, done) => {
    setBusy(what); setErr(null);
    try {
      await fn();
      if (done) toast(done, 'success', 3000);
      setTick((t) => t + 1);
      experimentsVersion.value++;
      onChanged?.();
    } catch (e) { setErr(e); } finally { setBusy(''); }
  };

  const setActive = (on) => act('active', () => put(`/api/workers/${enc(unit)}/is_active`, { is_active: on ? 1 : 0 }),
    `${unit} is ${on ? 'active' : 'inactive'}`);
  const assign = () => act('assign', () => put(`/api/experiments/${enc(selected)}/workers`, { pioreactor_unit: unit }), `${unit} assigned to ${selected}`);
  const unassign = () => act('assign', () => del(`/api/experiments/${enc(assigned.exp)}/workers/${enc(unit)}`), `${unit} unassigned from ${assigned.exp}`);
  const setModel = (v) => {
    const [model_name, model_version] = v.split('|');
    return act('model', () => put(`/api/workers/${enc(unit)}/model`, { model_name, model_version }), `${unit} is a ${model_name} v${model_version}`);
  };
  const open = async () => {
    try { selectExperiment(await get(`/api/experiments/${enc(assigned.exp)}`)); } catch (e) { setErr(e); }
  };
  const identify = () => act('blink', () => blink(unit), `${unit} is blinking`);

  const versions = json(monitor.versions) || {};
  const app = versions.app;
  const state = monitor.$state;
  const model = `${worker.model_name || ''}|${worker.model_version || ''}`;
  const active = !!worker.is_active;
  return (
    <article class={`card inventory-card ${active ? '' : 'inactive'}`} data-worker={unit} data-active={active ? '1' : '0'}>
      <header>
        <span class={`dot ${state || ''}`} title={state ? `monitor: ${state}` : 'no live data'} />
        <h2>{unit}</h2>
        <label class="switch">
          <input type="checkbox" role="switch" name="is_active" checked={active} disabled={busy === 'active'}
            onChange={(e) => setActive(e.currentTarget.checked)} />
          {active ? 'Active' : 'Inactive'}
        </label>
      </header>
      <dl class="kv">
        <dt>Experiment</dt>
        <dd class="row" data-assignment={assigned.exp || ''}>
          {!assigned.loaded ? '…' : assigned.exp ? (
            <>
              <button type="button" class="chip" data-action="select-experiment" title="Show this experiment" aria-pressed={assigned.exp === selected} onClick={open}>{assigned.exp}</button>
              <button type="button" class="small" data-action="unassign" disabled={busy === 'assign'} onClick={unassign}>Unassign</button>
            </>
          ) : (
            <>
              <span class="muted">Unassigned</span>
              <button type="button" class="small" data-action="assign" disabled={!selected || busy === 'assign'} onClick={assign}>
                {selected ? `Assign to ${selected}` : 'Select an experiment to assign'}
              </button>
            </>
          )}
        </dd>
        <dt><label for={`model-${unit}`}>Model</label></dt>
        <dd><ModelSelect id={`model-${unit}`} models={models} value={model} disabled={busy === 'model' || models.length === 0} onChange={setModel} /></dd>
        <dt>Software</dt>
        <dd data-version={app || ''}>
          {app ? `v${app}` : <span class="muted">unknown</span>}
          {app && leaderVersion && app !== leaderVersion && <span class="pill lost" title={`the leader runs v${leaderVersion}`}> differs from leader (v{leaderVersion})</span>}
        </dd>
        {versions.rpi_machine && <><dt>Computer</dt><dd>{versions.rpi_machine}</dd></>}
        {(versions.hat || versions.firmware) && <><dt>HAT</dt><dd>{[versions.hat && `v${versions.hat}`, versions.firmware && `firmware ${versions.firmware}`].filter(Boolean).join(', ')}</dd></>}
        <dt>IPv4</dt><dd data-ipv4>{monitor.ipv4 || worker.ipv4_address || <span class="muted">—</span>}</dd>
        <dt>WLAN MAC</dt><dd>{monitor.wlan_mac_address || <span class="muted">—</span>}</dd>
        <dt>Ethernet MAC</dt><dd>{monitor.eth_mac_address || <span class="muted">—</span>}</dd>
      </dl>
      {!state && <p class="muted">No live data from {unit}: is pioreactord running on it?</p>}
      <ErrorLine error={err} />
      <div class="actions">
        <button type="button" data-action="identify" disabled={busy === 'blink'} onClick={identify}>Identify</button>
        <Menu label="More ▾" action="unit-menu">
            <ConfirmButton data-action="reboot" question={`Reboot ${unit}? Its running jobs stop.`} confirmLabel="Reboot" onConfirm={() => power(unit, 'reboot')}>Reboot</ConfirmButton>
            <ConfirmButton danger data-action="shutdown" question={`Shut down ${unit}? Someone must power-cycle it to start it again.`} confirmLabel="Shut down" onConfirm={() => power(unit, 'shutdown')}>Shut down</ConfirmButton>
            <ConfirmButton danger data-action="remove" question={`Remove ${unit} from the inventory? Its jobs stop and it is unassigned. Its data stays.`}
              confirmLabel="Remove" onConfirm={async () => { await del(`/api/workers/${enc(unit)}`); toast(`${unit} removed from the inventory`, 'success', 4000); experimentsVersion.value++; onChanged?.(); }}>Remove from inventory</ConfirmButton>
        </Menu>
      </div>
    </article>
  );
}
