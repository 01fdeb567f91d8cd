// Placeholder while the ExportData page is being written.
export default function ExportData() {
  return <section class="page" data-page="ExportData"><h1>ExportData</h1><p class="muted">This page is not finished yet.</p></section>;
}
