// A calibration's curve (curve_data_: poly, spline or akima, as pkg/calibration evaluates it)
// over the points it was fitted to (recorded_data), drawn with uPlot.
import uPlot from 'uplot';
import { useEffect, useRef } from 'preact/hooks';

// curveY evaluates curve_data_ at x: poly coefficients highest degree first; spline/akima
// pieces [a, b, c, d] on knots, extrapolating beyond the end knots (docs/profiles.md "Curves").
export function curveY(curve, x) {
  if (!curve) return null;
  if (curve.type === 'poly') {
    const cs = curve.coefficients || [];
    if (!cs.length) return null;
    return cs.reduce((acc, c) => acc * x + c, 0);
  }
  const knots = curve.knots || [];
  const pieces = curve.coefficients || [];
  if (!knots.length || !pieces.length) return null;
  const n = knots.filter((t) => t <= x).length;
  const i = Math.max(0, Math.min(n - 1, pieces.length - 1));
  const [a, b, c, d] = pieces[i];
  const u = x - knots[i];
  return a + u * (b + u * (c + u * d));
}

// The x range drawn when there are no recorded points: a typical span per type.
const DEFAULT_RANGE = { simple_peristaltic_pump: [0, 30], simple_stirring: [0, 100], od: [0, 1.5], od600: [0, 1.5] };

export function rangeOf(cal) {
  const xs = (cal.recorded_data?.x || []).filter(Number.isFinite);
  if (xs.length >= 2 && Math.min(...xs) < Math.max(...xs)) {
    const lo = Math.min(...xs), hi = Math.max(...xs), pad = (hi - lo) * 0.05;
    return [lo - pad, hi + pad];
  }
  if (cal.curve_data_?.knots?.length >= 2) {
    const k = cal.curve_data_.knots;
    return [k[0], k[k.length - 1]];
  }
  return DEFAULT_RANGE[cal.calibration_type] || [0, Math.max(1, ...xs.map((x) => x * 1.2))];
}

// plotData aligns the curve (120 samples) and the recorded points on one x axis, as uPlot
// wants; repeated x values of recorded points are nudged apart so none is lost.
export function plotData(cal) {
  const [lo, hi] = rangeOf(cal);
  const rows = [];
  for (let i = 0; i <= 120; i++) {
    const x = lo + ((hi - lo) * i) / 120;
    rows.push([x, curveY(cal.curve_data_, x), null]);
  }
  const rx = cal.recorded_data?.x || [];
  const ry = cal.recorded_data?.y || [];
  const seen = new Map();
  rx.forEach((x, i) => {
    if (!Number.isFinite(x) || !Number.isFinite(ry[i])) return;
    const k = seen.get(x) || 0;
    seen.set(x, k + 1);
    rows.push([x + k * 1e-9 * Math.max(1, Math.abs(x)), null, ry[i]]);
  });
  rows.sort((a, b) => a[0] - b[0]);
  return [rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2])];
}

export function CalibrationPlot({ cal }) {
  const box = useRef(null);
  useEffect(() => {
    const el = box.current;
    const width = () => Math.max(260, el.clientWidth);
    const opts = {
      width: width(),
      height: 300,
      scales: { x: { time: false } },
      axes: [{ label: cal.x || 'x' }, { label: cal.y || 'y' }],
      series: [
        { label: cal.x || 'x' },
        { label: 'curve', stroke: '#0e7490', width: 2, spanGaps: true, points: { show: false } },
        { label: 'recorded', stroke: '#c2410c', fill: '#c2410c', paths: () => null, points: { show: true, size: 8, fill: '#c2410c' } },
      ],
      legend: { live: true },
    };
    const u = new uPlot(opts, plotData(cal), el);
    const ro = new ResizeObserver(() => u.setSize({ width: width(), height: 300 }));
    ro.observe(el);
    return () => { ro.disconnect(); u.destroy(); };
  }, [cal]);
  return <div ref={box} class="plot" data-calibration-plot role="img" aria-label={`${cal.y || 'y'} against ${cal.x || 'x'}: the fitted curve and the recorded points`} />;
}
