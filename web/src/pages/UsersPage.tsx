// Users (admin role): who may use the console and with which role; create,
// change role, disable/enable, reset a password (forces a change), delete.
// The server keeps one active admin (409 LAST_ADMIN, shown as its message).
import { useState } from 'react';
import { App, Button, Card, Popconfirm, Select, Space, Table, Tag, Typography, type ButtonProps } from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import type { Role } from '../api/session';
import { getSession } from '../api/session';
import UserFormModal, { type UserFormValues } from './users/UserFormModal';
import { createUser, deleteUser, listUsers, resetPassword, ROLES, setEnabled, setRole,
         type User } from './users/usersApi';

export default function UsersPage() {
  const { t } = useTranslation('users');
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const me = getSession()?.username;
  const [creating, setCreating] = useState(false);
  const [resetting, setResetting] = useState<User | null>(null);
  const users = useQuery({ queryKey: ['users'], queryFn: listUsers });
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['users'] });
  const act = useMutation({
    mutationFn: (f: () => Promise<unknown>) => f(),
    onSuccess: () => { void message.success(t('done')); void refresh(); },
    onError: (e: Error) => void message.error(e.message),
  });

  async function create(v: UserFormValues) {
    await createUser(v.username, v.password, v.role);
    setCreating(false);
    void message.success(t('created', { name: v.username }));
    void refresh();
  }

  async function reset(v: UserFormValues) {
    if (!resetting) return;
    await resetPassword(resetting.id, v.password);
    setResetting(null);
    void message.success(t('resetDone', { name: resetting.username }));
    void refresh();
  }

  const columns = [
    { title: t('username'), dataIndex: 'username', key: 'username',
      render: (v: string, u: User) => (
        <Space>
          <Typography.Text data-testid={`user-row-${v}`}>{v}</Typography.Text>
          {u.must_change_password && <Tag color="gold">{t('mustChange')}</Tag>}
        </Space>
      ) },
    { title: t('role'), dataIndex: 'role', key: 'role',
      render: (role: Role, u: User) => (
        <Select size="small" value={role} style={{ width: 130 }} aria-label={t('role')}
                data-testid={`user-role-${u.username}`}
                onChange={(r: Role) => act.mutate(() => setRole(u.id, r))}
                options={ROLES.map((r) => ({ value: r, label: t(`roles.${r}`) }))} />
      ) },
    { title: t('status'), dataIndex: 'status', key: 'status',
      render: (s: string) => <Tag color={s === 'active' ? 'green' : 'default'}>{t(`statuses.${s}`)}</Tag> },
    { title: t('lastLogin'), dataIndex: 'last_login', key: 'last_login',
      render: (v: string | null) => v ?? '—' },
    { title: t('failedLogins'), dataIndex: 'failed_logins', key: 'failed_logins' },
    { title: t('actions'), key: 'actions',
      render: (_: unknown, u: User) => (
        <Space>
          <Button size="small" data-testid={`user-toggle-${u.username}`}
                  onClick={() => act.mutate(() => setEnabled(u.id, u.status !== 'active'))}>
            {u.status === 'active' ? t('disable') : t('enable')}
          </Button>
          <Button size="small" onClick={() => setResetting(u)} data-testid={`user-reset-${u.username}`}>
            {t('reset')}
          </Button>
          <Popconfirm title={t('deleteConfirm', { name: u.username })} okText={t('delete')}
                      okButtonProps={{ 'data-testid': 'confirm-ok' } as ButtonProps}
                      onConfirm={() => act.mutate(() => deleteUser(u.id))} disabled={u.username === me}>
            <Button size="small" danger disabled={u.username === me} data-testid={`user-delete-${u.username}`}>
              {t('delete')}
            </Button>
          </Popconfirm>
        </Space>
      ) },
  ];

  return (
    <Card title={t('title')} extra={
      <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)} data-testid="user-create">
        {t('create')}
      </Button>}>
      <Typography.Paragraph type="secondary">{t('intro')}</Typography.Paragraph>
      <Table<User> rowKey="id" loading={users.isPending} dataSource={users.data ?? []} columns={columns}
                   pagination={false} />
      <UserFormModal mode="create" open={creating} onCancel={() => setCreating(false)} onSubmit={create} />
      <UserFormModal mode="reset" username={resetting?.username} open={!!resetting}
                     onCancel={() => setResetting(null)} onSubmit={reset} />
    </Card>
  );
}
