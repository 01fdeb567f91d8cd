// The application shell: login gate, start-up loads (served config, selected experiment, MQTT),
// navigation with the experiment selector, the page router and global toasts.
import { LocationProvider, Router, Route, lazy, useLocation } from 'preact-iso';
import { useEffect, useState } from 'preact/hooks';
import { signal } from '@preact/signals';
import { get, needLogin, saveApiKey } from './lib/api.js';
import { loadSharedConfig, section } from './lib/config.js';
import { connect, mqttStatus, subscribe } from './lib/mqtt.js';
import { experiment, loadExperiment } from './lib/experiment.js';
import { Toasts, toast, ErrorLine, Spinner } from './components/ui.jsx';
import { ExperimentSelector } from './components/ExperimentSelector.jsx';
import Overview from './pages/Overview.jsx';
import Pioreactors from './pages/Pioreactors.jsx';

// Pages a biologist opens less often load on first visit, keeping the overview's bundle small.
const Unit = lazy(() => import('./pages/Unit.jsx'));
const NewExperiment = lazy(() => import('./pages/NewExperiment.jsx'));
const Experiments = lazy(() => import('./pages/Experiments.jsx'));
const Logs = lazy(() => import('./pages/Logs.jsx'));
const ExportData = lazy(() => import('./pages/ExportData.jsx'));
const Config = lazy(() => import('./pages/Config.jsx'));
const Inventory = lazy(() => import('./pages/Inventory.jsx'));
const Calibrations = lazy(() => import('./pages/Calibrations.jsx'));

const boot = signal({ state: 'loading', error: null }); // loading | ready | error
const version = signal('');

const NAV = [
  ['/overview', 'Overview'],
  ['/pioreactors', 'Pioreactors'],
  ['/logs', 'Logs'],
  ['/experiments', 'Experiments'],
  ['/export-data', 'Export data'],
  ['/config', 'Configuration'],
  ['/inventory', 'Inventory'],
  ['/calibrations', 'Calibrations'],
];

async function start() {
  boot.value = { state: 'loading', error: null };
  try {
    const conf = await loadSharedConfig();
    await loadExperiment();
    boot.value = { state: 'ready', error: null };
    get('/unit_api/versions/app').then((v) => { version.value = v?.version || ''; }, () => {});
    connect(section('mqtt', conf)).catch((e) => {
      toast(`Live data is unavailable: ${e.message}. Check [mqtt] broker_address in the configuration.`, 'error', 0);
    });
  } catch (e) {
    if (e.status === 401) return; // the login form takes over
    boot.value = { state: 'error', error: e };
  }
}

export function App() {
  useEffect(() => { start(); }, []);
  if (needLogin.value) return <Login />;
  if (boot.value.state === 'error') {
    return <main class="boot"><h1>Pioreactor</h1><ErrorLine error={boot.value.error} /><button type="button" onClick={start}>Retry</button></main>;
  }
  if (boot.value.state === 'loading') return <main class="boot"><Spinner /> Loading…</main>;
  return (
    <LocationProvider>
      <Shell />
    </LocationProvider>
  );
}

function Shell() {
  const [menu, setMenu] = useState(false);
  const { path } = useLocation();
  useEffect(() => setMenu(false), [path]);
  const exp = experiment.value?.experiment;
  useLogToasts(exp);
  return (
    <div class="shell">
      <header class="topbar">
        <button type="button" class="icon menu-toggle" aria-label="Menu" aria-expanded={menu} onClick={() => setMenu(!menu)}>☰</button>
        <a class="brand" href="/overview">Pioreactor</a>
        <ExperimentSelector />
        <span class={`mqtt-dot ${mqttStatus.value}`} title={`Live data: ${mqttStatus.value}`} aria-label={`Live data ${mqttStatus.value}`} />
      </header>
      <nav class={`sidenav ${menu ? 'open' : ''}`} aria-label="Pages">
        {NAV.map(([href, label]) => (
          <a key={href} href={href} class={path === href || path.startsWith(`${href}/`) || (href === '/overview' && path === '/') ? 'active' : ''}>{label}</a>
        ))}
        <span class="version">{version.value && `v${version.value}`}</span>
      </nav>
      <main id="page" key={exp}>
        <Router>
          <Route path="/" component={Overview} />
          <Route path="/overview" component={Overview} />
          <Route path="/pioreactors" component={Pioreactors} />
          <Route path="/pioreactors/:unit" component={Unit} />
          <Route path="/start-new-experiment" component={NewExperiment} />
          <Route path="/experiments" component={Experiments} />
          <Route path="/logs" component={Logs} />
          <Route path="/logs/:unit" component={Logs} />
          <Route path="/export-data" component={ExportData} />
          <Route path="/config" component={Config} />
          <Route path="/config/:unit" component={Config} />
          <Route path="/inventory" component={Inventory} />
          <Route path="/calibrations" component={Calibrations} />
          <Route path="/calibrations/:unit" component={Calibrations} />
          <Route path="/calibrations/:unit/:device" component={Calibrations} />
          <Route path="/calibrations/:unit/:device/:name" component={Calibrations} />
          <NotFound default />
        </Router>
      </main>
      <Toasts />
    </div>
  );
}

// useLogToasts raises a toast for each error, warning and notice logged in the experiment or
// by the system ($experiment).
function useLogToasts(exp) {
  useEffect(() => {
    const offs = [];
    for (const e of [exp, '$experiment'].filter(Boolean)) {
      for (const level of ['error', 'warning', 'notice']) {
        offs.push(subscribe(`pioreactor/+/${e}/logs/+/${level}`, (topic, text, retained) => {
          if (retained) return;
          let p; try { p = JSON.parse(text); } catch { return; }
          const unit = topic.split('/')[1];
          toast(`${unit} · ${p.task || ''}: ${p.message}`, level === 'notice' ? 'success' : level, level === 'error' ? 12000 : 6000);
        }));
      }
    }
    return () => offs.forEach((off) => off());
  }, [exp]);
}

function NotFound() {
  return <section class="page"><h1>Page Not Found</h1><p><a href="/overview">Back to the overview</a></p></section>;
}

const loginError = signal('');

function Login() {
  const [key, setKey] = useState('');
  const submit = async (ev) => {
    ev.preventDefault();
    saveApiKey(key.trim());
    await start();
    loginError.value = needLogin.value ? 'That key was refused.' : '';
  };
  const err = loginError.value;
  return (
    <main class="boot login">
      <h1>Pioreactor</h1>
      <form onSubmit={submit} class="card">
        <p>This leader asks for its API key (<code>[ui_basic_auth] api_key</code> in its config.ini).</p>
        <label>API key <input type="password" name="api_key" autocomplete="current-password" value={key} onInput={(e) => setKey(e.currentTarget.value)} required /></label>
        <ErrorLine error={err} />
        <button type="submit" class="primary">Log in</button>
      </form>
    </main>
  );
}
