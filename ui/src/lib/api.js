// The one way the dashboard talks HTTP to the leader: JSON in and out, the API key (when the
// leader asks for one) on every request, errors as ApiError carrying the daemon's envelope.
import { signal } from '@preact/signals';

const KEY_STORAGE = 'pioreactorApiKey';

export const apiKey = signal(readStored());
// needLogin turns true when the leader answered 401: the shell then shows the login form.
export const needLogin = signal(false);

function readStored() {
  try { return localStorage.getItem(KEY_STORAGE) || ''; } catch { return ''; }
}

export function saveApiKey(key) {
  apiKey.value = key;
  try { localStorage.setItem(KEY_STORAGE, key); } catch { /* private mode: keep it for this tab */ }
  needLogin.value = false;
}

export class ApiError extends Error {
  constructor(status, body) {
    const env = body && typeof body === 'object' ? body : null;
    super(env?.error || (typeof body === 'string' && body) || `HTTP ${status}`);
    this.status = status;
    this.cause = env?.cause || '';
    this.remediation = env?.remediation || '';
    this.diagnostics = env?.diagnostics || [];
    this.body = body;
  }
  // detail is the message a person reads: what failed and why.
  get detail() {
    // The daemon's cause often starts by repeating the message: say it once.
    let cause = this.cause || '';
    if (cause.startsWith(this.message)) cause = cause.slice(this.message.length).replace(/^[\s:.—-]+/, '');
    return [this.message, cause, this.remediation].filter(Boolean).join(' — ');
  }
}

export function headers(json) {
  // X-Requested-With keeps the leader from answering 401 with a basic-auth challenge, which
  // would make the browser open its own password prompt instead of our login page.
  const h = { 'X-Requested-With': 'XMLHttpRequest' };
  if (apiKey.value) h.Authorization = `Bearer ${apiKey.value}`;
  if (json) h['Content-Type'] = 'application/json';
  return h;
}

export async function request(method, path, body, { signal: abort } = {}) {
  const res = await fetch(path, {
    method,
    headers: headers(body !== undefined),
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: abort,
    // The leader lets clients keep some reads for a few seconds (docs/http.md); a page that
    // just changed something must not be shown the answer from before the change.
    cache: 'no-cache',
  });
  const type = res.headers.get('content-type') || '';
  let data = null;
  if (res.status !== 204) data = type.includes('json') ? await res.json().catch(() => null) : await res.text();
  if (res.status === 401) needLogin.value = true;
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

export const get = (path, opts) => request('GET', path, undefined, opts);
export const post = (path, body, opts) => request('POST', path, body ?? {}, opts);
export const put = (path, body, opts) => request('PUT', path, body ?? {}, opts);
export const patch = (path, body, opts) => request('PATCH', path, body ?? {}, opts);
export const del = (path, opts) => request('DELETE', path, undefined, opts);

// enc escapes one path segment (experiment names may hold spaces, `$experiment` a dollar).
export const enc = (s) => encodeURIComponent(s);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// waitTask follows a task the leader accepted (202 with result_url_path) until it settles: 202
// means keep polling, 200 carries the outcome; status "failed" becomes an ApiError.
export async function waitTask(accepted, { interval = 1000, tries = 500, onPoll } = {}) {
  const path = accepted?.result_url_path || (accepted?.task_id && `/unit_api/task_results/${accepted.task_id}`);
  if (!path) return accepted;
  for (let i = 0; i < tries; i++) {
    const res = await fetch(path, { headers: headers(false), cache: 'no-store' });
    if (res.status === 401) needLogin.value = true;
    const data = await res.json().catch(() => null);
    if (res.status === 202) { onPoll?.(data); await sleep(interval); continue; }
    if (!res.ok) throw new ApiError(res.status, data);
    if (data?.status === 'failed') throw new ApiError(500, { error: 'Task failed', cause: errorText(data.error) });
    return data?.result ?? data;
  }
  throw new ApiError(504, { error: 'Task did not finish', cause: `still pending after ${tries} polls` });
}

function errorText(e) {
  if (!e) return 'no reason given';
  if (typeof e === 'string') return e;
  return e.message || e.error || JSON.stringify(e);
}

// fanOut reads a task result of the shape {unit: {ok, unit, value|error}}: only ok entries
// carry a value; anything else is an error with a message (a non-object counts as failure).
export function fanOut(result) {
  const out = {};
  if (!result || typeof result !== 'object') return out;
  for (const [unit, r] of Object.entries(result)) {
    if (r && typeof r === 'object' && r.ok === true) out[unit] = { ok: true, value: r.value };
    else out[unit] = { ok: false, error: errorText(r && typeof r === 'object' ? r.error : 'malformed answer') };
  }
  return out;
}
