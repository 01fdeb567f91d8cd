// Placeholder while the Unit page is being written.
export default function Unit() {
  return <section class="page" data-page="Unit"><h1>Unit</h1><p class="muted">This page is not finished yet.</p></section>;
}
