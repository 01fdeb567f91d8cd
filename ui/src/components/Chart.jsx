// One chart from a chart descriptor: history from the time-series route, live points from MQTT
// (retained ones and those before the history arrived are ignored, so nothing is drawn twice),
// drawn with uPlot on a canvas. Series are per unit (per unit and angle for OD).
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useEffect, useRef, useState } from 'preact/hooks';
import { get, enc } from '../lib/api.js';
import { subscribe } from '../lib/mqtt.js';
import { photodiodeAngles } from '../lib/config.js';
import { parseUTC, unitColor } from '../lib/format.js';

const PARTITIONED = new Set(['od_readings', 'raw_od_readings']); // series per photodiode angle
const MAX_ROWS = 6000; // live points beyond this thin the oldest half, so memory stays bounded
const REDRAW_MS = 1000;

// transformOf turns the descriptor's y_transformation text ("(y) => 24 * y") into a function.
// The text comes from the leader's own descriptor files, as in the original dashboard.
function transformOf(text) {
  if (!text || /^\(\s*y\s*\)\s*=>\s*y\s*$/.test(text.trim())) return (y) => y;
  try {
    const f = new Function(`return (${text});`)(); // eslint-disable-line no-new-func
    return typeof f === 'function' ? f : (y) => y;
  } catch { return (y) => y; }
}

function topicsOf(d) {
  const t = d.mqtt_topic;
  return (Array.isArray(t) ? t : t ? [t] : []);
}

// seriesKey names a series: the unit, or unit-angle for OD charts (channel mapped through
// [od_config.photodiode_channel]; REF and unused channels are dropped, returning null).
function seriesKey(name, partitioned, angles) {
  if (!partitioned) return name;
  const i = name.lastIndexOf('-');
  if (i < 0) return name;
  const angle = angles[name.slice(i + 1)];
  return angle ? `${name.slice(0, i)}-${angle}` : null;
}
const unitOf = (key, partitioned) => (partitioned ? key.slice(0, key.lastIndexOf('-')) : key);

export function Chart({ descriptor: d, experiment, createdAt, units, labels, lookbackHours, scale, unit }) {
  const box = useRef(null);
  const plot = useRef(null);
  const state = useRef(null);
  const [status, setStatus] = useState('loading');
  const [error, setError] = useState('');

  useEffect(() => {
    const partitioned = PARTITIONED.has(d.data_source);
    const angles = photodiodeAngles();
    const transform = transformOf(d.y_transformation);
    const toX = scale === 'hours' ? (ms) => (ms - parseUTC(createdAt)) / 3600000 : (ms) => ms / 1000;
    const s = { series: new Map(), loaded: false, dirty: false, timer: 0, live: true };
    state.current = s;

    const seriesFor = (key) => {
      let ser = s.series.get(key);
      if (!ser) { ser = { xs: [], ys: [] }; s.series.set(key, ser); }
      return ser;
    };
    const draw = () => {
      s.timer = 0;
      if (!s.live || !box.current) return;
      render(box.current, plot, s, { d, units, labels, scale, partitioned });
      s.dirty = false;
    };
    const schedule = () => { s.dirty = true; if (!s.timer) s.timer = setTimeout(draw, REDRAW_MS); };

    const base = unit
      ? `/api/workers/${enc(unit)}/experiments/${enc(experiment)}/time_series/${enc(d.data_source)}`
      : `/api/experiments/${enc(experiment)}/time_series/${enc(d.data_source)}`;
    const path = `${base}${d.data_source_column ? `/${enc(d.data_source_column)}` : ''}` +
      `?lookback=${lookbackHours}&target_points=${d.down_sample === false ? 1000000 : 1400}`;
    const history = lookbackHours <= 0 ? Promise.resolve({ series: [], data: [] }) : get(path);
    history.then((res) => {
      if (!s.live) return;
      (res?.series || []).forEach((name, i) => {
        const key = seriesKey(name, partitioned, angles);
        if (!key) return;
        const ser = seriesFor(key);
        for (const p of res.data[i] || []) { ser.xs.push(toX(parseUTC(p.x))); ser.ys.push(transform(p.y)); }
      });
      s.loaded = true;
      setStatus('ready');
      draw();
    }, (e) => { if (s.live) { setError(e.detail || e.message); setStatus('error'); s.loaded = true; } });

    const offs = topicsOf(d).map((topic) => subscribe(`pioreactor/${unit || '+'}/${experiment}/${topic}`, (t, text, retained) => {
      if (retained || !s.loaded) return;
      const parts = t.split('/');
      const u = parts[1];
      let y; let ms = Date.now();
      if (d.payload_key) {
        let p; try { p = JSON.parse(text); } catch { return; }
        y = Number(p?.[d.payload_key]);
        if (p?.timestamp) ms = parseUTC(p.timestamp);
      } else {
        y = Number(text);
      }
      if (!Number.isFinite(y)) return;
      const key = partitioned ? seriesKey(`${u}-${parts[parts.length - 1].replace(/^\D+/, '')}`, true, angles) : u;
      if (!key) return;
      const ser = seriesFor(key);
      ser.xs.push(toX(ms)); ser.ys.push(transform(y));
      if (ser.xs.length > MAX_ROWS) thin(ser);
      schedule();
    }));
    return () => {
      s.live = false;
      clearTimeout(s.timer);
      offs.forEach((off) => off());
      plot.current?.destroy();
      plot.current = null;
    };
  }, [d.chart_key, experiment, lookbackHours, scale, unit, units.join(','), JSON.stringify(labels)]);

  useEffect(() => {
    // uPlot sizes in pixels: follow the box's width (phones, window resizes).
    if (!box.current || typeof ResizeObserver === 'undefined') return undefined;
    const ro = new ResizeObserver(() => plot.current?.setSize(size(box.current)));
    ro.observe(box.current);
    return () => ro.disconnect();
  }, []);

  return (
    <section class="card chart" data-chart={d.chart_key} data-status={status}>
      <header class="chart-head">
        <h3>{d.title}</h3>
        <button type="button" class="small" onClick={() => download(plot.current, d.chart_key)} disabled={!plot.current}>PNG</button>
      </header>
      {error && <p class="error">{error}</p>}
      <div class="plot" ref={box} aria-label={`${d.title} chart`} />
    </section>
  );
}

// thin drops every second point of the oldest half of a series.
function thin(ser) {
  const half = Math.floor(ser.xs.length / 2);
  const xs = []; const ys = [];
  for (let i = 0; i < half; i += 2) { xs.push(ser.xs[i]); ys.push(ser.ys[i]); }
  ser.xs = xs.concat(ser.xs.slice(half));
  ser.ys = ys.concat(ser.ys.slice(half));
}

function size(el) {
  const w = Math.max(240, el.clientWidth || 600);
  return { width: w, height: Math.round(Math.min(300, Math.max(180, w * 0.45))) };
}

// render draws the series with uPlot's faceted mode (mode 2): each series keeps its own x
// values, so memory and drawing grow with the points received, not with units × the union of
// every unit's timestamps (what one shared x column would cost: each unit reads at its own
// instants). The legend names the series; values are not tracked under the cursor.
function render(el, plot, s, { d, units, labels, scale, partitioned }) {
  const keys = [...s.series.keys()].sort();
  const data = [null, ...keys.map((k) => [s.series.get(k).xs, s.series.get(k).ys])];
  const counts = {};
  keys.forEach((k) => { const u = unitOf(k, partitioned); counts[u] = (counts[u] || 0) + s.series.get(k).xs.length; });
  el.closest('[data-chart]')?.setAttribute('data-unit-points', JSON.stringify(counts));
  const shape = keys.join('|');
  if (plot.current && plot.current._shape === shape) { plot.current.setData(data); return; }
  plot.current?.destroy();
  plot.current = null;
  if (keys.length === 0) return; // nothing to draw yet: the first point rebuilds it
  const decimals = d.fixed_decimals ?? 2;
  const stepped = !d.interpolation || d.interpolation.startsWith('step');
  const paths = stepped ? uPlot.paths.stepped({ align: d.interpolation === 'stepBefore' ? -1 : 1 }) : uPlot.paths.linear();
  const domain = Array.isArray(d.y_axis_domain) ? d.y_axis_domain : null;
  const narrow = el.clientWidth < 500;
  const font = narrow ? '11px system-ui, sans-serif' : '12px system-ui, sans-serif';
  const opts = {
    mode: 2,
    ...size(el),
    scales: {
      x: { time: scale !== 'hours' },
      y: { range: (u, min, max) => {
        if (!domain) return uPlot.rangeNum(min, max, 0.1, true);
        const lo = Number.isFinite(min) ? Math.min(domain[0], min) : domain[0];
        const hi = Number.isFinite(max) ? Math.max(domain[1], max) : domain[1];
        return [lo, hi];
      } },
    },
    axes: [
      { label: scale === 'hours' ? 'Elapsed time, h' : undefined, font, labelFont: font, labelSize: 18, space: narrow ? 70 : 90,
        values: scale === 'hours' ? undefined : (u, vals) => vals.map((v) => axisClock(v * 1000, u.scales.x)) },
      { label: d.y_axis_label, font, labelFont: font, labelSize: 18, size: narrow ? 46 : 56,
        values: (u, vals) => vals.map((v) => v.toFixed(Math.min(decimals, 4))) },
    ],
    legend: { show: true, live: false },
    cursor: { drag: { x: true, y: false, setScale: true }, points: { show: false } },
    series: [
      {},
      ...keys.map((k) => {
        const u = unitOf(k, partitioned);
        const angle = partitioned ? k.slice(k.lastIndexOf('-') + 1) : '';
        const name = labels?.[u] || u;
        return {
          label: angle ? `${name} ${angle}°` : name,
          stroke: unitColor(u, units),
          dash: partitioned && angle !== firstAngle(keys, u) ? [6, 4] : undefined,
          width: 1.5, paths, points: { show: false },
          facets: [{ scale: 'x', auto: true }, { scale: 'y', auto: true }],
        };
      }),
    ],
  };
  plot.current = new uPlot(opts, data, el);
  plot.current._shape = shape;
}

// axisClock labels the time axis: hours and minutes, with the day when the window spans days.
function axisClock(ms, x) {
  const d = new Date(ms);
  const hm = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  return x && x.max - x.min > 86400 ? `${d.toLocaleDateString([], { month: 'short', day: 'numeric' })} ${hm}` : hm;
}

function firstAngle(keys, unit) {
  const k = keys.find((x) => x.startsWith(`${unit}-`));
  return k ? k.slice(k.lastIndexOf('-') + 1) : '';
}

function download(u, name) {
  if (!u) return;
  const a = document.createElement('a');
  a.href = u.ctx.canvas.toDataURL('image/png');
  a.download = `${name}.png`;
  a.click();
}
