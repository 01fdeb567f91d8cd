// Small building blocks every page uses: dialogs (the browser's own <dialog>, so Escape, focus
// trapping and the backdrop come for free), confirmations, toasts, error lines and spinners.
import { signal } from '@preact/signals';
import { useEffect, useRef, useState } from 'preact/hooks';

export function Dialog({ open, onClose, title, name, children, wide }) {
  const ref = useRef(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog ref={ref} class={wide ? 'wide' : ''} data-dialog={name} onClose={onClose} aria-label={title}>
      <header class="dialog-head">
        <h2>{title}</h2>
        <button type="button" class="icon" aria-label="Close" onClick={onClose}>✕</button>
      </header>
      {open && children}
    </dialog>
  );
}

// ConfirmButton asks before it acts: the hardware-changing controls the original confirms.
export function ConfirmButton({ children, question, confirmLabel = 'Confirm', onConfirm, class: cls = '', danger, ...rest }) {
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState('');
  const go = async () => {
    setBusy(true); setErr('');
    try { await onConfirm(); setOpen(false); } catch (e) { setErr(e.detail || e.message); } finally { setBusy(false); }
  };
  return (
    <>
      <button type="button" class={`${cls} ${danger ? 'danger' : ''}`} onClick={() => setOpen(true)} {...rest}>{children}</button>
      <Dialog open={open} onClose={() => setOpen(false)} title={typeof children === 'string' ? children : 'Confirm'} name="confirm">
        <p>{question}</p>
        <ErrorLine error={err} />
        <div class="actions">
          <button type="button" onClick={() => setOpen(false)}>Cancel</button>
          <button type="button" class={danger ? 'danger' : 'primary'} data-action="confirm" disabled={busy} onClick={go}>{confirmLabel}</button>
        </div>
      </Dialog>
    </>
  );
}

export function ErrorLine({ error }) {
  if (!error) return null;
  return <p class="error" role="alert">{typeof error === 'string' ? error : (error.detail || error.message)}</p>;
}

export function Spinner({ label = 'Loading' }) {
  return <span class="spinner" role="status" aria-label={label} />;
}

// Toasts: short messages at the bottom of the screen; the same text is not stacked twice.
export const toasts = signal([]);
let nextToast = 1;
export function toast(text, kind = 'info', ms = 6000) {
  if (toasts.value.some((t) => t.text === text && t.kind === kind)) return;
  const id = nextToast++;
  toasts.value = [...toasts.value.slice(-4), { id, text, kind, sticky: ms === 0 }];
  if (ms > 0) setTimeout(() => dismiss(id), ms);
}
export function dismiss(id) { toasts.value = toasts.value.filter((t) => t.id !== id); }

export function Toasts() {
  return (
    <div class="toasts" aria-live="polite">
      {toasts.value.map((t) => (
        <div key={t.id} class={`toast ${t.kind}`} role={t.kind === 'error' ? 'alert' : 'status'}>
          <span>{t.text}</span>
          <button type="button" class="icon" aria-label="Dismiss" onClick={() => dismiss(t.id)}>✕</button>
        </div>
      ))}
    </div>
  );
}

// useAsync runs load whenever deps change and keeps {data, error, loading, reload}.
export function useAsync(load, deps) {
  const [state, setState] = useState({ data: undefined, error: null, loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    Promise.resolve().then(load).then(
      (data) => { if (live) setState({ data, error: null, loading: false }); },
      (error) => { if (live) setState({ data: undefined, error, loading: false }); },
    );
    return () => { live = false; };
  }, [...deps, tick]);
  return { ...state, reload: () => setTick((t) => t + 1) };
}

// Menu is a <details> drop-down that closes on a click outside it (its confirmation dialogs
// live inside it, so it stays open while one is shown).
export function Menu({ label, action, children }) {
  const ref = useRef(null);
  useEffect(() => {
    const close = (ev) => { if (ref.current?.open && !ref.current.contains(ev.target)) ref.current.open = false; };
    document.addEventListener('click', close);
    return () => document.removeEventListener('click', close);
  }, []);
  return (
    <details class="menu" ref={ref}>
      <summary class="button" data-action={action}>{label}</summary>
      <div class="menu-items card">{children}</div>
    </details>
  );
}
