// Placeholder while the Inventory page is being written.
export default function Inventory() {
  return <section class="page" data-page="Inventory"><h1>Inventory</h1><p class="muted">This page is not finished yet.</p></section>;
}
