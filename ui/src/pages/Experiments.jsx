// Placeholder while the Experiments page is being written.
export default function Experiments() {
  return <section class="page" data-page="Experiments"><h1>Experiments</h1><p class="muted">This page is not finished yet.</p></section>;
}
