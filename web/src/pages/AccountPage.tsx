// Placeholder: filled in by the page's owner.
export default function AccountPage() {
  return <div>AccountPage</div>;
}
