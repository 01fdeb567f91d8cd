// Placeholder while the NewExperiment page is being written.
export default function NewExperiment() {
  return <section class="page" data-page="NewExperiment"><h1>NewExperiment</h1><p class="muted">This page is not finished yet.</p></section>;
}
