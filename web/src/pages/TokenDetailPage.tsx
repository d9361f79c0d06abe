// Placeholder: filled in by the page's owner.
export default function TokenDetailPage() {
  return <div>TokenDetailPage</div>;
}
