// API tokens: a server-paged, filterable table with state badges and usage bars,
// the create/edit form, row actions, and the one-time display of a new token's value.
import { useState } from 'react';
import { Alert, Button, Card, Input, Select, Space, Table, Typography } from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import { Link } from 'react-router-dom';
import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { get } from '../api/client';
import TokenActions from './tokens/TokenActions';
import TokenFormModal from './tokens/TokenFormModal';
import { TokenStateTag, UsageBar } from './tokens/TokenStateTag';
import TokenValueModal from './tokens/TokenValueModal';
import { formatTime, type CreatedToken, type Paged, type Token, type TokenState } from './tokens/tokenUtils';

const STATES: TokenState[] = ['active', 'paused', 'expired', 'exceeded'];

function tokenQuery(page: number, pageSize: number, name: string, state: string | undefined): string {
  const q = new URLSearchParams({ page: String(page), page_size: String(pageSize) });
  if (name) q.set('name', name);
  if (state) q.set('state', state);
  return `tokens?${q}`;
}

export default function TokensPage() {
  const { t } = useTranslation('tokens');
  const queryClient = useQueryClient();
  const [page, setPage] = useState(1);
  const [pageSize, setPageSize] = useState(20);
  const [name, setName] = useState('');
  const [state, setState] = useState<string | undefined>();
  const [editing, setEditing] = useState<Token | null | undefined>(undefined); // undefined: closed
  const [created, setCreated] = useState<CreatedToken | null>(null);
  const list = useQuery({
    queryKey: ['tokens', 'list', page, pageSize, name, state],
    queryFn: () => get<Paged<Token>>(tokenQuery(page, pageSize, name, state)),
    placeholderData: keepPreviousData,
    // Usage grows with every application call: refresh on return and while open.
    refetchOnMount: 'always',
    refetchInterval: 10_000,
  });

  function saved(tok: Token | CreatedToken, isNew: boolean) {
    setEditing(undefined);
    void queryClient.invalidateQueries({ queryKey: ['tokens'] });
    if (isNew && 'token' in tok) setCreated(tok);
  }

  const columns = [
    { title: t('fields.name'), key: 'name',
      render: (_: unknown, r: Token) => <Link to={`/tokens/${encodeURIComponent(r.id)}`}>{r.name}</Link> },
    { title: t('fields.state'), key: 'state', render: (_: unknown, r: Token) => <TokenStateTag token={r} /> },
    { title: t('fields.usage'), key: 'usage',
      render: (_: unknown, r: Token) => <UsageBar used={r.used_count} limit={r.monthly_limit} /> },
    { title: t('fields.rateLimit'), key: 'rate',
      render: (_: unknown, r: Token) => (r.rate_limit_per_minute === null ? t('usage.none') : t('usage.perMinute', { n: r.rate_limit_per_minute })) },
    { title: t('fields.expires'), key: 'expires',
      render: (_: unknown, r: Token) => (r.expires_at ? formatTime(r.expires_at) : t('usage.never')) },
    { title: t('fields.lastUsed'), key: 'last', render: (_: unknown, r: Token) => formatTime(r.last_used_at) || '—' },
    { title: t('fields.actions'), key: 'actions', fixed: 'right' as const,
      render: (_: unknown, r: Token) => <TokenActions token={r} onEdit={() => setEditing(r)} /> },
  ];

  return (
    <Card
      title={t('title')}
      extra={<Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing(null)} data-testid="token-create">{t('create')}</Button>}
    >
      <Typography.Paragraph type="secondary">{t('intro')}</Typography.Paragraph>
      <Space wrap style={{ marginBottom: 16 }}>
        <Input.Search allowClear placeholder={t('filters.name')} aria-label={t('filters.name')} data-testid="token-filter-name"
                      onSearch={(v) => { setName(v.trim()); setPage(1); }} style={{ width: 220 }} />
        <Select allowClear placeholder={t('filters.state')} aria-label={t('filters.state')} style={{ width: 160 }}
                data-testid="token-filter-state" value={state}
                onChange={(v?: string) => { setState(v); setPage(1); }}
                options={STATES.map((s) => ({ value: s, label: t(`state.${s}`) }))} />
      </Space>
      {list.isError && <Alert type="error" showIcon title={list.error.message} style={{ marginBottom: 16 }} />}
      <Table<Token>
        rowKey="id"
        size="middle"
        loading={list.isFetching && !list.data}
        dataSource={list.data?.items ?? []}
        columns={columns}
        scroll={{ x: 'max-content' }}
        onRow={(r) => ({ 'data-testid': `token-row-${r.name}` }) as React.HTMLAttributes<HTMLElement>}
        pagination={{
          current: page, pageSize, total: list.data?.total ?? 0, showSizeChanger: true,
          onChange: (p, s) => { setPage(s !== pageSize ? 1 : p); setPageSize(s); },
        }}
      />
      <TokenFormModal open={editing !== undefined} token={editing ?? null} onClose={() => setEditing(undefined)} onSaved={saved} />
      <TokenValueModal value={created?.token ?? null} name={created?.name ?? ''} onClose={() => setCreated(null)} />
    </Card>
  );
}
