// Pieces of the experiment forms (new experiment, experiments list): the tag chips input, name
// validation, and the "Edit details" dialog for any experiment (not only the selected one).
import { useEffect, useState } from 'preact/hooks';
import { patch, enc } from '../lib/api.js';
import { experiment, experimentsVersion, refreshExperiment } from '../lib/experiment.js';
import { Dialog, ErrorLine } from './ui.jsx';

// nameProblem says what is wrong with a new experiment name, '' when nothing is. The daemon
// checks again; this only spares a round trip for the common mistakes.
export function nameProblem(name, existing = []) {
  if (!name.trim()) return 'A name is required.';
  if (/[$%#\\/+]/.test(name)) return 'Cannot contain $ % # \\ / +';
  if (existing.includes(name)) return 'This name is already used.';
  return '';
}

// TagsInput edits a list of tags as chips: Enter or a comma adds what was typed, ✕ removes a
// chip; suggestions (other experiments' tags) are added with one click.
export function TagsInput({ tags, onChange, suggestions = [], name = 'tags' }) {
  const [text, setText] = useState('');
  const add = (raw) => {
    const fresh = raw.split(',').map((t) => t.trim()).filter((t) => t && !tags.includes(t));
    if (fresh.length) onChange([...tags, ...new Set(fresh)]);
    setText('');
  };
  const onKeyDown = (ev) => {
    if (ev.key === 'Enter' || ev.key === ',') { ev.preventDefault(); add(ev.currentTarget.value); }
    if (ev.key === 'Backspace' && !text && tags.length) onChange(tags.slice(0, -1));
  };
  const offered = [...new Set(suggestions)].filter((t) => !tags.includes(t)).slice(0, 12);
  return (
    <div class="tags-input">
      <div class="row" style="gap:.3rem">
        {tags.map((t) => (
          <span class="pill" key={t} data-tag={t}>
            {t}
            <button type="button" class="icon small" aria-label={`Remove tag ${t}`} onClick={() => onChange(tags.filter((x) => x !== t))}>✕</button>
          </span>
        ))}
        <input name={name} value={text} placeholder="add a tag, Enter" aria-label="Add a tag"
          onInput={(e) => setText(e.currentTarget.value)} onKeyDown={onKeyDown} onBlur={(e) => text && add(e.currentTarget.value)} />
      </div>
      {offered.length > 0 && (
        <div class="row muted" style="gap:.3rem;margin-top:.3rem;font-size:.85rem">
          Used before:
          {offered.map((t) => <button type="button" class="small" key={t} onClick={() => add(t)}>+ {t}</button>)}
        </div>
      )}
    </div>
  );
}

// EditDetails edits the description and tags of exp; onSaved runs after the PATCH.
export function EditDetails({ exp, open, onClose, onSaved, suggestions }) {
  const [description, setDescription] = useState('');
  const [tags, setTags] = useState([]);
  const [err, setErr] = useState(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => { setDescription(exp?.description || ''); setTags(exp?.tags || []); setErr(null); }, [open, exp?.experiment]);
  if (!exp) return null;
  const save = async (ev) => {
    ev.preventDefault();
    setBusy(true); setErr(null);
    try {
      await patch(`/api/experiments/${enc(exp.experiment)}`, { description, tags });
      // The selected experiment is a copy in the browser: re-read it so the shell shows the edit.
      if (experiment.value?.experiment === exp.experiment) await refreshExperiment();
      else experimentsVersion.value++;
      onSaved?.();
      onClose();
    } catch (e) { setErr(e); } finally { setBusy(false); }
  };
  return (
    <Dialog open={open} onClose={onClose} title={`Edit ${exp.experiment}`} name="edit-experiment">
      <form onSubmit={save}>
        <label class="block">Description<textarea name="description" rows={4} value={description} onInput={(e) => setDescription(e.currentTarget.value)} /></label>
        <div class="block" style="margin-bottom:.6rem"><span>Tags</span><TagsInput tags={tags} onChange={setTags} suggestions={suggestions} /></div>
        <ErrorLine error={err} />
        <div class="actions"><button type="button" onClick={onClose}>Cancel</button><button type="submit" class="primary" disabled={busy}>Save</button></div>
      </form>
    </Dialog>
  );
}
