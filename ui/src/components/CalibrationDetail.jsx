// One calibration (/calibrations/<unit>/<device>/<name>): its fields, its curve over the
// recorded points, and set active / remove active / delete.
import { Fragment } from 'preact';
import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { get, patch, del, enc, waitTask, fanOut } from '../lib/api.js';
import { ConfirmButton, ErrorLine, Spinner, toast, useAsync } from './ui.jsx';
import { CalibrationPlot } from './CalibrationPlot.jsx';

// unitTask runs a worker route answered by a 202 task and returns that unit's value, or
// throws its error (fan-out results are {unit: {ok, value|error}}).
export async function unitTask(promise, unit) {
  const r = fanOut(await waitTask(await promise, { interval: 500 }))[unit];
  if (!r) throw new Error(`${unit} did not answer.`);
  if (!r.ok) throw new Error(`${unit}: ${r.error}`);
  return r.value;
}

const HIDDEN = new Set(['curve_data_', 'recorded_data', 'is_active', 'pioreactor_unit']);

function show(v) {
  if (v === null || v === undefined || v === '') return '—';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function curveText(c) {
  if (!c) return '—';
  if (c.type === 'poly') {
    const cs = c.coefficients || [];
    const n = cs.length - 1;
    return cs.map((k, i) => {
      const p = n - i;
      return `${Number(k.toPrecision(6))}${p === 0 ? '' : p === 1 ? '·x' : `·x^${p}`}`;
    }).join(' + ') || '—';
  }
  return `${c.type}, ${(c.knots || []).length} knots`;
}

export function CalibrationDetail({ unit, device, name, onChanged }) {
  const { route } = useLocation();
  const base = `/api/workers/${enc(unit)}`;
  const cal = useAsync(() => unitTask(get(`${base}/calibrations/${enc(device)}/${enc(name)}`), unit), [unit, device, name]);
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState(null);

  const run = async (fn, done) => {
    setBusy(true); setErr(null);
    try { await fn(); toast(done, 'success', 4000); cal.reload(); onChanged?.(); } catch (e) { setErr(e); } finally { setBusy(false); }
  };
  const setActive = () => run(() => unitTask(patch(`${base}/active_calibrations/${enc(device)}/${enc(name)}`, {}), unit),
    `${name} is the active ${device} calibration of ${unit}`);
  const removeActive = () => run(() => unitTask(del(`${base}/active_calibrations/${enc(device)}`), unit),
    `${unit} has no active ${device} calibration`);
  const remove = async () => {
    await unitTask(del(`${base}/calibrations/${enc(device)}/${enc(name)}`), unit);
    toast(`Deleted ${name}`, 'success', 4000);
    onChanged?.();
    route(`/calibrations/${enc(unit)}/${enc(device)}`);
  };

  const c = cal.data;
  return (
    <article class="card" data-calibration={name} data-active={c ? (c.is_active ? '1' : '0') : undefined}>
      <header>
        <h2>{name}</h2>
        <span class="muted">{unit} · {device}</span>
        {c?.is_active && <span class="pill ready">active</span>}
      </header>
      {cal.loading && !c && <p><Spinner /> Loading…</p>}
      <ErrorLine error={cal.error} />
      {c && (
        <>
          <CalibrationPlot cal={c} />
          {!(c.recorded_data?.x || []).length && <p class="muted">No recorded points: only the curve is drawn.</p>}
          <dl class="kv calibration-fields">
            <dt>Curve</dt><dd data-curve>{curveText(c.curve_data_)}</dd>
            {Object.entries(c).filter(([k]) => !HIDDEN.has(k)).map(([k, v]) => <Fragment key={k}><dt>{k}</dt><dd>{show(v)}</dd></Fragment>)}
          </dl>
          <ErrorLine error={err} />
          <div class="actions">
            {c.is_active
              ? <button type="button" data-action="remove-active" disabled={busy} onClick={removeActive}>Remove active</button>
              : <button type="button" class="primary" data-action="set-active" disabled={busy} onClick={setActive}>Set active</button>}
            <ConfirmButton danger data-action="delete" question={`Delete the ${device} calibration ${name} of ${unit}? This cannot be undone.`}
              confirmLabel="Delete" onConfirm={remove}>Delete</ConfirmButton>
          </div>
        </>
      )}
    </article>
  );
}
