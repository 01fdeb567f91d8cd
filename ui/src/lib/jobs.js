// Jobs as the dashboard sees them: descriptors from the leader, live state and settings from
// retained MQTT topics, and the REST calls that start, change, pause, resume and stop them.
import { useEffect, useState } from 'preact/hooks';
import { get, patch, post, enc } from './api.js';
import { subscribe, parseValue } from './mqtt.js';

export const STATE_LABEL = { init: 'Starting', ready: 'On', sleeping: 'Paused', disconnected: 'Off', lost: 'Lost' };
export const AUTOMATIONS = ['temperature_automation', 'dosing_automation', 'led_automation'];
export const MONITOR_SETTINGS = ['versions', 'voltage_on_pwm_rail', 'ipv4', 'wlan_mac_address', 'eth_mac_address'];

// useDescriptors loads a unit's job and settings-collection descriptors ($broadcast: the
// leader's variants, as the per-unit routes refuse it).
export function useDescriptors(unit) {
  const [d, setD] = useState({ jobs: [], collections: [], error: null, loaded: false });
  useEffect(() => {
    let live = true;
    const base = unit === '$broadcast' ? '/api' : `/api/workers/${enc(unit)}`;
    Promise.all([get(`${base}/jobs/descriptors`), get(`${base}/settings/descriptors`).catch(() => [])]).then(
      ([jobs, collections]) => { if (live) setD({ jobs: jobs || [], collections: collections || [], error: null, loaded: true }); },
      (error) => { if (live) setD({ jobs: [], collections: [], error, loaded: true }); },
    );
    return () => { live = false; };
  }, [unit]);
  return d;
}

// useLive follows the retained values under pioreactor/<unit>/<exp>/<job>/... for the given
// jobs (and settings collections): {job: {$state, setting: value}}. Values are parsed by the
// declared type; `flash` names the fields whose last change was live (not retained).
export function useLive(unit, exp, jobs) {
  const [values, setValues] = useState({});
  const [flash, setFlash] = useState({});
  const key = jobs.map((j) => j.job_name || j.key).join(',');
  useEffect(() => {
    if (!unit || !exp) return undefined;
    setValues({});
    const types = {};
    for (const j of jobs) {
      const name = j.job_name || j.key;
      types[name] = {};
      for (const s of j.published_settings || []) types[name][s.key] = s.type;
    }
    const offs = Object.keys(types).map((job) => subscribe(`pioreactor/${unit}/${exp}/${job}/+`, (topic, text, retained) => {
      const setting = topic.slice(topic.lastIndexOf('/') + 1);
      if (setting !== '$state' && !(setting in types[job])) return;
      const v = setting === '$state' ? text : parseValue(text, types[job][setting]);
      setValues((all) => ({ ...all, [job]: { ...all[job], [setting]: v } }));
      if (!retained && setting !== '$state') {
        const id = `${job}/${setting}`;
        setFlash((f) => ({ ...f, [id]: (f[id] || 0) + 1 }));
      }
    }));
    return () => offs.forEach((off) => off());
  }, [unit, exp, key]);
  return { values, flash };
}

// useTopic follows one retained topic's text.
export function useTopic(topic) {
  const [v, setV] = useState(null);
  useEffect(() => {
    if (!topic) return undefined;
    setV(null);
    return subscribe(topic, (t, text) => setV(text));
  }, [topic]);
  return v;
}

const jobPath = (action, unit, job, exp) =>
  `/api/workers/${enc(unit)}/jobs/${action}/job_name/${enc(job)}/experiments/${enc(exp)}`;

// startJob runs a job; the HTTP answer is not the job's state (MQTT tells that).
export function startJob(unit, job, exp, options = {}, configOverrides = []) {
  return patch(jobPath('run', unit, job, exp), {
    args: [], options, env: { EXPERIMENT: exp, JOB_SOURCE: 'user' }, config_overrides: configOverrides,
  });
}

export function updateJob(unit, job, exp, settings) {
  return patch(jobPath('update', unit, job, exp), { settings });
}

export const pauseJob = (unit, job, exp) => updateJob(unit, job, exp, { $state: 'sleeping' });
export const resumeJob = (unit, job, exp) => updateJob(unit, job, exp, { $state: 'ready' });
export const stopJob = (unit, job, exp) => patch(jobPath('stop', unit, job, exp), {});
export const stopAll = (unit, exp) => post(`/api/workers/${enc(unit)}/jobs/stop/experiments/${enc(exp)}`, {});
export const blink = (unit) => post(`/api/workers/${enc(unit)}/blink`, {});
export const updateBioreactor = (unit, exp, values) =>
  patch(`/api/workers/${enc(unit)}/bioreactor/update/experiments/${enc(exp)}`, { values });
