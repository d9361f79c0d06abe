// Placeholder: filled in by the page's owner.
export default function LoginPage() {
  return <div>LoginPage</div>;
}
