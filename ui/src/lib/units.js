// The units of an experiment and their labels, shared by the overview, the Pioreactors page and
// the logs: the workers assigned (active ones first), and label per unit.
import { useEffect, useState } from 'preact/hooks';
import { get, enc } from './api.js';

export function useExperimentUnits(exp, version = 0) {
  const [state, setState] = useState({ workers: [], labels: {}, loaded: false, error: null });
  useEffect(() => {
    if (!exp) { setState({ workers: [], labels: {}, loaded: true, error: null }); return undefined; }
    let live = true;
    Promise.all([
      get(`/api/experiments/${enc(exp)}/workers`),
      get(`/api/experiments/${enc(exp)}/unit_labels`).catch(() => ({})),
    ]).then(([workers, labels]) => {
      if (!live) return;
      const sorted = [...(workers || [])].sort((a, b) => a.pioreactor_unit.localeCompare(b.pioreactor_unit));
      setState({ workers: sorted, labels: labels || {}, loaded: true, error: null });
    }, (error) => { if (live) setState((s) => ({ ...s, loaded: true, error })); });
    return () => { live = false; };
  }, [exp, version]);
  const units = state.workers.map((w) => w.pioreactor_unit);
  return { ...state, units };
}
