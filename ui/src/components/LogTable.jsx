// The logs page's table and its "Record event" dialog.
import { useState } from 'preact/hooks';
import { post, enc } from '../lib/api.js';
import { formatClock, parseUTC, unitLabel } from '../lib/format.js';
import { Dialog, ErrorLine, toast } from './ui.jsx';

// On a phone the four columns squeeze the message into a sliver: each row becomes a line of
// time, unit and task with the message below (styles.css is shared, so the rule lives here).
const NARROW = `@media (max-width: 640px) {
  table.log-table thead { display: none; }
  table.log-table tr { display: flex; flex-wrap: wrap; gap: 0 .6rem; border-bottom: 1px solid var(--line); padding: .3rem 0; }
  table.log-table td { border: 0; padding: 0 .2rem; }
  table.log-table td.log-message { flex-basis: 100%; }
}`;

export function LogTable({ rows, labels }) {
  return (
    <div class="table-wrap" style="position:relative">
      <style>{NARROW}</style>
      <table class="logs log-table">
        <thead><tr><th>Time</th><th>Pioreactor</th><th>Task</th><th>Message</th></tr></thead>
        <tbody>
          {rows.length === 0 && <tr><td colSpan={4} class="empty">No logs at this level.</td></tr>}
          {rows.map((r) => (
            <tr key={r.key} data-level={r.level} class={`level-${r.level}`}>
              <td style="white-space:nowrap" title={r.timestamp}>{formatClock(parseUTC(r.timestamp), true)}</td>
              <td style="white-space:nowrap">{unitLabel(r.pioreactor_unit, labels)}</td>
              <td>{r.task}</td>
              <td class="log-message" style="overflow-wrap:anywhere">{r.message}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

// localInput is a Date as a datetime-local value (the browser's zone, to the second).
export function localInput(d = new Date()) {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

// RecordEvent writes a manual log line ("added 2 mL of glucose") for one unit or every unit
// assigned ($broadcast); the leader publishes it, so it comes back on the live feed.
export function RecordEvent({ open, onClose, exp, units, unit, labels }) {
  const [target, setTarget] = useState(unit || '$broadcast');
  const [message, setMessage] = useState('');
  const [task, setTask] = useState('');
  const [when, setWhen] = useState(localInput());
  const [err, setErr] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (ev) => {
    ev.preventDefault();
    const ms = new Date(when).getTime();
    if (!message.trim()) { setErr('Write what happened.'); return; }
    if (!Number.isFinite(ms)) { setErr('Pick a valid time.'); return; }
    setBusy(true); setErr(null);
    try {
      await post(`/api/workers/${enc(target)}/experiments/${enc(exp)}/logs`, {
        message: message.trim(),
        // Whole seconds, so the stamp reads like the original's ("…:05.000Z").
        timestamp: new Date(Math.floor(ms / 1000) * 1000).toISOString(),
        task: task.trim(),
        source: 'UI',
        level: 'INFO',
      });
      toast('Event recorded', 'success', 3000);
      setMessage('');
      onClose();
    } catch (e) { setErr(e); } finally { setBusy(false); }
  };
  return (
    <Dialog open={open} onClose={onClose} title="Record an event" name="record-event">
      <form onSubmit={submit}>
        <label class="block">Pioreactor
          <select name="unit" value={target} onChange={(e) => setTarget(e.currentTarget.value)}>
            <option value="$broadcast">All assigned Pioreactors</option>
            {units.map((u) => <option key={u} value={u}>{unitLabel(u, labels)}</option>)}
          </select>
        </label>
        <label class="block">What happened
          <textarea name="message" rows={3} value={message} required onInput={(e) => setMessage(e.currentTarget.value)} placeholder="e.g. took a 1 mL sample" />
        </label>
        <label class="block">When (your local time)
          <input type="datetime-local" step="1" name="timestamp" value={when} required onInput={(e) => setWhen(e.currentTarget.value)} />
        </label>
        <label class="block">Task (optional)
          <input name="task" value={task} onInput={(e) => setTask(e.currentTarget.value)} placeholder="e.g. sampling" />
        </label>
        <ErrorLine error={err} />
        <div class="actions">
          <button type="button" onClick={onClose}>Cancel</button>
          <button type="submit" class="primary" disabled={busy}>Record</button>
        </div>
      </form>
    </Dialog>
  );
}
