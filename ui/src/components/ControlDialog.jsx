// The Control dialog of one unit (or of every unit, $broadcast): activities, settings, pumps,
// LEDs and the self-test, in tabs.
import { useEffect, useState } from 'preact/hooks';
import { get, put, enc } from '../lib/api.js';
import { section } from '../lib/config.js';
import { subscribe } from '../lib/mqtt.js';
import { AUTOMATIONS, startJob, stopJob, updateBioreactor, updateJob } from '../lib/jobs.js';
import { Dialog, ErrorLine, ConfirmButton, toast, useAsync } from './ui.jsx';
import { JobRow, Setting } from './UnitCard.jsx';

const TABS = ['Activities', 'Settings', 'Dosing', 'LEDs', 'Self-test'];

export function ControlDialog({ open, onClose, unit, exp, jobs, collections, live, worker }) {
  const [tab, setTab] = useState('Activities');
  const title = unit === '$broadcast' ? 'Control all Pioreactors' : `Control ${unit}`;
  return (
    <Dialog open={open} onClose={onClose} title={title} name="control" wide>
      <div class="tabs" role="tablist">
        {TABS.map((t) => <button type="button" role="tab" key={t} aria-selected={tab === t} onClick={() => setTab(t)}>{t}</button>)}
      </div>
      {tab === 'Activities' && <Activities unit={unit} exp={exp} jobs={jobs} live={live} />}
      {tab === 'Settings' && <SettingsTab unit={unit} exp={exp} collections={collections} jobs={jobs} live={live} />}
      {tab === 'Dosing' && <DosingTab unit={unit} exp={exp} live={live} worker={worker} />}
      {tab === 'LEDs' && <LEDsTab unit={unit} exp={exp} live={live} />}
      {tab === 'Self-test' && <SelfTestTab unit={unit} exp={exp} />}
    </Dialog>
  );
}

function Activities({ unit, exp, jobs, live }) {
  const plain = jobs.filter((j) => !AUTOMATIONS.includes(j.job_name));
  const autos = jobs.filter((j) => AUTOMATIONS.includes(j.job_name));
  return (
    <div class="jobs">
      {[...plain, ...autos].map((j) => (
        <div key={j.job_name}>
          <JobRow unit={unit} exp={exp} job={j} values={live.values[j.job_name] || {}} flash={live.flash} />
          {j.description && <p class="muted" style="margin:.1rem 0 .4rem">{j.description}</p>}
          {!AUTOMATIONS.includes(j.job_name) && unit !== '$broadcast' && <AdvancedStart unit={unit} exp={exp} job={j.job_name} />}
        </div>
      ))}
    </div>
  );
}

// AdvancedStart starts a job with some of its [<job>.config] keys changed for this run only.
function AdvancedStart({ unit, exp, job }) {
  const [open, setOpen] = useState(false);
  const conf = useAsync(() => (open ? get(`/api/config/units/${enc(unit)}`) : Promise.resolve(null)), [open, unit]);
  const keys = conf.data?.configs?.[unit]?.[`${job}.config`] || {};
  const [changed, setChanged] = useState({});
  const [err, setErr] = useState(null);
  if (!open) return <button type="button" class="small" onClick={() => setOpen(true)}>Advanced start…</button>;
  const start = async (ev) => {
    ev.preventDefault();
    try {
      await startJob(unit, job, exp, {}, Object.entries(changed).map(([k, v]) => [`${job}.config`, k, v]));
      setOpen(false); setChanged({});
    } catch (e) { setErr(e); }
  };
  return (
    <form class="card" onSubmit={start}>
      <p class="muted">[{job}.config] for this run only:</p>
      {Object.keys(keys).length === 0 && <p class="muted">No settings in [{job}.config].</p>}
      {Object.entries(keys).map(([k, v]) => (
        <label class="block" key={k}>{k}<input name={k} value={changed[k] ?? v} onInput={(e) => setChanged({ ...changed, [k]: e.currentTarget.value })} /></label>
      ))}
      <ErrorLine error={err} />
      <div class="actions"><button type="button" onClick={() => setOpen(false)}>Cancel</button><button type="submit" class="primary">Start {job}</button></div>
    </form>
  );
}

function SettingsTab({ unit, exp, collections, jobs, live }) {
  const [label, setLabel] = useState('');
  const [err, setErr] = useState(null);
  const saveLabel = async (ev) => {
    ev.preventDefault();
    try { await put(`/api/experiments/${enc(exp)}/unit_labels`, { unit, label }); toast(label ? `${unit} is now “${label}”` : `${unit}'s label removed`, 'success', 3000); } catch (e) { setErr(e); }
  };
  const groups = [...collections.map((c) => [c.key, c, true]), ...jobs.map((j) => [j.job_name, j, false])];
  return (
    <div>
      {unit !== '$broadcast' && (
        <form class="row" onSubmit={saveLabel}>
          <label>Label for this experiment <input name="label" value={label} onInput={(e) => setLabel(e.currentTarget.value)} /></label>
          <button type="submit">Save label</button>
        </form>
      )}
      <ErrorLine error={err} />
      {groups.map(([key, g, isCollection]) => {
        const editable = (g.published_settings || []).filter((s) => s.editable && s.display !== false);
        const values = live.values[key] || {};
        if (editable.length === 0 || (!isCollection && !values.$state)) return null;
        const save = (s) => (v) => (key === 'bioreactor' ? updateBioreactor(unit, exp, { [s.key]: v }) : updateJob(unit, key, exp, { [s.key]: v }));
        return (
          <fieldset key={key}>
            <legend>{g.display_name || key}</legend>
            <dl class="settings">{editable.map((s) => <Setting key={s.key} setting={s} value={values[s.key] ?? (unit === '$broadcast' ? '' : undefined)} onSave={save(s)} />)}</dl>
          </fieldset>
        );
      })}
    </div>
  );
}

const PUMPS = [
  ['add_media', 'Add media'], ['remove_waste', 'Remove waste'], ['add_alt_media', 'Add alternative media'],
  ['circulate_media', 'Circulate media'], ['circulate_alt_media', 'Circulate alternative media'],
];

function DosingTab({ unit, exp, live, worker }) {
  const volume = live.values.bioreactor?.current_volume_ml;
  const models = useAsync(() => get('/api/models'), []);
  const model = (models.data?.models || []).find((m) => m.model_name === worker?.model_name && m.model_version === worker?.model_version);
  const room = model && typeof volume === 'number' ? model.reactor_max_fill_volume_ml - volume : null;
  return (
    <div>
      {typeof volume === 'number' && <p class="muted">Current volume {volume.toFixed(1)} mL{model && ` of ${model.reactor_max_fill_volume_ml} mL max`}.</p>}
      {PUMPS.map(([job, label]) => <PumpForm key={job} unit={unit} exp={exp} job={job} label={label} room={job.startsWith('add') ? room : null} state={live.values[job]?.$state} />)}
    </div>
  );
}

function PumpForm({ unit, exp, job, label, room, state }) {
  const circulate = job.startsWith('circulate');
  const [mode, setMode] = useState(circulate ? 'duration' : 'ml');
  const [amount, setAmount] = useState('');
  const [err, setErr] = useState(null);
  const n = Number(amount);
  const tooMuch = mode === 'ml' && room !== null && n >= room;
  const options = mode === 'continuously' ? { continuously: null } : mode === 'ml' ? { ml: n } : { duration: n };
  const valid = mode === 'continuously' || (amount !== '' && Number.isFinite(n) && n > 0 && !tooMuch);
  const running = state === 'ready' || state === 'init';
  return (
    <fieldset data-pump={job}>
      <legend>{label}</legend>
      <div class="row">
        <select name="mode" aria-label="Dose by" value={mode} onChange={(e) => setMode(e.currentTarget.value)}>
          {!circulate && <option value="ml">Volume, mL</option>}
          <option value="duration">Duration, s</option>
          {!circulate && <option value="continuously">Continuously</option>}
        </select>
        {mode !== 'continuously' && <input name="amount" type="number" step="any" min="0" aria-label={mode === 'ml' ? 'mL' : 'seconds'} value={amount} onInput={(e) => setAmount(e.currentTarget.value)} />}
        <ConfirmButton class="primary" disabled={!valid} question={`Run ${label.toLowerCase()} on ${unit === '$broadcast' ? 'every Pioreactor' : unit}${mode === 'continuously' ? ' until stopped' : mode === 'ml' ? ` for ${n} mL` : ` for ${n} s`}?`}
          confirmLabel="Run pump" onConfirm={async () => { setErr(null); await startJob(unit, job, exp, { ...options, source_of_event: 'UI' }); }}>Run</ConfirmButton>
        {running && <button type="button" class="danger" onClick={() => stopJob(unit, job, exp).catch(setErr)}>Stop</button>}
      </div>
      {tooMuch && <p class="error">That would fill the vial past its maximum ({room.toFixed(1)} mL of room left).</p>}
      <ErrorLine error={err} />
    </fieldset>
  );
}

function LEDsTab({ unit, exp, live }) {
  const names = section('leds');
  const current = live.values.leds?.intensity || {};
  return (
    <div>
      {['A', 'B', 'C', 'D'].map((ch) => <LEDForm key={ch} unit={unit} exp={exp} channel={ch} name={names[ch]} value={current[ch]} />)}
    </div>
  );
}

function LEDForm({ unit, exp, channel, name, value }) {
  const [v, setV] = useState('');
  const [err, setErr] = useState(null);
  useEffect(() => { if (value !== undefined) setV(String(value)); }, [value]);
  const set = async (ev) => {
    ev.preventDefault();
    const n = Number(v);
    if (!(n >= 0 && n <= 100)) { setErr('Intensity is 0 to 100 %.'); return; }
    setErr(null);
    try { await startJob(unit, 'led_intensity', exp, { [channel]: n, source_of_event: 'UI' }); } catch (e) { setErr(e); }
  };
  return (
    <form class="row" onSubmit={set} data-led={channel} style="margin-bottom:.5rem">
      <label>Channel {channel}{name ? ` (${name})` : ''} <input name={`led_${channel}`} type="number" min="0" max="100" step="any" value={v} onInput={(e) => setV(e.currentTarget.value)} /> %</label>
      <button type="submit">Set</button>
      <ErrorLine error={err} />
    </form>
  );
}

function SelfTestTab({ unit, exp }) {
  const [results, setResults] = useState({});
  const [err, setErr] = useState(null);
  useEffect(() => subscribe(`pioreactor/${unit === '$broadcast' ? '+' : unit}/$experiment/self_test/+`, (topic, text) => {
    const parts = topic.split('/');
    const key = parts[parts.length - 1];
    setResults((r) => ({ ...r, [parts[1]]: { ...r[parts[1]], [key]: text } }));
  }), [unit]);
  const run = async () => {
    setErr(null);
    try { await startJob(unit, 'self_test', unit === '$broadcast' ? exp : '$experiment'); } catch (e) { setErr(e); }
  };
  return (
    <div>
      <p>The self-test checks the LEDs, photodiodes, heater, stirring and (on a real board) the HAT. Stop other activities first.</p>
      <button type="button" class="primary" onClick={run}>Run self-test</button>
      <ErrorLine error={err} />
      {Object.entries(results).map(([u, r]) => (
        <table key={u} style="margin-top:.8rem"><caption>{u}: {r.$state || ''} {r.all_tests_passed !== undefined && (['1', 'true', 'True'].includes(r.all_tests_passed) ? '— all passed' : '— some failed')}</caption>
          <tbody>{Object.entries(r).filter(([k]) => k.startsWith('test_')).map(([k, v]) => (
            <tr key={k}><td>{k.replace(/^test_/, '').replace(/_/g, ' ')}</td><td>{['1', 'true', 'True'].includes(v) ? '✔ passed' : '✘ failed'}</td></tr>
          ))}</tbody>
        </table>
      ))}
    </div>
  );
}
