// First-run setup: create the first administrator with the one-time setup code
// (from <data_dir>/setup-code or the server log), then log in and open the console.
// Already initialised → /login.
import { useRef, useState } from 'react';
import { Alert, Button, Form, Input, Spin, Typography } from 'antd';
import { Navigate, useNavigate } from 'react-router-dom';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { post } from '../api/client';
import AuthCard from './auth/AuthCard';
import PasswordStrength from './auth/PasswordStrength';
import { fetchSetupStatus, login, passwordLengthRule } from './auth/authApi';

interface SetupForm {
  setup_code: string;
  username: string;
  password: string;
  password2: string;
}

const USERNAME = /^[A-Za-z0-9_.@-]{1,64}$/;

export default function SetupPage() {
  const { t } = useTranslation('auth');
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [form] = Form.useForm<SetupForm>();
  const password = Form.useWatch('password', form) ?? '';
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const created = useRef(false); // our own setup succeeded: go on to '/', not to /login
  const setup = useQuery({ queryKey: ['setup'], queryFn: fetchSetupStatus });

  if (setup.isPending) return <Spin style={{ display: 'block', margin: '20vh auto' }} size="large" />;
  if (setup.data?.initialized && !created.current) return <Navigate to="/login" replace />;

  async function submit(v: SetupForm) {
    setBusy(true);
    setError(null);
    try {
      await post('system/setup', { username: v.username, password: v.password, setup_code: v.setup_code.trim() },
                 { auth: false });
      created.current = true;
      queryClient.setQueryData(['setup'], { initialized: true });
      await login(v.username, v.password);
      navigate('/', { replace: true });
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <AuthCard title={t('setup.title')}>
      <Typography.Paragraph type="secondary">{t('setup.intro')}</Typography.Paragraph>
      {setup.isError && <Alert type="warning" showIcon title={t('setup.statusUnknown')} style={{ marginBottom: 16 }} />}
      {error && <Alert type="error" showIcon title={error} data-testid="setup-error" style={{ marginBottom: 16 }} />}
      <Form form={form} layout="vertical" onFinish={(v) => void submit(v)} requiredMark={false}>
        <Form.Item name="setup_code" label={t('setup.code')} extra={t('setup.codeHelp')}
                   rules={[{ required: true, whitespace: true, message: t('setup.codeRequired') }]}>
          <Input data-testid="setup-code" autoComplete="off" spellCheck={false} />
        </Form.Item>
        <Form.Item name="username" label={t('fields.username')}
                   rules={[{ required: true, message: t('fields.usernameRequired') },
                           { pattern: USERNAME, message: t('fields.usernameRule') }]}>
          <Input data-testid="setup-username" autoComplete="username" />
        </Form.Item>
        <Form.Item name="password" label={t('fields.password')}
                   rules={[passwordLengthRule(t('strength.rule'))]}>
          <Input.Password data-testid="setup-password" autoComplete="new-password" />
        </Form.Item>
        <PasswordStrength password={password} />
        <Form.Item name="password2" label={t('fields.confirmPassword')} dependencies={['password']}
                   rules={[{ required: true, message: t('fields.confirmRequired') },
                           ({ getFieldValue }) => ({
                             validator: (_, v) => (v === getFieldValue('password')
                               ? Promise.resolve() : Promise.reject(new Error(t('fields.mismatch')))),
                           })]}>
          <Input.Password data-testid="setup-password2" autoComplete="new-password" />
        </Form.Item>
        <Button type="primary" htmlType="submit" block loading={busy} data-testid="setup-submit">
          {t('setup.submit')}
        </Button>
      </Form>
    </AuthCard>
  );
}
