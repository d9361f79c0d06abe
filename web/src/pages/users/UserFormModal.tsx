// Create a user (username, password twice, role), or set another user's
// password (which they must change at their next login).
import { useState } from 'react';
import { Alert, Form, Input, Modal, Select, type ButtonProps } from 'antd';
import { useTranslation } from 'react-i18next';
import type { Role } from '../../api/session';
import { passwordLengthRule } from '../auth/authApi';
import { ROLES } from './usersApi';

export interface UserFormValues {
  username: string;
  password: string;
  password2: string;
  role: Role;
}

interface Props {
  mode: 'create' | 'reset';
  username?: string;
  open: boolean;
  onCancel: () => void;
  onSubmit: (v: UserFormValues) => Promise<void>;
}

export default function UserFormModal({ mode, username, open, onCancel, onSubmit }: Props) {
  const { t } = useTranslation('users');
  const [form] = Form.useForm<UserFormValues>();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function finish(v: UserFormValues) {
    setBusy(true);
    setError(null);
    try {
      await onSubmit(v);
      form.resetFields();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Modal open={open} title={mode === 'create' ? t('create') : t('resetTitle', { name: username })}
           okText={mode === 'create' ? t('create') : t('reset')} confirmLoading={busy}
           onCancel={onCancel} onOk={() => form.submit()} destroyOnHidden
           okButtonProps={{ 'data-testid': 'user-submit' } as ButtonProps}>
      {mode === 'reset' && <Alert type="info" showIcon title={t('resetHint')} style={{ marginBottom: 16 }} />}
      {error && <Alert type="error" showIcon title={error} data-testid="user-error" style={{ marginBottom: 16 }} />}
      <Form form={form} layout="vertical" onFinish={(v) => void finish(v)} requiredMark={false}
            initialValues={{ role: 'viewer' }}>
        {mode === 'create' && (
          <Form.Item name="username" label={t('username')} rules={[{ required: true, message: t('usernameRequired') },
            { pattern: /^[A-Za-z0-9_.@-]{1,64}$/, message: t('usernameRule') }]}>
            <Input data-testid="user-username" autoComplete="off" />
          </Form.Item>
        )}
        <Form.Item name="password" label={t('password')} rules={[passwordLengthRule(t('passwordRule'))]}>
          <Input.Password data-testid="user-password" autoComplete="new-password" />
        </Form.Item>
        <Form.Item name="password2" label={t('password2')} dependencies={['password']}
                   rules={[({ getFieldValue }) => ({
                     validator: (_, v) => (v === getFieldValue('password')
                       ? Promise.resolve() : Promise.reject(new Error(t('mismatch')))),
                   })]}>
          <Input.Password data-testid="user-password2" autoComplete="new-password" />
        </Form.Item>
        {mode === 'create' && (
          <Form.Item name="role" label={t('role')}>
            <Select data-testid="user-role" options={ROLES.map((r) => ({ value: r, label: t(`roles.${r}`) }))} />
          </Form.Item>
        )}
      </Form>
    </Modal>
  );
}
