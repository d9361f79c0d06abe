// Row actions of a token: edit, pause/resume, reset usage, delete (each confirmed).
import { Button, Popconfirm, Space, type ButtonProps } from 'antd';
import { useTranslation } from 'react-i18next';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { App } from 'antd';
import { del, post } from '../../api/client';
import type { Token } from './tokenUtils';

type Action = 'pause' | 'resume' | 'reset-usage' | 'delete';

export function useTokenAction(onDone?: (a: Action) => void) {
  const queryClient = useQueryClient();
  const { message } = App.useApp();
  const { t } = useTranslation('tokens');
  return useMutation({
    mutationFn: ({ id, action }: { id: string; action: Action }) => (action === 'delete'
      ? del(`tokens/${encodeURIComponent(id)}`) : post(`tokens/${encodeURIComponent(id)}/${action}`)),
    onSuccess: (_d, v) => {
      void queryClient.invalidateQueries({ queryKey: ['tokens'] });
      void message.success(t(`actions.done.${v.action}`));
      onDone?.(v.action);
    },
    onError: (e) => void message.error(e.message),
  });
}

const okProps = { 'data-testid': 'confirm-ok' } as ButtonProps;

export default function TokenActions({ token, onEdit, onDone }: { token: Token; onEdit: () => void; onDone?: (a: Action) => void }) {
  const { t } = useTranslation('tokens');
  const action = useTokenAction(onDone);
  const run = (a: Action) => action.mutate({ id: token.id, action: a });
  const confirm = (a: Action, label: string, testid: string, danger = false) => (
    <Popconfirm title={t(`actions.confirm.${a}`, { name: token.name })} onConfirm={() => run(a)} okButtonProps={okProps}>
      <Button size="small" danger={danger} data-testid={`${testid}-${token.name}`} loading={action.isPending && action.variables?.action === a}>
        {label}
      </Button>
    </Popconfirm>
  );
  return (
    <Space size={4} wrap>
      <Button size="small" onClick={onEdit} data-testid={`token-edit-${token.name}`}>{t('actions.edit')}</Button>
      {token.is_active ? confirm('pause', t('actions.pause'), 'token-pause') : confirm('resume', t('actions.resume'), 'token-resume')}
      {confirm('reset-usage', t('actions.reset'), 'token-reset')}
      {confirm('delete', t('actions.delete'), 'token-delete', true)}
    </Space>
  );
}
