// Upload a calibration YAML to a worker (POST /api/workers/<unit>/calibrations/<device>); the
// leader validates it first and its refusal (with the YAML line) is shown as it says it.
import { useState } from 'preact/hooks';
import { post, enc } from '../lib/api.js';
import { Dialog, ErrorLine, toast } from './ui.jsx';
import { unitTask } from './CalibrationDetail.jsx';

const EXAMPLE = `calibration_type: simple_peristaltic_pump
calibration_name: media-2026-03
calibrated_on_pioreactor_unit: pio01
created_at: 2026-03-01T12:00:00.000000Z
hz: 250.0
dc: 100.0
voltage: -1.0
x: Duration
y: Volume
curve_data_:
  type: poly
  coefficients: [0.0911, 0.0]
recorded_data:
  x: [10.0, 20.0]
  y: [0.91, 1.82]
`;

export function CalibrationUpload({ open, onClose, units, unit: initialUnit, device: initialDevice, onUploaded }) {
  const [unit, setUnit] = useState(initialUnit || '');
  const [device, setDevice] = useState(initialDevice || '');
  const [yaml, setYaml] = useState('');
  const [active, setActive] = useState(true);
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState(null);
  const target = unit || units[0] || '';

  const submit = async (ev) => {
    ev.preventDefault();
    setBusy(true); setErr(null);
    try {
      await unitTask(post(`/api/workers/${enc(target)}/calibrations/${enc(device.trim())}`, { calibration_data: yaml, set_as_active: active }), target);
      toast(`Calibration uploaded to ${target}`, 'success', 4000);
      onUploaded?.(target, device.trim());
      onClose();
    } catch (e) { setErr(e); } finally { setBusy(false); }
  };

  return (
    <Dialog open={open} onClose={onClose} title="Upload a calibration" name="upload-calibration" wide>
      <form onSubmit={submit}>
        <div class="row">
          <label>Pioreactor
            <select name="upload_unit" value={target} onChange={(e) => setUnit(e.currentTarget.value)}>
              {units.map((u) => <option key={u} value={u}>{u}</option>)}
            </select>
          </label>
          <label>Device
            <input name="upload_device" required pattern="[A-Za-z0-9 ._\-]+" placeholder="media_pump, od90, stirring…" value={device}
              onInput={(e) => setDevice(e.currentTarget.value)} />
          </label>
          <label><input type="checkbox" name="set_as_active" checked={active} onChange={(e) => setActive(e.currentTarget.checked)} /> Set as active</label>
        </div>
        <label class="block" style="margin-top:.6rem">Calibration YAML
          <textarea name="calibration_data" required rows={14} spellcheck={false} placeholder={EXAMPLE}
            style="font-family:ui-monospace,monospace;font-size:.85rem" value={yaml} onInput={(e) => setYaml(e.currentTarget.value)} />
        </label>
        <ErrorLine error={err} />
        <div class="actions">
          <button type="button" onClick={onClose}>Cancel</button>
          <button type="submit" class="primary" data-action="submit-upload" disabled={busy || !target}>{busy ? 'Uploading…' : 'Upload'}</button>
        </div>
      </form>
    </Dialog>
  );
}
