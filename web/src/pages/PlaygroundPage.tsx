// Placeholder: filled in by the page's owner.
export default function PlaygroundPage() {
  return <div>PlaygroundPage</div>;
}
