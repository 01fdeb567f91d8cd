// "Add new Pioreactor": hostname (discovered names suggested), optional IPv4, model. The leader
// provisions it with POST /api/workers/setup (up to 90 s); a leader that does not provision
// (pioreactord answers 501) gets the unit registered with PUT /api/workers instead, and the
// dialog says what is left to do on the worker.
import { useEffect, useState } from 'preact/hooks';
import { get, post, put } from '../lib/api.js';
import { Dialog, ErrorLine, Spinner } from './ui.jsx';
import { ModelSelect } from './InventoryCard.jsx';

const HOSTNAME = '[A-Za-z0-9][A-Za-z0-9_\\-]*';
const IPV4 = '((25[0-5]|2[0-4]\\d|1?\\d?\\d)\\.){3}(25[0-5]|2[0-4]\\d|1?\\d?\\d)';

// commonModel is the model most workers have: a new unit is most likely another of those.
function commonModel(models, workers) {
  const count = {};
  for (const w of workers) { const k = `${w.model_name}|${w.model_version}`; count[k] = (count[k] || 0) + 1; }
  const best = Object.keys(count).sort((a, b) => count[b] - count[a])[0];
  return models.find((m) => `${m.model_name}|${m.model_version}` === best);
}

export function InventoryAddDialog({ open, onClose, models, workers = [], onAdded }) {
  const latest = commonModel(models, workers) || models.find((m) => !m.is_legacy && !m.is_contrib) || models[0];
  const [name, setName] = useState('');
  const [ipv4, setIpv4] = useState('');
  const [model, setModel] = useState('');
  const [found, setFound] = useState([]);
  const [phase, setPhase] = useState({ state: 'form' }); // form | working | done
  const [seconds, setSeconds] = useState(0);

  useEffect(() => {
    if (!open) return;
    setPhase({ state: 'form' }); setName(''); setIpv4('');
    get('/api/workers/discover').then((d) => setFound((d || []).map((x) => x.pioreactor_unit)), () => setFound([]));
  }, [open]);
  useEffect(() => { if (!model && latest) setModel(`${latest.model_name}|${latest.model_version}`); }, [latest]);
  useEffect(() => {
    if (phase.state !== 'working') return undefined;
    setSeconds(0);
    const t = setInterval(() => setSeconds((s) => s + 1), 1000);
    return () => clearInterval(t);
  }, [phase.state]);

  const submit = async (ev) => {
    ev.preventDefault();
    const unit = name.trim();
    const [model_name, model_version] = model.split('|');
    setPhase({ state: 'working' });
    try {
      const body = { name: unit, model: model_name, version: model_version };
      if (ipv4.trim()) body.ipv4_address = ipv4.trim();
      const r = await post('/api/workers/setup', body);
      setPhase({ state: 'done', unit, message: r?.msg || `${unit} added.` });
      onAdded?.();
    } catch (e) {
      if (e.status !== 501) { setPhase({ state: 'form', error: e }); return; }
      // This leader does not provision over SSH: register the unit so it can be assigned.
      try {
        await put('/api/workers', { pioreactor_unit: unit, model_name, model_version });
        setPhase({ state: 'done', unit, registered: true, why: e.cause || e.message });
        onAdded?.();
      } catch (e2) { setPhase({ state: 'form', error: e2 }); }
    }
  };

  return (
    <Dialog open={open} onClose={onClose} title="Add new Pioreactor" name="add-unit">
      {phase.state === 'done' ? (
        <div data-setup-result={phase.registered ? 'registered' : 'provisioned'}>
          {phase.registered ? (
            <>
              <p><strong>{phase.unit}</strong> is in the inventory.</p>
              <p class="muted">This leader does not install software on workers (it answered: “{phase.why}”), so {phase.unit} was
                only registered. On {phase.unit}, install pioreactord and start it pointed at this leader; its card fills in
                once it connects.</p>
            </>
          ) : <p>{phase.message}</p>}
          <div class="actions"><button type="button" class="primary" data-action="done" onClick={onClose}>Done</button></div>
        </div>
      ) : (
        <form onSubmit={submit}>
          <label class="block">Hostname
            <input name="hostname" required pattern={HOSTNAME} list="discovered-units" autocomplete="off" value={name}
              placeholder="e.g. pio05" disabled={phase.state === 'working'} onInput={(e) => setName(e.currentTarget.value)} />
            <span class="muted">Letters, digits, - and _, without .local.{found.length > 0 && ` Found on the network: ${found.join(', ')}.`}</span>
          </label>
          <datalist id="discovered-units">{found.map((u) => <option key={u} value={u} />)}</datalist>
          <label class="block">IPv4 address (optional)
            <input name="ipv4" inputMode="decimal" pattern={IPV4} placeholder="e.g. 192.168.1.40" value={ipv4}
              disabled={phase.state === 'working'} onInput={(e) => setIpv4(e.currentTarget.value)} />
          </label>
          <label class="block">Model
            <ModelSelect name="model" models={models} value={model} disabled={phase.state === 'working'} onChange={setModel} />
          </label>
          <ErrorLine error={phase.error} />
          {phase.state === 'working' && <p role="status" data-setup-progress><Spinner /> Setting up {name.trim()}… {seconds} s (this can take up to 90 s)</p>}
          <div class="actions">
            <button type="button" onClick={onClose}>Cancel</button>
            <button type="submit" class="primary" data-action="submit-add" disabled={phase.state === 'working' || !model}>Add Pioreactor</button>
          </div>
        </form>
      )}
    </Dialog>
  );
}
