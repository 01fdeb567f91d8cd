// The configuration editor (/config, /config/:unit): the shared config.ini or one unit's
// unit_config.ini, its saved snapshots, save with the daemon's validation shown at its line,
// and a zip of every file.
import { useEffect, useState } from 'preact/hooks';
import { useLocation, useRoute } from 'preact-iso';
import { get, patch, enc, headers, ApiError } from '../lib/api.js';
import { ErrorLine, Spinner, toast, useAsync } from '../components/ui.jsx';
import { formatClock, parseUTC } from '../lib/format.js';

// Edits not yet saved survive switching between files (for this tab's life).
const drafts = new Map();

// paths of a target: where its text is read and saved, and its snapshots.
function paths(target) {
  if (target === 'shared') return { text: '/api/config/shared', history: '/api/config/shared/history', file: 'config.ini' };
  const base = `/api/config/units/${enc(target)}/specific`;
  return { text: base, history: `${base}/history`, file: `unit_config.ini of ${target}` };
}

// loadText reads the file to edit. The shared file comes from the leader's own unit route,
// which serves it as written: /api/config/shared rewrites [mqtt] for the browser, and saving
// that rewrite would pin the workers' broker address to this page's host.
async function loadText(target) {
  if (target !== 'shared') return { text: (await get(paths(target).text)) ?? '', warning: '' };
  try {
    return { text: (await get('/unit_api/config/shared')) ?? '', warning: '' };
  } catch (e) {
    if (e.status === 401) throw e;
    return {
      text: (await get('/api/config/shared')) ?? '',
      warning: 'This copy has [mqtt] broker_address and broker_ws_port as this browser reaches them; check them before saving.',
    };
  }
}

// errorLineOf finds the line a refusal names ("line 12: ..."); 0 (not in this text) is none.
export function errorLineOf(e) {
  const m = /\bline (\d+)/.exec([e?.cause, e?.message, e?.remediation].filter(Boolean).join(' '));
  const n = m ? Number(m[1]) : 0;
  return n >= 1 ? n : 0;
}

// causeOf is the refusal's cause without the message it repeats ("Incorrect syntax… (line 3: …)").
function causeOf(e) {
  const c = e.cause || '';
  return (c.startsWith(e.message) ? c.slice(e.message.length) : c).trim();
}

export default function Config() {
  const { params } = useRoute();
  const { route } = useLocation();
  const target = params.unit || 'shared';
  const units = useAsync(() => get('/api/units'), []);
  const file = useAsync(() => Promise.all([loadText(target), get(paths(target).history).catch(() => [])]), [target]);

  const [Editor, setEditor] = useState(null);
  const [editorError, setEditorError] = useState(null);
  useEffect(() => {
    import('../components/ConfigEditor.jsx').then((m) => setEditor(() => m.ConfigEditor), setEditorError);
  }, []);

  const [text, setText] = useState('');
  const [saved, setSaved] = useState('');
  const [docKey, setDocKey] = useState(0);
  const [saveError, setSaveError] = useState(null);
  const [errorKey, setErrorKey] = useState(0);
  const [busy, setBusy] = useState(false);
  const [historyPick, setHistoryPick] = useState('');
  const [shown, setShown] = useState(null); // the target whose text the editor holds

  // A loaded file (or this tab's unsaved draft of it) replaces the editor's content.
  useEffect(() => {
    if (!file.data) return;
    const loaded = file.data[0].text;
    const draft = drafts.get(target);
    setSaved(loaded);
    setText(draft ?? loaded);
    setDocKey((k) => k + 1);
    setSaveError(null);
    setHistoryPick('');
    setShown(target);
  }, [file.data]);

  const edit = (t) => {
    setText(t);
    if (t === saved) drafts.delete(target); else drafts.set(target, t);
  };
  const replace = (t) => { edit(t); setDocKey((k) => k + 1); };

  const save = async () => {
    setBusy(true); setSaveError(null);
    try {
      await patch(paths(target).text, { code: text });
      drafts.delete(target);
      setSaved(text);
      toast(`Saved ${paths(target).file}`, 'success', 4000);
      file.reload();
    } catch (e) {
      setSaveError(e);
      setErrorKey((k) => k + 1);
    } finally { setBusy(false); }
  };

  const history = file.data?.[1] || [];
  const restore = (i) => {
    setHistoryPick(i);
    if (i !== '' && history[i]) replace(history[i].data ?? '');
  };

  const unitList = (units.data || []).map((u) => u.pioreactor_unit);
  const line = errorLineOf(saveError);
  const dirty = text !== saved;
  return (
    <section class="page" data-page="config">
      <div class="page-head">
        <h1>Configuration</h1>
        <DownloadAll />
      </div>
      <div class="card">
        <div class="row config-bar">
          <label>File
            <select name="target" value={target} onChange={(e) => route(e.currentTarget.value === 'shared' ? '/config' : `/config/${enc(e.currentTarget.value)}`)}>
              <option value="shared">shared (config.ini)</option>
              {unitList.map((u) => <option key={u} value={u}>{u} (unit_config.ini)</option>)}
              {target !== 'shared' && !unitList.includes(target) && <option value={target}>{target}</option>}
            </select>
          </label>
          <label>History
            <select name="history" value={historyPick} disabled={history.length === 0} onChange={(e) => restore(e.currentTarget.value)}>
              <option value="">{history.length ? 'Restore a saved version…' : 'No saved versions'}</option>
              {history.map((h, i) => <option key={i} value={String(i)}>{formatClock(parseUTC(h.timestamp), true)}</option>)}
            </select>
          </label>
          <span class="spacer" />
          {dirty && <span class="pill" data-dirty>unsaved changes</span>}
          {dirty && <button type="button" data-action="discard" onClick={() => { replace(saved); setHistoryPick(''); }}>Discard</button>}
          <button type="button" class="primary" data-action="save" disabled={busy || !file.data} onClick={save}>{busy ? 'Saving…' : 'Save'}</button>
        </div>
        <p class="muted config-help">
          {target === 'shared'
            ? 'Shared by every Pioreactor; saving copies it to each worker.'
            : `Overrides the shared file, key by key, on ${target} only.`} Jobs read it when they start.
        </p>
        <ErrorLine error={units.error} />
        <ErrorLine error={file.error} />
        {file.data?.[0].warning && <p class="muted" role="note">{file.data[0].warning}</p>}
        {saveError && (
          <div class="error" role="alert" data-config-error data-line={line || undefined}>
            {saveError.message}
            {causeOf(saveError) && <><br />{causeOf(saveError)}</>}
            {saveError.remediation && <><br /><span class="muted">{saveError.remediation}</span></>}
          </div>
        )}
        <ErrorLine error={editorError && `The editor could not load: ${editorError.message}`} />
        {shown !== target || !Editor
          ? <p><Spinner /> Loading…</p>
          : <Editor doc={text} docKey={docKey} onChange={edit} errorLine={line} errorKey={errorKey}
              label={`Contents of ${paths(target).file}`} />}
      </div>
    </section>
  );
}

// DownloadAll fetches the zip with the API key (a plain link would not send it).
function DownloadAll() {
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState(null);
  const go = async () => {
    setBusy(true); setErr(null);
    try {
      const res = await fetch('/api/config/zipped', { headers: headers(false) });
      if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => null));
      const url = URL.createObjectURL(await res.blob());
      const a = document.createElement('a');
      a.href = url; a.download = 'configuration_inis.zip';
      document.body.appendChild(a); a.click(); a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (e) { setErr(e); } finally { setBusy(false); }
  };
  return (
    <>
      <button type="button" data-action="download-all" disabled={busy} onClick={go}>{busy ? 'Preparing…' : 'Download all'}</button>
      {err && <ErrorLine error={err} />}
    </>
  );
}
