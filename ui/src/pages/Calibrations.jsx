// Placeholder while the Calibrations page is being written.
export default function Calibrations() {
  return <section class="page" data-page="Calibrations"><h1>Calibrations</h1><p class="muted">This page is not finished yet.</p></section>;
}
