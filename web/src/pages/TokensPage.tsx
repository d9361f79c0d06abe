// Placeholder: filled in by the page's owner.
export default function TokensPage() {
  return <div>TokensPage</div>;
}
