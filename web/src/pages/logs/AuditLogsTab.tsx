// The audit log (GET audit): who did what to which object, filtered by actor, action
// and time range, server-paged. The detail object is shown as JSON text.
import { useState } from 'react';
import { Alert, DatePicker, Input, Space, Table, Typography } from 'antd';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { get } from '../../api/client';
import { formatTime, type Paged } from '../tokens/tokenUtils';
import { buildQuery, type AuditEntry, type Range } from './logsData';

export default function AuditLogsTab() {
  const { t } = useTranslation('logs');
  const [page, setPage] = useState(1);
  const [pageSize, setPageSize] = useState(50);
  const [actor, setActor] = useState('');
  const [action, setAction] = useState('');
  const [range, setRange] = useState<Range>(null);
  const audit = useQuery({
    queryKey: ['audit', page, pageSize, actor, action, range?.[0]?.valueOf(), range?.[1]?.valueOf()],
    queryFn: () => get<Paged<AuditEntry>>(buildQuery('audit', page, pageSize, { actor, action }, range)),
    placeholderData: keepPreviousData,
  });
  const columns = [
    { title: t('audit.time'), key: 'time', render: (_: unknown, r: AuditEntry) => formatTime(r.created_at) },
    { title: t('audit.actor'), key: 'actor', render: (_: unknown, r: AuditEntry) => r.actor ?? '—' },
    { title: t('audit.action'), key: 'action', render: (_: unknown, r: AuditEntry) => <Typography.Text code>{r.action}</Typography.Text> },
    { title: t('audit.object'), key: 'object',
      render: (_: unknown, r: AuditEntry) => (r.object_type ? `${r.object_type} ${r.object_id ?? ''}` : '—') },
    { title: t('audit.clientIp'), key: 'ip', render: (_: unknown, r: AuditEntry) => r.client_ip ?? '—' },
    { title: t('audit.detail'), key: 'detail', render: (_: unknown, r: AuditEntry) => (r.detail && Object.keys(r.detail).length
      ? <Typography.Text code style={{ fontSize: 12, wordBreak: 'break-all' }}>{JSON.stringify(r.detail)}</Typography.Text> : '—') },
  ];
  return (
    <>
      <Space wrap style={{ marginBottom: 16 }}>
        <Input.Search allowClear placeholder={t('filters.actor')} aria-label={t('filters.actor')} data-testid="audit-filter-actor"
                      style={{ width: 180 }} onSearch={(v) => { setActor(v.trim()); setPage(1); }} />
        <Input.Search allowClear placeholder={t('filters.action')} aria-label={t('filters.action')} data-testid="audit-filter-action"
                      style={{ width: 180 }} onSearch={(v) => { setAction(v.trim()); setPage(1); }} />
        <DatePicker.RangePicker showTime data-testid="audit-filter-range" value={range ?? null}
                                onChange={(v) => { setRange(v as Range); setPage(1); }} />
      </Space>
      {audit.isError && <Alert type="warning" showIcon data-testid="audit-error" title={t('audit.error', { message: audit.error.message })}
                               style={{ marginBottom: 16 }} />}
      <Table<AuditEntry>
        rowKey={(r) => `${r.created_at}|${r.action}|${r.object_id ?? ''}|${r.actor ?? ''}`}
        size="small" columns={columns} dataSource={audit.data?.items ?? []}
        loading={audit.isFetching && !audit.data} scroll={{ x: 'max-content' }}
        onRow={() => ({ 'data-testid': 'audit-row' }) as React.HTMLAttributes<HTMLElement>}
        pagination={{ current: page, pageSize, total: audit.data?.total ?? 0, showSizeChanger: true,
          showTotal: (n) => t('total', { n }), onChange: (p, s) => { setPage(s !== pageSize ? 1 : p); setPageSize(s); } }}
      />
    </>
  );
}
