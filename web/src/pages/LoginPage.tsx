// Administrator login. 401 → "wrong username or password"; 429 → the wait from
// Retry-After; ?expired=1 → "session expired". After login: the `next` path when it
// is a same-origin path, else the dashboard. Not initialised yet → /setup.
import { useState } from 'react';
import { Alert, Button, Form, Input, Spin } from 'antd';
import { Navigate, useNavigate, useSearchParams } from 'react-router-dom';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { ApiError } from '../api/client';
import AuthCard from './auth/AuthCard';
import { fetchSetupStatus, login, safeNext } from './auth/authApi';

interface LoginForm {
  username: string;
  password: string;
}

/** The message for a failed login, translated; exported for tests. */
export function loginErrorKey(e: unknown): { key: string; values?: Record<string, unknown> } {
  if (e instanceof ApiError) {
    if (e.status === 429) return { key: 'login.tooMany', values: { seconds: e.retryAfter ?? 60 } };
    if (e.status === 401) return { key: 'login.wrong' };
    return { key: 'login.failed', values: { message: e.message } };
  }
  return { key: 'login.failed', values: { message: e instanceof Error ? e.message : String(e) } };
}

export default function LoginPage() {
  const { t } = useTranslation('auth');
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [params] = useSearchParams();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const setup = useQuery({ queryKey: ['setup'], queryFn: fetchSetupStatus });

  if (setup.isPending) return <Spin style={{ display: 'block', margin: '20vh auto' }} size="large" />;
  if (setup.data && !setup.data.initialized) return <Navigate to="/setup" replace />;

  async function submit(v: LoginForm) {
    setBusy(true);
    setError(null);
    try {
      await login(v.username, v.password);
      queryClient.removeQueries({ predicate: (q) => q.queryKey[0] !== 'setup' });
      navigate(safeNext(params.get('next')), { replace: true });
    } catch (e) {
      const m = loginErrorKey(e);
      setError(t(m.key, m.values));
    } finally {
      setBusy(false);
    }
  }

  return (
    <AuthCard title={t('login.title')}>
      {params.get('expired') === '1' && !error && (
        <Alert type="info" showIcon title={t('login.expired')} data-testid="login-expired" style={{ marginBottom: 16 }} />
      )}
      {error && <Alert type="error" showIcon title={error} data-testid="login-error" style={{ marginBottom: 16 }} />}
      <Form layout="vertical" onFinish={(v: LoginForm) => void submit(v)} requiredMark={false}>
        <Form.Item name="username" label={t('fields.username')}
                   rules={[{ required: true, message: t('fields.usernameRequired') }]}>
          <Input data-testid="login-username" autoComplete="username" autoFocus />
        </Form.Item>
        <Form.Item name="password" label={t('fields.password')}
                   rules={[{ required: true, message: t('fields.passwordRequired') }]}>
          <Input.Password data-testid="login-password" autoComplete="current-password" />
        </Form.Item>
        <Button type="primary" htmlType="submit" block loading={busy} data-testid="login-submit">
          {t('login.submit')}
        </Button>
      </Form>
    </AuthCard>
  );
}
