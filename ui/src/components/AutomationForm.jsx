// The automation chooser: the automations a unit offers for one kind (temperature, dosing,
// LED), each with its fields from the descriptors, started as <kind>_automation.
import { useEffect, useState } from 'preact/hooks';
import { get, enc } from '../lib/api.js';
import { startJob } from '../lib/jobs.js';
import { Dialog, ErrorLine, useAsync } from './ui.jsx';

export function AutomationDialog({ open, onClose, unit, exp, kind, onStarted }) {
  const list = useAsync(() => (open
    ? get(unit === '$broadcast' ? `/api/automations/descriptors/${kind}` : `/api/workers/${enc(unit)}/automations/descriptors/${kind}`)
    : Promise.resolve(null)), [open, unit, kind]);
  const automations = list.data || [];
  const [name, setName] = useState('');
  const [fields, setFields] = useState({});
  const [err, setErr] = useState(null);
  const [busy, setBusy] = useState(false);
  const chosen = automations.find((a) => a.automation_name === name) || automations[0];
  // The fields start at the chosen automation's defaults; the choice itself is only defaulted
  // (to the first) while nothing valid is chosen, so a list arriving late cannot undo a pick.
  useEffect(() => {
    if (!chosen) return;
    if (chosen.automation_name !== name) { setName(chosen.automation_name); return; }
    const f = {};
    for (const x of chosen.fields || []) f[x.key] = x.default ?? '';
    setFields(f);
  }, [chosen?.automation_name, name]);
  const submit = async (ev) => {
    ev.preventDefault();
    setErr(null); setBusy(true);
    const options = { automation_name: chosen.automation_name };
    for (const x of chosen.fields || []) {
      const v = fields[x.key];
      if (v === '' || v === null || v === undefined) continue;
      options[x.key] = x.type === 'numeric' ? Number(v) : v;
    }
    try {
      await startJob(unit, `${kind}_automation`, exp, options);
      onStarted?.();
      onClose();
    } catch (e) { setErr(e); } finally { setBusy(false); }
  };
  const title = `Start ${kind === 'led' ? 'LED' : kind} automation`;
  return (
    <Dialog open={open} onClose={onClose} title={title} name="automation">
      <ErrorLine error={list.error} />
      {chosen && (
        <form onSubmit={submit}>
          <label class="block">Automation
            <select name="automation_name" value={chosen.automation_name} onChange={(e) => setName(e.currentTarget.value)}>
              {automations.map((a) => <option key={a.automation_name} value={a.automation_name}>{a.display_name || a.automation_name}</option>)}
            </select>
          </label>
          {chosen.description && <p class="muted">{chosen.description}</p>}
          {(chosen.fields || []).map((x) => (
            <Field key={`${chosen.automation_name}-${x.key}`} field={x} value={fields[x.key]} onChange={(v) => setFields({ ...fields, [x.key]: v })} />
          ))}
          <ErrorLine error={err} />
          <div class="actions">
            <button type="button" onClick={onClose}>Cancel</button>
            <button type="submit" class="primary" disabled={busy}>Start</button>
          </div>
        </form>
      )}
    </Dialog>
  );
}

function Field({ field: x, value, onChange }) {
  const label = `${x.label || x.key}${x.unit ? `, ${x.unit}` : ''}`;
  if (x.type === 'select') {
    return (
      <label class="block">{label}
        <select name={x.key} value={value} disabled={x.disabled} onChange={(e) => onChange(e.currentTarget.value)}>
          {(x.options || []).map((o) => <option key={o} value={o}>{o}</option>)}
        </select>
      </label>
    );
  }
  if (x.type === 'boolean') {
    return <label class="block-inline"><input type="checkbox" name={x.key} checked={!!value && value !== '0'} disabled={x.disabled} onChange={(e) => onChange(e.currentTarget.checked)} /> {label}</label>;
  }
  return (
    <label class="block">{label}
      <input name={x.key} type={x.type === 'numeric' ? 'number' : 'text'} step="any" value={value ?? ''} disabled={x.disabled}
        required={x.required} onInput={(e) => onChange(e.currentTarget.value)} />
    </label>
  );
}
