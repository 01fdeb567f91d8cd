// Placeholder while the Logs page is being written.
export default function Logs() {
  return <section class="page" data-page="Logs"><h1>Logs</h1><p class="muted">This page is not finished yet.</p></section>;
}
