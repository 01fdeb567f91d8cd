// The inventory (/inventory): the cluster's workers, one card each, adding and removing them,
// and the cluster-wide unassign / reboot / shutdown.
import { useState } from 'preact/hooks';
import { get, del, waitTask, fanOut } from '../lib/api.js';
import { section } from '../lib/config.js';
import { useTopic } from '../lib/jobs.js';
import { experimentsVersion } from '../lib/experiment.js';
import { ConfirmButton, ErrorLine, Menu, Spinner, toast, useAsync } from '../components/ui.jsx';
import { InventoryCard, power } from '../components/InventoryCard.jsx';
import { InventoryAddDialog } from '../components/InventoryAddDialog.jsx';

// Page-local styles (styles.css is shared; these only matter here).
const CSS = `
.inventory-card.inactive { background: #f8fafc; }
.inventory-card.inactive h2 { color: var(--muted); }
.inventory-card > header h2 { margin-right: auto; }
.inventory-card .kv { align-items: center; margin-bottom: .4rem; }
.inventory-card .kv dd { min-width: 0; overflow-wrap: anywhere; }
.inventory-card .kv select { max-width: 100%; }
.inventory-card .actions { justify-content: flex-start; }
.inventory-card .menu-items { left: 0; right: auto; }
@media (max-width: 500px) { [data-page=inventory] .page-head .menu-items { left: 0; right: auto; } }
.chip { border-radius: 999px; padding: .1rem .7rem; min-height: 1.7rem; background: #e0f2f7; border-color: #a5d8e6; color: var(--accent); font-weight: 600; }
.switch input { width: 2.4rem; height: 1.3rem; appearance: none; border-radius: 999px; background: #cbd5e1; position: relative; cursor: pointer; border: 0; padding: 0; transition: background .15s; }
.switch input::after { content: ''; position: absolute; top: .15rem; left: .15rem; width: 1rem; height: 1rem; border-radius: 50%; background: #fff; transition: left .15s; }
.switch input:checked { background: var(--ok); }
.switch input:checked::after { left: 1.25rem; }
`;

export default function Inventory() {
  const [adding, setAdding] = useState(false);
  const [version, setVersion] = useState(0);
  const workers = useAsync(() => get('/api/workers'), [version]);
  const models = useAsync(() => get('/api/models').then((r) => r?.models || []), []);
  const leader = section('cluster.topology').leader_hostname;
  const leaderVersions = useTopic(leader ? `pioreactor/${leader}/$experiment/monitor/versions` : null);
  let leaderVersion = '';
  try { leaderVersion = JSON.parse(leaderVersions || '{}')?.app || ''; } catch { /* not JSON yet */ }
  const reload = () => setVersion((v) => v + 1);
  const list = workers.data || [];

  const unassignAll = async () => {
    const results = fanOut(await waitTask(await del('/api/workers/assignments')));
    const failed = Object.entries(results).filter(([, r]) => !r.ok);
    experimentsVersion.value++;
    reload();
    if (failed.length) throw new Error(`Unassigned, but stopping jobs failed on ${failed.map(([u, r]) => `${u}: ${r.error}`).join('; ')}`);
    toast('Every worker is unassigned', 'success', 4000);
  };

  return (
    <section class="page" data-page="inventory">
      <style>{CSS}</style>
      <div class="page-head">
        <h1>Inventory</h1>
        <button type="button" class="primary" data-action="add-unit" onClick={() => setAdding(true)}>Add new Pioreactor</button>
        <Menu label="Cluster ▾" action="inventory-menu">
            <ConfirmButton data-action="unassign-all" question="Unassign every worker from its experiment? Their running jobs stop."
              confirmLabel="Unassign all" onConfirm={unassignAll}>Unassign all workers</ConfirmButton>
            <ConfirmButton data-action="reboot-all" question="Reboot every Pioreactor, the leader last? Every running job stops."
              confirmLabel="Reboot all" onConfirm={() => power('$broadcast', 'reboot')}>Reboot all</ConfirmButton>
            <ConfirmButton danger data-action="shutdown-all" question="Shut down every Pioreactor, the leader last? Someone must power-cycle each to start it again."
              confirmLabel="Shut down all" onConfirm={() => power('$broadcast', 'shutdown')}>Shutdown all</ConfirmButton>
        </Menu>
      </div>
      <ErrorLine error={workers.error} />
      <ErrorLine error={models.error && `Models could not be read: ${models.error.detail || models.error.message}`} />
      {workers.loading && !workers.data && <p><Spinner /> Loading…</p>}
      {workers.data && list.length === 0 && (
        <div class="card empty">
          <p>No workers in the inventory yet.</p>
          <button type="button" class="primary" onClick={() => setAdding(true)}>Add new Pioreactor</button>
        </div>
      )}
      <div class="grid">
        {list.map((w) => <InventoryCard key={w.pioreactor_unit} worker={w} models={models.data || []} leaderVersion={leaderVersion} refresh={version} onChanged={reload} />)}
      </div>
      <InventoryAddDialog open={adding} onClose={() => setAdding(false)} models={models.data || []} workers={list} onAdded={reload} />
    </section>
  );
}
