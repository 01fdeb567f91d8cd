// A Pioreactor's card: its jobs from the descriptors with live state and settings, quick
// actions, inline edits of editable settings, Identify and the Control dialog.
import { useEffect, useState } from 'preact/hooks';
import { STATE_LABEL, AUTOMATIONS, useDescriptors, useLive, useTopic, startJob, updateJob, pauseJob, resumeJob, stopJob, blink } from '../lib/jobs.js';
import { formatValue, unitColor } from '../lib/format.js';
import { ErrorLine, toast } from './ui.jsx';
import { ControlDialog } from './ControlDialog.jsx';
import { AutomationDialog } from './AutomationForm.jsx';

export function UnitCard({ unit, worker, exp, units, labels, linkToUnit = true }) {
  const desc = useDescriptors(unit);
  const jobs = desc.jobs.filter((j) => j.display !== false);
  const collections = desc.collections.filter((c) => c.display !== false);
  const live = useLive(unit, exp, [...jobs, ...collections]);
  const monitor = useTopic(`pioreactor/${unit}/$experiment/monitor/$state`);
  const [control, setControl] = useState(false);
  const label = labels?.[unit];
  const model = worker?.model_name ? modelBadge(worker.model_name) : '';
  return (
    <article class="card unit-card" data-unit={unit}>
      <header>
        <span class="swatch" style={{ background: unitColor(unit, units) }} />
        <h2>{linkToUnit ? <a href={`/pioreactors/${encodeURIComponent(unit)}`}>{label ? `${label} / ${unit}` : unit}</a> : (label ? `${label} / ${unit}` : unit)}</h2>
        {model && <span class="pill">{model}</span>}
        <span class={`dot ${monitor || ''}`} title={`monitor: ${monitor || 'not available'}`} aria-label={`monitor ${monitor || 'not available'}`} />
        <button type="button" class="small" data-action="identify" onClick={() => blink(unit).then(() => toast(`${unit} is blinking`, 'info', 3000), (e) => toast(e.detail, 'error'))}>Identify</button>
        <button type="button" class="small" data-action="control" onClick={() => setControl(true)}>Control</button>
      </header>
      <ErrorLine error={desc.error} />
      <div class="jobs">
        {jobs.map((j) => <JobRow key={j.job_name} unit={unit} exp={exp} job={j} values={live.values[j.job_name] || {}} flash={live.flash} />)}
        {collections.map((c) => <CollectionRow key={c.key} collection={c} values={live.values[c.key] || {}} flash={live.flash} />)}
      </div>
      <ControlDialog open={control} onClose={() => setControl(false)} unit={unit} exp={exp} jobs={jobs} collections={collections} live={live} worker={worker} />
    </article>
  );
}

function modelBadge(name) {
  if (/XR/i.test(name)) return 'XR';
  const m = /(\d+)\s*ml/i.exec(name);
  return m ? `${m[1]} mL` : name;
}

// usePending shows a spinner on a job's buttons until the state it asked for arrives (or lost).
function usePending(state) {
  const [pending, setPending] = useState(null);
  useEffect(() => {
    if (pending && (state === pending || state === 'lost')) setPending(null);
  }, [state, pending]);
  return [pending, setPending];
}

export function JobRow({ unit, exp, job, values, flash }) {
  const state = values.$state || 'disconnected';
  const [pending, setPending] = usePending(state);
  const [chooser, setChooser] = useState(false);
  const [err, setErr] = useState(null);
  const isAutomation = AUTOMATIONS.includes(job.job_name);
  const act = (want, call) => async () => {
    setErr(null); setPending(want);
    try { await call(); } catch (e) { setPending(null); setErr(e); }
  };
  const running = state === 'ready' || state === 'sleeping' || state === 'init';
  const settings = (job.published_settings || []).filter((s) => s.display !== false);
  return (
    <div class="job" data-job={job.job_name} data-state={state}>
      <div class="job-head">
        <span class="name" title={job.description}>{job.display_name || job.job_name}</span>
        <span class={`pill ${state}`} data-role="state">{STATE_LABEL[state] || state}</span>
        {pending && <span class="spinner" role="status" aria-label="waiting for the job" />}
        {!running && (isAutomation
          ? <button type="button" class="small" data-action="start" onClick={() => setChooser(true)}>Start</button>
          : <button type="button" class="small" data-action="start" disabled={!!pending} onClick={act('ready', () => startJob(unit, job.job_name, exp))}>Start</button>)}
        {state === 'ready' && <button type="button" class="small" data-action="pause" disabled={!!pending} onClick={act('sleeping', () => pauseJob(unit, job.job_name, exp))}>Pause</button>}
        {state === 'sleeping' && <button type="button" class="small" data-action="resume" disabled={!!pending} onClick={act('ready', () => resumeJob(unit, job.job_name, exp))}>Resume</button>}
        {running && <button type="button" class="small danger" data-action="stop" disabled={!!pending} onClick={act('disconnected', () => stopJob(unit, job.job_name, exp))}>Stop</button>}
      </div>
      <ErrorLine error={err} />
      {running && settings.length > 0 && (
        <dl class="settings">
          {settings.map((s) => (
            <Setting key={s.key} setting={s} value={values[s.key]} flashCount={flash[`${job.job_name}/${s.key}`]}
              onSave={(v) => updateJob(unit, job.job_name, exp, { [s.key]: v })} />
          ))}
        </dl>
      )}
      {isAutomation && (
        <AutomationDialog open={chooser} onClose={() => setChooser(false)} unit={unit} exp={exp} kind={job.job_name.replace('_automation', '')}
          onStarted={() => setPending('ready')} />
      )}
    </div>
  );
}

// CollectionRow shows a settings collection (bioreactor, LEDs, PWMs) read-only: they are
// changed in the Control dialog, where the pumps and LEDs are.
function CollectionRow({ collection, values, flash }) {
  const settings = (collection.published_settings || []).filter((s) => s.display !== false);
  return (
    <div class="job" data-job={collection.key} data-collection>
      <div class="job-head"><span class="name" title={collection.description}>{collection.display_name || collection.key}</span></div>
      <dl class="settings">
        {settings.map((s) => (
          <Setting key={s.key} setting={{ ...s, editable: false }} value={values[s.key]} flashCount={flash[`${collection.key}/${s.key}`]} />
        ))}
      </dl>
    </div>
  );
}

// Setting shows one published value with its unit; an editable one with a value becomes a
// small form (Enter saves), whose value is sent as the setting's /set.
export function Setting({ setting: s, value, flashCount, onSave }) {
  const [draft, setDraft] = useState(null);
  const [err, setErr] = useState('');
  const [flashing, setFlashing] = useState(false);
  useEffect(() => {
    if (!flashCount) return undefined;
    setFlashing(true);
    const t = setTimeout(() => setFlashing(false), 1200);
    return () => clearTimeout(t);
  }, [flashCount]);
  const editable = s.editable && value !== undefined && value !== '' && (s.type === 'numeric' || s.type === 'string' || s.type === 'boolean');
  const submit = async (ev) => {
    ev.preventDefault();
    let v = draft;
    if (s.type === 'numeric') {
      v = Number(draft);
      if (draft === '' || !Number.isFinite(v)) { setErr('a number'); return; }
      if ((s.min !== undefined && v < s.min) || (s.max !== undefined && v > s.max)) { setErr(`${s.min ?? '−∞'}–${s.max ?? '∞'}`); return; }
    }
    try { await onSave(v); setDraft(null); setErr(''); } catch (e) { setErr(e.detail || e.message); }
  };
  return (
    <>
      <dt title={s.description}>{s.label || s.key}</dt>
      <dd class={flashing ? 'flash' : ''} data-setting={s.key} data-value={typeof value === 'object' ? JSON.stringify(value) : String(value ?? '')}>
        {!editable && formatValue(value, s.unit, s.key)}
        {editable && s.type === 'boolean' && (
          <input type="checkbox" aria-label={s.label || s.key} data-setting-input={s.key} checked={!!value} onChange={(e) => onSave(e.currentTarget.checked ? 1 : 0).catch((x) => setErr(x.detail))} />
        )}
        {editable && s.type !== 'boolean' && (
          <form onSubmit={submit} class="row" style="justify-content:flex-end;gap:.3rem">
            <input aria-label={s.label || s.key} data-setting-input={s.key} inputMode={s.type === 'numeric' ? 'decimal' : undefined}
              value={draft ?? String(value)} onInput={(e) => setDraft(e.currentTarget.value)}
              onKeyDown={(e) => { if (e.key === 'Escape') setDraft(null); }} />
            {s.unit && <span class="muted">{s.unit}</span>}
            {draft !== null && <button type="submit" class="small primary" data-action="set">Set</button>}
          </form>
        )}
        {err && <span class="error" role="alert"> {err}</span>}
      </dd>
    </>
  );
}
