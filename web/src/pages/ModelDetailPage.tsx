// Placeholder: filled in by the page's owner.
export default function ModelDetailPage() {
  return <div>ModelDetailPage</div>;
}
