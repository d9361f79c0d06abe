// Placeholder: filled in by the page's owner.
export default function DashboardPage() {
  return <div>DashboardPage</div>;
}
