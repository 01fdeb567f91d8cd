// The export page's dataset list: a checkbox per exportable dataset with its description, and a
// preview of a few rows fetched only when opened.
import { useState } from 'preact/hooks';
import { get, enc } from '../lib/api.js';
import { ErrorLine, Spinner } from './ui.jsx';

export function DatasetList({ datasets, chosen, onToggle }) {
  if (datasets.length === 0) return <p class="empty">The leader offers no dataset to export.</p>;
  return (
    <ul style="list-style:none;margin:0;padding:0">
      {datasets.map((d) => (
        <li key={d.dataset_name} data-dataset={d.dataset_name} style="border-bottom:1px solid var(--line);padding:.5rem 0">
          <label style="align-items:flex-start">
            <input type="checkbox" name="dataset" value={d.dataset_name} checked={chosen.has(d.dataset_name)} onChange={() => onToggle(d.dataset_name)} style="margin-top:.3rem" />
            <span>
              <strong>{d.display_name || d.dataset_name}</strong>
              {d.source && d.source !== 'app' && <span class="muted"> · Provided by {d.source}</span>}
              {d.description && <span class="muted" style="display:block;font-size:.9rem">{d.description}</span>}
            </span>
          </label>
          <Preview name={d.dataset_name} />
        </li>
      ))}
    </ul>
  );
}

// Preview loads its rows the first time it is opened.
function Preview({ name }) {
  const [state, setState] = useState({ rows: null, error: null });
  const onToggle = (ev) => {
    if (!ev.currentTarget.open || state.rows) return;
    get(`/api/datasets/exportable/${enc(name)}/preview?n_rows=5`).then(
      (rows) => setState({ rows: Array.isArray(rows) ? rows : [], error: null }),
      (error) => setState({ rows: null, error }),
    );
  };
  const rows = state.rows;
  const cols = rows ? [...new Set(rows.flatMap((r) => Object.keys(r)))] : [];
  return (
    <details onToggle={onToggle} style="margin:.3rem 0 0 1.6rem">
      <summary class="muted" style="cursor:pointer;font-size:.9rem">Preview</summary>
      <p class="muted" style="font-size:.85rem;margin:.3rem 0">A random sample of rows from all experiments.</p>
      <ErrorLine error={state.error} />
      {!rows && !state.error && <Spinner />}
      {rows && rows.length === 0 && <p class="muted">No rows yet.</p>}
      {rows && rows.length > 0 && (
        <div class="table-wrap">
          <table style="font-size:.8rem">
            <thead><tr>{cols.map((c) => <th key={c}>{c}</th>)}</tr></thead>
            <tbody>{rows.map((r, i) => <tr key={i}>{cols.map((c) => <td key={c} style="white-space:nowrap">{cell(r[c])}</td>)}</tr>)}</tbody>
          </table>
        </div>
      )}
    </details>
  );
}

function cell(v) {
  if (v === null || v === undefined) return '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}
