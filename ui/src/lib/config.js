// The cluster's shared config.ini as the leader serves it to browsers (its [mqtt] pointing at the
// WebSocket listener this page can reach), parsed by the daemon: {section: {key: value}}.
import { signal } from '@preact/signals';
import { get } from './api.js';

export const sharedConfig = signal(null);

export async function loadSharedConfig() {
  sharedConfig.value = await get('/api/config/shared?format=json');
  return sharedConfig.value;
}

// section returns a config section (an empty object when missing).
export function section(name, conf = sharedConfig.value) {
  return (conf && conf[name]) || {};
}

// flag reads a boolean config value the way the daemon does.
export function flag(value) {
  return ['1', 'true', 'True', 'yes', 'on'].includes(String(value ?? '').trim());
}

// photodiodeAngles maps an OD channel ("1".."4") to its angle label, dropping REF and unused
// channels ([od_config.photodiode_channel]).
export function photodiodeAngles(conf = sharedConfig.value) {
  const out = {};
  for (const [ch, angle] of Object.entries(section('od_config.photodiode_channel', conf))) {
    if (angle && angle !== 'REF') out[ch] = angle;
  }
  return out;
}
