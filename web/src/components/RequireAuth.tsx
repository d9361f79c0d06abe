// Guards the console: not initialised → /setup; no session → /login?next=<here>.
// A 401 from any call ends the session (api/client.ts) and lands here again.
import { useEffect, useState, type ReactNode } from 'react';
import { Navigate, useLocation, useNavigate } from 'react-router-dom';
import { useQuery } from '@tanstack/react-query';
import { Spin } from 'antd';
import { get, setUnauthorizedHandler } from '../api/client';
import { getSession, onSessionChange, sessionEnded } from '../api/session';

export function loginPath(location: { pathname: string; search: string }, expired = false): string {
  const next = encodeURIComponent(location.pathname + location.search);
  return `/login?next=${next}${expired ? '&expired=1' : ''}`;
}

export default function RequireAuth({ children }: { children: ReactNode }) {
  const location = useLocation();
  const navigate = useNavigate();
  const [session, setSessionState] = useState(getSession);
  useEffect(() => onSessionChange(setSessionState), []);
  useEffect(() => {
    setUnauthorizedHandler(() => navigate(loginPath(window.location, true), { replace: true }));
  }, [navigate]);
  // Session expiry without a request: leave when the JWT's exp passes.
  useEffect(() => {
    if (!session) return;
    const ms = session.expiresAt - Date.now();
    const timer = window.setTimeout(() => navigate(loginPath(window.location, true), { replace: true }),
                                    Math.max(0, Math.min(ms, 2 ** 31 - 1)));
    return () => window.clearTimeout(timer);
  }, [session, navigate]);
  const setup = useQuery({
    queryKey: ['setup'],
    queryFn: () => get<{ initialized: boolean }>('system/setup', { auth: false }),
    staleTime: 60_000,
  });
  if (setup.isPending) return <Spin style={{ display: 'block', margin: '20vh auto' }} size="large" />;
  if (setup.data && !setup.data.initialized) return <Navigate to="/setup" replace />;
  if (!session || session.expiresAt <= Date.now()) {
    // Expired or refused (also when found expired in storage on a reload): say so.
    const expired = !!session || sessionEnded();
    return <Navigate to={loginPath(location, expired)} replace />;
  }
  // A password an administrator reset must be changed before anything else.
  if (session.mustChangePassword && location.pathname !== '/account') {
    return <Navigate to="/account" replace />;
  }
  return <>{children}</>;
}
