// Placeholder: filled in by the page's owner.
export default function SetupPage() {
  return <div>SetupPage</div>;
}
