// Live data: one MQTT-over-WebSocket connection to the leader's broker, shared by every widget.
// Subscriptions are counted per topic filter (the broker sees one SUBSCRIBE however many
// widgets listen) and each message goes to every handler whose filter matches it.
import mqtt from 'mqtt';
import { signal } from '@preact/signals';

export const mqttStatus = signal('connecting'); // connecting | connected | offline | failed

let client = null;
const handlers = new Map(); // filter -> Set<fn(topic, text, retained)>
const decoder = new TextDecoder();

// matches reports whether an MQTT topic filter (with + and #) matches a topic.
export function matches(filter, topic) {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

// brokerURLs lists the WebSocket addresses of [mqtt] (broker_address may name several hosts
// separated by ';'); a loopback address is replaced by the host the page came from, so a
// dashboard opened from another machine reaches the leader, not itself.
export function brokerURLs(mqttSection = {}, pageHost = location.hostname) {
  const proto = mqttSection.ws_protocol || (location.protocol === 'https:' ? 'wss' : 'ws');
  const port = mqttSection.broker_ws_port || 9001;
  const hosts = String(mqttSection.broker_address || pageHost).split(';').map((h) => h.trim()).filter(Boolean);
  return hosts.map((h) => {
    const host = ['localhost', '127.0.0.1', '::1'].includes(h) && pageHost ? pageHost : h;
    return `${proto}://${host.includes(':') ? `[${host}]` : host}:${port}/mqtt`;
  });
}

// connect opens the shared connection, trying each broker URL in turn (3 rounds).
export async function connect(mqttSection) {
  if (client) return client;
  const urls = brokerURLs(mqttSection);
  const opts = {
    username: mqttSection?.username || undefined,
    password: mqttSection?.password || undefined,
    keepalive: 120,
    clean: true,
    connectTimeout: 1000 * 5,
    reconnectPeriod: 2000,
    clientId: `ui_${Math.random().toString(16).slice(2, 14)}`,
  };
  for (let round = 0; round < 3; round++) {
    for (const url of urls) {
      const c = await tryConnect(url, opts).catch(() => null);
      if (c) { adopt(c); return c; }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  mqttStatus.value = 'failed';
  throw new Error(`could not reach the MQTT broker at ${urls.join(', ')}`);
}

function tryConnect(url, opts) {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(url, { ...opts, reconnectPeriod: 0 });
    const fail = (err) => { c.end(true); reject(err || new Error('connect failed')); };
    const timer = setTimeout(() => fail(new Error('timeout')), 3000);
    c.once('connect', () => { clearTimeout(timer); c.options.reconnectPeriod = opts.reconnectPeriod; resolve(c); });
    c.once('error', (e) => { clearTimeout(timer); fail(e); });
  });
}

function adopt(c) {
  client = c;
  mqttStatus.value = 'connected';
  c.on('connect', () => { mqttStatus.value = 'connected'; });
  c.on('offline', () => { mqttStatus.value = 'offline'; });
  c.on('reconnect', () => { mqttStatus.value = 'connecting'; });
  c.on('message', (topic, payload, packet) => {
    const text = decoder.decode(payload);
    for (const [filter, fns] of handlers) {
      if (!matches(filter, topic)) continue;
      for (const fn of fns) {
        try { fn(topic, text, packet.retain); } catch (e) { console.error('mqtt handler', topic, e); }
      }
    }
  });
  for (const filter of handlers.keys()) c.subscribe(filter, { qos: 0 });
}

// subscribe calls fn(topic, payloadText, retained) for every message matching filter and
// returns the function that ends it. Safe to call before the connection exists.
export function subscribe(filter, fn) {
  let set = handlers.get(filter);
  if (!set) {
    set = new Set();
    handlers.set(filter, set);
    client?.subscribe(filter, { qos: 0 });
  }
  set.add(fn);
  return () => {
    set.delete(fn);
    if (set.size === 0 && handlers.get(filter) === set) {
      handlers.delete(filter);
      client?.unsubscribe(filter);
    }
  };
}

export function publish(topic, payload, opts = {}) {
  client?.publish(topic, payload, { qos: opts.qos ?? 0, retain: false });
}

// parseValue reads a retained setting by its declared type: numeric -> number (empty stays
// empty), boolean -> true for 1/true/True, json -> object, else the text.
export function parseValue(text, type) {
  switch (type) {
    case 'numeric': case 'float': case 'integer': {
      if (text === '') return '';
      const n = Number(text);
      return Number.isNaN(n) ? text : n;
    }
    case 'boolean': case 'bool':
      return ['1', 'true', 'True'].includes(text);
    case 'json':
      try { return JSON.parse(text); } catch { return text; }
    default:
      return text;
  }
}
