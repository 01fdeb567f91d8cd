// The overview's side cards: media dosed per unit, running profiles, recent events.
import { useEffect, useState } from 'preact/hooks';
import { get, enc } from '../lib/api.js';
import { section } from '../lib/config.js';
import { subscribe } from '../lib/mqtt.js';
import { useAsync } from './ui.jsx';
import { parseUTC, formatClock, formatElapsed, unitLabel } from '../lib/format.js';

export function DosingCard({ exp, units, labels }) {
  const rates = useAsync(() => get(`/api/experiments/${enc(exp)}/media_rates`), [exp]);
  const [added, setAdded] = useState({}); // unit -> {media, alt}
  useEffect(() => {
    const offs = [['cumulative_media_added_ml', 'media'], ['cumulative_alt_media_added_ml', 'alt']].map(([topic, k]) =>
      subscribe(`pioreactor/+/${exp}/bioreactor/${topic}`, (t, text) => {
        const u = t.split('/')[1];
        const v = Number(text);
        if (Number.isFinite(v)) setAdded((a) => ({ ...a, [u]: { ...a[u], [k]: v } }));
      }));
    return () => offs.forEach((off) => off());
  }, [exp]);
  const r = rates.data || {};
  const sum = (k) => units.reduce((s, u) => s + (added[u]?.[k] || 0), 0);
  const rate = (u, k) => (r[u]?.[k] ?? 0).toFixed(2);
  return (
    <section class="card" data-card="dosings">
      <header><h2>Dosing</h2></header>
      <div class="table-wrap">
        <table>
          <thead><tr><th>Unit</th><th class="num">Media, mL</th><th class="num">Alt media, mL</th><th class="num">Rates, mL/h</th></tr></thead>
          <tbody>
            {units.map((u) => (
              <tr key={u}>
                <td>{unitLabel(u, labels)}</td>
                <td class="num">{(added[u]?.media ?? 0).toFixed(1)}</td>
                <td class="num">{(added[u]?.alt ?? 0).toFixed(1)}</td>
                <td class="num">{rate(u, 'mediaRate')} / {rate(u, 'altMediaRate')}</td>
              </tr>
            ))}
            <tr><th>Total</th><th class="num">{sum('media').toFixed(1)}</th><th class="num">{sum('alt').toFixed(1)}</th>
              <th class="num">{(r.all?.mediaRate ?? 0).toFixed(2)} / {(r.all?.altMediaRate ?? 0).toFixed(2)}</th></tr>
          </tbody>
        </table>
      </div>
    </section>
  );
}

export function ProfilesCard({ exp }) {
  const running = useAsync(() => get(`/api/experiments/${enc(exp)}/experiment_profiles/running`), [exp]);
  const list = running.data || [];
  return (
    <section class="card" data-card="profiles">
      <header><h2>Experiment profiles</h2></header>
      {list.length === 0 ? <p class="muted">No profile is running.</p> : (
        <ul>{list.map((p) => (
          <li key={p.job_id || p.experiment_profile_name}>
            {p.experiment_profile_name || p.file}
            {p.start_time_utc && <span class="muted"> — running for {formatElapsed((Date.now() - parseUTC(p.start_time_utc)) / 3600000)}</span>}
          </li>
        ))}</ul>
      )}
    </section>
  );
}

const LEVELS = ['DEBUG', 'INFO', 'NOTICE', 'WARNING', 'ERROR'];
const MAX_ROWS = 50;

// levelsFrom lists the levels at or above min (a level name of [logging] ui_log_level).
export function levelsFrom(min) {
  const i = Math.max(0, LEVELS.indexOf(String(min || 'INFO').toUpperCase()));
  return LEVELS.slice(i);
}

export function EventLogCard({ exp, labels, scale }) {
  const min = section('logging').ui_log_level || 'INFO';
  const [rows, setRows] = useState([]);
  useEffect(() => {
    let live = true;
    let loaded = false;
    const pending = [];
    get(`/api/experiments/${enc(exp.experiment)}/recent_logs?min_level=${enc(min.toLowerCase())}`).then((r) => {
      if (!live) return;
      loaded = true;
      setRows([...pending.reverse(), ...(r || [])].slice(0, MAX_ROWS));
    }, () => { loaded = true; });
    const offs = levelsFrom(min).map((level) => subscribe(`pioreactor/+/${exp.experiment}/logs/+/${level.toLowerCase()}`, (t, text, retained) => {
      if (retained) return;
      let p; try { p = JSON.parse(text); } catch { return; }
      const row = { timestamp: p.timestamp || new Date().toISOString(), level: p.level || level, pioreactor_unit: t.split('/')[1], message: p.message, task: p.task };
      if (!loaded) { pending.push(row); return; }
      setRows((rs) => [row, ...rs].slice(0, MAX_ROWS));
    }));
    return () => { live = false; offs.forEach((off) => off()); };
  }, [exp.experiment, min]);
  const created = parseUTC(exp.created_at);
  let previous = null;
  return (
    <section class="card" data-card="event_logs">
      <header><h2>Event logs</h2><a class="spacer" /><a href="/logs">All logs</a></header>
      <div class="table-wrap">
        <table class="logs">
          <tbody>
            {rows.length === 0 && <tr><td class="empty">No events yet.</td></tr>}
            {rows.map((r, i) => {
              const ms = parseUTC(r.timestamp);
              const gap = previous !== null && previous - ms >= 2 * 3600000;
              const gapHours = gap ? Math.round((previous - ms) / 3600000) : 0;
              previous = ms;
              return [
                gap && <tr class="log-gap" key={`gap-${i}`}><td colSpan={3}>{gapHours} hours earlier…</td></tr>,
                <tr key={i} class={`level-${r.level}`}>
                  <td class="muted">{scale === 'hours' ? formatElapsed((ms - created) / 3600000) : formatClock(ms)}</td>
                  <td>{r.pioreactor_unit === '$broadcast' ? 'All Pioreactors' : unitLabel(r.pioreactor_unit, labels)}</td>
                  <td><span class="muted">{r.task}</span> {r.message}</td>
                </tr>,
              ];
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}
