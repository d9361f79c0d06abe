// Placeholder: filled in by the page's owner.
export default function ModelsPage() {
  return <div>ModelsPage</div>;
}
