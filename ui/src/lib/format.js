// Time and number formatting shared by charts, logs and cards.
import { signal } from '@preact/signals';

function storedChoice(key, fallback) {
  try { return localStorage.getItem(key) || fallback; } catch { return fallback; }
}
function store(key, v) { try { localStorage.setItem(key, v); } catch { /* ignore */ } }

// timeWindow is the overview's lookback in hours (localStorage timeWindow): all time, 12 h, 1 h, now.
export const TIME_WINDOWS = [
  { hours: 1000000, label: 'All time' },
  { hours: 12, label: 'Past 12h' },
  { hours: 1, label: 'Past hour' },
  { hours: 0, label: 'Now' },
];
export const timeWindow = signal(Number(storedChoice('timeWindow', '1000000')));
export const timeScale = signal(storedChoice('timeScale', '')); // 'hours' | 'clock_time'; '' = config default
export function setTimeWindow(h) { timeWindow.value = h; store('timeWindow', String(h)); }
export function setTimeScale(s) { timeScale.value = s; store('timeScale', s); }

// parseUTC reads the leader's timestamps ("2026-12-06T03:52:19.061Z", or without a zone: UTC).
export function parseUTC(x) {
  if (typeof x === 'number') return x;
  const s = String(x);
  return Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(s) ? s : `${s}Z`);
}

export function elapsedHours(ms, createdAt) {
  return (ms - parseUTC(createdAt)) / 3600000;
}

export function formatElapsed(hours) {
  if (!Number.isFinite(hours)) return '';
  const sign = hours < 0 ? '-' : '';
  const h = Math.abs(hours);
  if (h < 1) return `${sign}${Math.round(h * 60)} min`;
  if (h < 48) return `${sign}${h.toFixed(1)} h`;
  return `${sign}${(h / 24).toFixed(1)} d`;
}

export function formatClock(ms, withDate = false) {
  const d = new Date(ms);
  const t = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  return withDate ? `${d.toLocaleDateString([], { month: 'short', day: 'numeric' })} ${t}` : t;
}

// formatValue shows a setting's value with its unit, numbers rounded to 4 significant places. A
// JSON value ({"measured_rpm": 500.3, "timestamp": ...}) shows the field named like the setting.
export function formatValue(v, unit, key) {
  if (v === null || v === undefined || v === '') return '—';
  let s;
  if (typeof v === 'number') s = Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4)));
  else if (typeof v === 'boolean') s = v ? 'on' : 'off';
  else if (typeof v === 'object') s = key && typeof v[key] !== 'object' && v[key] !== undefined ? formatValue(v[key]) : formatObject(v);
  else s = String(v);
  return unit ? `${s} ${unit}` : s;
}

function formatObject(o) {
  if ('value' in o && Object.keys(o).length <= 3) return formatValue(o.value);
  return Object.entries(o).filter(([k]) => k !== 'timestamp').map(([k, x]) => `${k}: ${formatValue(x)}`).join(', ');
}

// unitLabel is "label / unit" when the unit has a label, else the unit.
export function unitLabel(unit, labels) {
  const l = labels?.[unit];
  return l ? `${l} / ${unit}` : unit;
}

// The colour of a unit is the same on every chart and card: a fixed palette indexed by the
// unit's position in the sorted list of the experiment's units.
const PALETTE = ['#0e7490', '#c2410c', '#15803d', '#7c3aed', '#b91c1c', '#a16207', '#1d4ed8', '#be185d',
  '#0f766e', '#4d7c0f', '#9333ea', '#c026d3', '#0369a1', '#65a30d', '#ea580c', '#475569'];
export function unitColor(unit, units) {
  const i = units.indexOf(unit);
  return PALETTE[(i < 0 ? hash(unit) : i) % PALETTE.length];
}
function hash(s) { let h = 0; for (const c of s) h = (h * 31 + c.charCodeAt(0)) >>> 0; return h; }
