// The experiment the dashboard shows: kept in the browser (localStorage experimentMetadata, as
// the original dashboard does), refreshed from the leader when older than an hour or deleted.
import { signal } from '@preact/signals';
import { get, enc } from './api.js';

const STORAGE = 'experimentMetadata';
const MAX_AGE_MS = 3600 * 1000;

export const experiment = signal(null); // {experiment, created_at, description, tags, ...}
export const experimentsVersion = signal(0); // bumped when the list changed (create, delete, edit)

function stored() {
  try { return JSON.parse(localStorage.getItem(STORAGE) || 'null'); } catch { return null; }
}

export function selectExperiment(exp) {
  experiment.value = exp;
  try {
    if (exp) localStorage.setItem(STORAGE, JSON.stringify({ ...exp, _createdAt: Date.now() }));
    else localStorage.removeItem(STORAGE);
  } catch { /* storage unavailable: keep it for this tab */ }
}

// loadExperiment restores the stored experiment, refreshing it from the leader when stale; a
// deleted one (404) falls back to the latest, which is null on a fresh install.
export async function loadExperiment() {
  const s = stored();
  if (s && Date.now() - (s._createdAt || 0) < MAX_AGE_MS) {
    experiment.value = s;
    return s;
  }
  let exp = null;
  if (s?.experiment) {
    try { exp = await get(`/api/experiments/${enc(s.experiment)}`); } catch (e) { if (e.status !== 404) throw e; }
  }
  if (!exp) exp = await get('/api/experiments/latest');
  selectExperiment(exp || null);
  return exp;
}

// refreshExperiment re-reads the selected experiment (after an edit).
export async function refreshExperiment() {
  const name = experiment.value?.experiment;
  if (!name) return loadExperiment();
  try {
    selectExperiment(await get(`/api/experiments/${enc(name)}`));
  } catch (e) {
    if (e.status === 404) selectExperiment(await get('/api/experiments/latest'));
    else throw e;
  }
  experimentsVersion.value++;
}
