// The inference log: filters (model, token, status, time range) and a server-paged
// table; a row expands to the request id, route, timings and the error message.
import { useMemo, useState } from 'react';
import { Alert, DatePicker, Descriptions, Select, Space, Table, Tag, Tooltip } from 'antd';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { get } from '../../api/client';
import { modelNames, useModelList } from '../tokens/tokenApi';
import { formatTime, type Paged, type Token } from '../tokens/tokenUtils';
import { buildQuery, type InferenceLog, type Range } from './logsData';

function Details({ r }: { r: InferenceLog }) {
  const { t } = useTranslation('logs');
  const tm = r.timing_ms;
  return (
    <Descriptions size="small" column={{ xs: 1, md: 3 }}>
      <Descriptions.Item label={t('inference.requestId')}>{r.request_id}</Descriptions.Item>
      <Descriptions.Item label={t('inference.route')}>{r.route}</Descriptions.Item>
      <Descriptions.Item label={t('inference.httpStatus')}>{String(r.http_status)}</Descriptions.Item>
      <Descriptions.Item label={t('inference.timing')} span={2}>
        {t('inference.timingDetail', { q: tm.queue, pre: tm.preprocess, inf: tm.infer, post: tm.postprocess })}
      </Descriptions.Item>
      <Descriptions.Item label={t('inference.batch')}>{String(r.batch_size)}</Descriptions.Item>
      {r.error_message && <Descriptions.Item label={t('inference.error')} span={3}>{r.error_message}</Descriptions.Item>}
    </Descriptions>
  );
}

export default function InferenceLogsTab() {
  const { t } = useTranslation('logs');
  const [page, setPage] = useState(1);
  const [pageSize, setPageSize] = useState(50);
  const [filters, setFilters] = useState<{ model_id?: string; token_id?: string; status?: string }>({});
  const [range, setRange] = useState<Range>(null);
  const models = useModelList();
  const tokens = useQuery({ queryKey: ['tokens', 'picker'], queryFn: () => get<Paged<Token>>('tokens?page_size=100') });
  const mNames = useMemo(() => modelNames(models.data?.items), [models.data]);
  const tNames = useMemo(() => new Map((tokens.data?.items ?? []).map((x) => [x.id, x.name])), [tokens.data]);
  const logs = useQuery({
    queryKey: ['logs', page, pageSize, filters, range?.[0]?.valueOf(), range?.[1]?.valueOf()],
    queryFn: () => get<Paged<InferenceLog>>(buildQuery('logs', page, pageSize, filters, range)),
    placeholderData: keepPreviousData,
  });
  const setFilter = (k: keyof typeof filters) => (v?: string) => { setFilters((f) => ({ ...f, [k]: v })); setPage(1); };

  const columns = [
    { title: t('inference.time'), key: 'time', render: (_: unknown, r: InferenceLog) => formatTime(r.created_at) },
    { title: t('inference.model'), key: 'model', render: (_: unknown, r: InferenceLog) => mNames.get(r.model_id) ?? r.model_id },
    { title: t('inference.version'), key: 'version', render: (_: unknown, r: InferenceLog) => (r.model_version === null ? '—' : `v${r.model_version}`) },
    { title: t('inference.token'), key: 'token', render: (_: unknown, r: InferenceLog) => (r.token_id ? tNames.get(r.token_id) ?? r.token_id : '—') },
    { title: t('inference.clientIp'), dataIndex: 'client_ip', key: 'ip' },
    { title: t('inference.status'), key: 'status', render: (_: unknown, r: InferenceLog) => (r.status === 'ok'
      ? <Tag color="success">{t('inference.ok')}</Tag>
      : <Tooltip title={r.error_message ?? ''}><Tag color="error">{r.error_code ?? `HTTP ${r.http_status}`}</Tag></Tooltip>) },
    { title: t('inference.latency'), key: 'latency', align: 'right' as const, render: (_: unknown, r: InferenceLog) => `${r.timing_ms.total.toFixed(1)} ms` },
  ];

  return (
    <>
      <Space wrap style={{ marginBottom: 16 }}>
        <Select allowClear showSearch optionFilterProp="label" placeholder={t('filters.model')} aria-label={t('filters.model')}
                data-testid="logs-filter-model" style={{ width: 200 }} value={filters.model_id} onChange={setFilter('model_id')}
                options={(models.data?.items ?? []).map((m) => ({ value: m.id, label: m.name }))} />
        <Select allowClear showSearch optionFilterProp="label" placeholder={t('filters.token')} aria-label={t('filters.token')}
                data-testid="logs-filter-token" style={{ width: 200 }} value={filters.token_id} onChange={setFilter('token_id')}
                options={(tokens.data?.items ?? []).map((x) => ({ value: x.id, label: x.name }))} />
        <Select allowClear placeholder={t('filters.status')} aria-label={t('filters.status')} data-testid="logs-filter-status"
                style={{ width: 140 }} value={filters.status} onChange={setFilter('status')}
                options={[{ value: 'ok', label: t('inference.ok') }, { value: 'error', label: t('inference.errorStatus') }]} />
        <DatePicker.RangePicker showTime data-testid="logs-filter-range" value={range ?? null}
                                onChange={(v) => { setRange(v as Range); setPage(1); }} />
      </Space>
      {logs.isError && <Alert type="error" showIcon title={logs.error.message} style={{ marginBottom: 16 }} />}
      <Table<InferenceLog>
        rowKey="id" size="small" columns={columns} dataSource={logs.data?.items ?? []}
        loading={logs.isFetching && !logs.data} scroll={{ x: 'max-content' }}
        onRow={() => ({ 'data-testid': 'log-row' }) as React.HTMLAttributes<HTMLElement>}
        expandable={{ expandedRowRender: (r) => <Details r={r} /> }}
        pagination={{ current: page, pageSize, total: logs.data?.total ?? 0, showSizeChanger: true, pageSizeOptions: [20, 50, 100, 200],
          showTotal: (n) => t('total', { n }), onChange: (p, s) => { setPage(s !== pageSize ? 1 : p); setPageSize(s); } }}
      />
    </>
  );
}
