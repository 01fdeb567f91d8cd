// The INI code editor of the configuration page: CodeMirror 6 with the `properties` legacy mode.
// It is its own module, imported with import() by pages/Config.jsx, so CodeMirror only loads
// when someone edits a config file.
import { useEffect, useRef } from 'preact/hooks';
import { EditorState, StateEffect, StateField, RangeSet } from '@codemirror/state';
import { EditorView, Decoration, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter, drawSelection } from '@codemirror/view';
import { StreamLanguage, syntaxHighlighting, defaultHighlightStyle, bracketMatching } from '@codemirror/language';
import { defaultKeymap, history, historyKeymap } from '@codemirror/commands';
import { properties } from '@codemirror/legacy-modes/mode/properties';

const ini = StreamLanguage.define(properties);

// The line the daemon refused is marked until another error replaces it (or it is cleared).
const setErrorLine = StateEffect.define();
const errorMark = Decoration.line({ class: 'cm-error-line' });
const errorField = StateField.define({
  create: () => Decoration.none,
  update(deco, tr) {
    let d = deco.map(tr.changes);
    for (const e of tr.effects) {
      if (!e.is(setErrorLine)) continue;
      const n = e.value;
      d = n && n >= 1 && n <= tr.state.doc.lines
        ? RangeSet.of([errorMark.range(tr.state.doc.line(n).from)])
        : Decoration.none;
    }
    return d;
  },
  provide: (f) => EditorView.decorations.from(f),
});

const theme = EditorView.theme({
  '&': { border: '1px solid var(--line)', borderRadius: '6px', background: '#fff', fontSize: '13.5px' },
  '&.cm-focused': { outline: '3px solid #f59e0b', outlineOffset: '2px' },
  '.cm-scroller': { fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace', minHeight: '20rem', maxHeight: '70vh' },
  '.cm-gutters': { background: '#f5f6f8', color: 'var(--muted)', borderRight: '1px solid var(--line)' },
  '.cm-error-line': { background: '#fee2e2', boxShadow: 'inset 3px 0 0 var(--danger)' },
});

// ConfigEditor shows `doc`; a new `docKey` replaces the content (a loaded file or a restored
// snapshot), while typing only reports through onChange. `errorLine` (1-based) is highlighted
// and scrolled to (again for each new errorKey). The container carries data-editor and
// data-length (the text's length) so tests can tell what the editor holds.
export function ConfigEditor({ doc, docKey, onChange, errorLine, errorKey, label = 'Configuration file' }) {
  const host = useRef(null);
  const view = useRef(null);
  const changed = useRef(onChange);
  changed.current = onChange;

  useEffect(() => {
    const v = new EditorView({
      parent: host.current,
      state: EditorState.create({
        doc,
        extensions: [
          lineNumbers(), highlightActiveLineGutter(), highlightActiveLine(), drawSelection(), history(),
          bracketMatching(), ini, syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
          // Tab is left to move focus on (no keyboard trap): INI files need no indentation.
          keymap.of([...defaultKeymap, ...historyKeymap]),
          errorField, theme, EditorView.lineWrapping,
          EditorView.contentAttributes.of({ 'aria-label': label }),
          EditorView.updateListener.of((u) => {
            if (!u.docChanged) return;
            const text = u.state.doc.toString();
            host.current?.setAttribute('data-length', String(text.length));
            changed.current?.(text);
          }),
        ],
      }),
    });
    view.current = v;
    host.current.setAttribute('data-length', String(doc.length));
    return () => { v.destroy(); view.current = null; };
  }, []);

  // A new document (other file, restored snapshot) replaces the text in one transaction.
  useEffect(() => {
    const v = view.current;
    if (!v) return;
    if (v.state.doc.toString() !== doc) v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: doc } });
    host.current.setAttribute('data-length', String(doc.length));
  }, [docKey]);

  useEffect(() => {
    const v = view.current;
    if (!v) return;
    const effects = [setErrorLine.of(errorLine || 0)];
    if (errorLine && errorLine >= 1 && errorLine <= v.state.doc.lines) {
      const line = v.state.doc.line(errorLine);
      effects.push(EditorView.scrollIntoView(line.from, { y: 'center' }));
      v.dispatch({ effects, selection: { anchor: line.from } });
    } else {
      v.dispatch({ effects });
    }
  }, [errorLine, errorKey]);

  return <div ref={host} class="config-editor" data-editor />;
}
