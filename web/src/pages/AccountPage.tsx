// The administrator's account: change the password. The server revokes every session
// of this administrator and answers with a fresh one, which replaces ours.
import { useState } from 'react';
import { Alert, App, Button, Card, Form, Input, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { ApiError, post } from '../api/client';
import { getSession } from '../api/session';
import PasswordStrength from './auth/PasswordStrength';
import { passwordLengthRule, storeSession, type SessionResponse } from './auth/authApi';

interface PasswordForm {
  old_password: string;
  new_password: string;
  new_password2: string;
}

export default function AccountPage() {
  const { t } = useTranslation('auth');
  const { message } = App.useApp();
  const [form] = Form.useForm<PasswordForm>();
  const pw = Form.useWatch('new_password', form) ?? '';
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const username = getSession()?.username ?? '';
  const forced = !!getSession()?.mustChangePassword;

  async function submit(v: PasswordForm) {
    setBusy(true);
    setError(null);
    try {
      const s = await post<SessionResponse>('auth/password',
                                            { old_password: v.old_password, new_password: v.new_password });
      storeSession(username, s);
      form.resetFields();
      void message.success(t('account.changed'));
    } catch (e) {
      if (e instanceof ApiError && e.status === 403) setError(t('account.wrongCurrent'));
      else setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Card title={t('account.title')} style={{ maxWidth: 520 }}>
      <Typography.Paragraph type="secondary">{t('account.intro', { name: username })}</Typography.Paragraph>
      {forced && <Alert type="warning" showIcon title={t('account.forced')} data-testid="account-forced"
                        style={{ marginBottom: 16 }} />}
      {error && <Alert type="error" showIcon title={error} data-testid="account-error" style={{ marginBottom: 16 }} />}
      <Form form={form} layout="vertical" onFinish={(v) => void submit(v)} requiredMark={false}>
        <Form.Item name="old_password" label={t('account.current')}
                   rules={[{ required: true, message: t('fields.passwordRequired') }]}>
          <Input.Password data-testid="account-current" autoComplete="current-password" />
        </Form.Item>
        <Form.Item name="new_password" label={t('account.new')} rules={[passwordLengthRule(t('strength.rule'))]}>
          <Input.Password data-testid="account-new" autoComplete="new-password" />
        </Form.Item>
        <PasswordStrength password={pw} />
        <Form.Item name="new_password2" label={t('fields.confirmPassword')} dependencies={['new_password']}
                   rules={[{ required: true, message: t('fields.confirmRequired') },
                           ({ getFieldValue }) => ({
                             validator: (_, v) => (v === getFieldValue('new_password')
                               ? Promise.resolve() : Promise.reject(new Error(t('fields.mismatch')))),
                           })]}>
          <Input.Password data-testid="account-new2" autoComplete="new-password" />
        </Form.Item>
        <Button type="primary" htmlType="submit" loading={busy} data-testid="account-submit">
          {t('account.submit')}
        </Button>
      </Form>
    </Card>
  );
}
