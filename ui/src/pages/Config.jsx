// Placeholder while the Config page is being written.
export default function Config() {
  return <section class="page" data-page="Config"><h1>Config</h1><p class="muted">This page is not finished yet.</p></section>;
}
