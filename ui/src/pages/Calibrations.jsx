// Calibrations (/calibrations[/:unit[/:device[/:name]]]): every worker's calibrations per device
// with the active one marked, filtered by the path; a selected one shows its curve and actions.
import { useState } from 'preact/hooks';
import { useLocation, useRoute } from 'preact-iso';
import { get, enc, waitTask, fanOut } from '../lib/api.js';
import { formatClock, parseUTC } from '../lib/format.js';
import { ErrorLine, Spinner, useAsync } from '../components/ui.jsx';
import { CalibrationDetail } from '../components/CalibrationDetail.jsx';
import { CalibrationUpload } from '../components/CalibrationUpload.jsx';

// Page-local styles (styles.css is shared): field list and table fold at phone width.
const CSS = `
.calibration-fields dd { min-width: 0; overflow-wrap: anywhere; }
.calibrations-table td a { white-space: nowrap; }
@media (max-width: 500px) {
  .calibration-fields { grid-template-columns: 1fr; }
  .calibration-fields dd { margin-bottom: .35rem; }
  .calibrations-table .wide-only { display: none; }
}
`;

const href = (...parts) => `/calibrations${parts.filter(Boolean).map((p) => `/${enc(p)}`).join('')}`;

function created(c) {
  const ms = parseUTC(c.created_at);
  return Number.isFinite(ms) ? formatClock(ms, true) : c.created_at || '—';
}

export default function Calibrations() {
  const { params } = useRoute();
  const { route } = useLocation();
  const { unit, device, name } = params;
  const [version, setVersion] = useState(0);
  const [uploading, setUploading] = useState(false);
  const all = useAsync(async () => fanOut(await waitTask(await get('/api/workers/$broadcast/calibrations'), { interval: 500 })), [version]);
  const reload = () => setVersion((v) => v + 1);

  const results = all.data || {};
  const units = Object.keys(results).sort();
  const shownUnits = unit ? [unit] : units;
  const devices = [...new Set(Object.values(results).flatMap((r) => (r.ok ? Object.keys(r.value || {}) : [])))].sort();
  const count = shownUnits.reduce((n, u) => n + Object.entries(results[u]?.value || {})
    .filter(([d]) => !device || d === device).reduce((m, [, cs]) => m + (cs || []).length, 0), 0);

  return (
    <section class="page" data-page="calibrations">
      <style>{CSS}</style>
      <div class="page-head">
        <h1>Calibrations</h1>
        <button type="button" data-action="upload" disabled={!units.length} onClick={() => setUploading(true)}>Upload</button>
      </div>
      <div class="row" style="margin-bottom:.8rem">
        <label>Pioreactor
          <select name="unit" value={unit || ''} onChange={(e) => route(href(e.currentTarget.value))}>
            <option value="">All</option>
            {units.map((u) => <option key={u} value={u}>{u}</option>)}
            {unit && !units.includes(unit) && <option value={unit}>{unit}</option>}
          </select>
        </label>
        <label>Device
          <select name="device" value={device || ''} disabled={!unit} title={unit ? '' : 'Choose a Pioreactor first'}
            onChange={(e) => route(href(unit, e.currentTarget.value))}>
            <option value="">All</option>
            {devices.map((d) => <option key={d} value={d}>{d}</option>)}
            {device && !devices.includes(device) && <option value={device}>{device}</option>}
          </select>
        </label>
        {all.loading && <Spinner label="Reading calibrations" />}
      </div>
      <ErrorLine error={all.error} />
      {name && <CalibrationDetail key={`${unit}/${device}/${name}`} unit={unit} device={device} name={name} onChanged={reload} />}
      {all.data && count === 0 && (
        <div class="card empty" data-empty>
          <p>No calibrations{unit ? ` on ${unit}` : ''}{device ? ` for ${device}` : ''} yet.</p>
          <p>Make one on the Pioreactor with <code>pio calibrations run --device {device || 'media_pump'}</code> (devices: media_pump,
            alt_media_pump, waste_pump, stirring, od45, od90, od135), or upload a calibration YAML.</p>
        </div>
      )}
      {all.data && shownUnits.map((u) => (
        <UnitCalibrations key={u} unit={u} result={results[u]} device={device} selected={name} />
      ))}
      {uploading && <CalibrationUpload open onClose={() => setUploading(false)} units={units} unit={unit} device={device}
        onUploaded={(u, d) => { reload(); route(href(u, d)); }} />}
    </section>
  );
}

function UnitCalibrations({ unit, result, device, selected }) {
  if (!result) return <div class="card" data-unit={unit}><h2>{unit}</h2><p class="muted">Not in the answer: is it in the inventory?</p></div>;
  if (!result.ok) return <div class="card" data-unit={unit}><h2>{unit}</h2><ErrorLine error={result.error} /></div>;
  const rows = Object.entries(result.value || {})
    .filter(([d]) => !device || d === device)
    .flatMap(([d, cs]) => (cs || []).map((c) => ({ ...c, device: d })))
    .sort((a, b) => a.device.localeCompare(b.device) || (b.is_active - a.is_active) || String(b.created_at).localeCompare(String(a.created_at)));
  if (!rows.length) return null;
  return (
    <div class="card" data-unit={unit}>
      <header><h2><a href={href(unit)}>{unit}</a></h2></header>
      <div class="table-wrap">
        <table class="calibrations-table">
          <thead><tr><th>Device</th><th>Name</th><th class="wide-only">Type</th><th class="wide-only">Created</th><th>Active</th></tr></thead>
          <tbody>
            {rows.map((c) => (
              <tr key={`${c.device}/${c.calibration_name}`} data-device={c.device} data-calibration={c.calibration_name}
                data-active={c.is_active ? '1' : '0'} aria-current={selected === c.calibration_name ? 'true' : undefined}
                style={selected === c.calibration_name ? 'background:#e0f2f7' : ''}>
                <td><a href={href(unit, c.device)}>{c.device}</a></td>
                <td><a href={href(unit, c.device, c.calibration_name)}>{c.calibration_name}</a></td>
                <td class="wide-only">{c.calibration_type}</td>
                <td class="wide-only">{created(c)}</td>
                <td>{c.is_active ? <span class="pill ready">active</span> : ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
