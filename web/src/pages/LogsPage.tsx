// Placeholder: filled in by the page's owner.
export default function LogsPage() {
  return <div>LogsPage</div>;
}
