// The traffic part of the dashboard (GET stats/overview): totals, three line charts
// over the last hour, models by status, the per-model table and the top tokens.
import { useMemo } from 'react';
import { Card, Col, Progress, Row, Statistic, Table, Tag, Typography } from 'antd';
import { Link } from 'react-router-dom';
import { useTranslation } from 'react-i18next';
import EChart from './EChart';
import { formatMs, lineOption, perMinute, type ModelRow, type Overview, type TopToken } from './dashboardData';

function Totals({ o }: { o: Overview }) {
  const { t } = useTranslation('dashboard');
  const rate = o.totals.requests ? (o.totals.errors / o.totals.requests) * 100 : 0;
  return (
    <Row gutter={[16, 16]}>
      <Col xs={12} xl={6}><Card><Statistic title={t('totals.requests')} value={o.totals.requests}
        formatter={(v) => <span data-testid="dashboard-requests">{String(v)}</span>} /></Card></Col>
      <Col xs={12} xl={6}><Card><Statistic title={t('totals.errors')} value={o.totals.errors}
        suffix={<Typography.Text type="secondary" style={{ fontSize: 14 }}>{`(${rate.toFixed(1)}%)`}</Typography.Text>}
        formatter={(v) => <span data-testid="dashboard-errors">{String(v)}</span>} /></Card></Col>
      <Col xs={12} xl={6}><Card><Statistic title={t('totals.p50')} value={formatMs(o.totals.p50_ms)} /></Card></Col>
      <Col xs={12} xl={6}><Card><Statistic title={t('totals.p99')} value={formatMs(o.totals.p99_ms)} /></Card></Col>
    </Row>
  );
}

function Charts({ o }: { o: Overview }) {
  const { t } = useTranslation('dashboard');
  const opts = useMemo(() => ({
    rpm: lineOption(o.series, [{ name: t('charts.rpm'), values: perMinute(o.series, o.step_s) }]),
    errors: lineOption(o.series, [{ name: t('charts.errors'), values: o.series.map((p) => p.errors), color: '#ff4d4f' }]),
    latency: lineOption(o.series, [
      { name: 'p50', values: o.series.map((p) => p.p50_ms) },
      { name: 'p99', values: o.series.map((p) => p.p99_ms), color: '#fa8c16' },
    ], ' ms'),
  }), [o, t]);
  return (
    <Row gutter={[16, 16]}>
      <Col xs={24} xl={8}><Card title={t('charts.rpm')} size="small"><EChart option={opts.rpm} testId="chart-rpm" /></Card></Col>
      <Col xs={24} xl={8}><Card title={t('charts.errors')} size="small"><EChart option={opts.errors} testId="chart-errors" /></Card></Col>
      <Col xs={24} xl={8}><Card title={t('charts.latency')} size="small"><EChart option={opts.latency} testId="chart-latency" /></Card></Col>
    </Row>
  );
}

function ModelsTable({ o }: { o: Overview }) {
  const { t } = useTranslation('dashboard');
  const columns = [
    { title: t('models.name'), key: 'name', render: (_: unknown, r: ModelRow) => <Link to={`/models/${encodeURIComponent(r.model_id)}`}>{r.name}</Link> },
    { title: t('models.status'), key: 'status', render: (_: unknown, r: ModelRow) => <Tag>{t(`modelStatus.${r.status}`, { defaultValue: r.status })}</Tag> },
    { title: t('models.requests'), dataIndex: 'requests', key: 'requests' },
    { title: t('models.errors'), dataIndex: 'errors', key: 'errors' },
    { title: 'p50', key: 'p50', render: (_: unknown, r: ModelRow) => formatMs(r.p50_ms) },
    { title: 'p99', key: 'p99', render: (_: unknown, r: ModelRow) => formatMs(r.p99_ms) },
  ];
  return <Table<ModelRow> rowKey="model_id" size="small" dataSource={o.models} columns={columns} pagination={false}
                          scroll={{ x: 'max-content' }} />;
}

function TopTokens({ tokens }: { tokens: TopToken[] }) {
  const { t } = useTranslation('dashboard');
  const columns = [
    { title: t('tokens.name'), key: 'name', render: (_: unknown, r: TopToken) => <Link to={`/tokens/${encodeURIComponent(r.token_id)}`}>{r.name}</Link> },
    { title: t('tokens.used'), key: 'used', render: (_: unknown, r: TopToken) => (r.monthly_limit === null
      ? String(r.used_count)
      : <div style={{ minWidth: 120 }}><Progress size="small" percent={Math.min(100, Math.round((r.used_count / r.monthly_limit) * 100))} />
          {`${r.used_count} / ${r.monthly_limit}`}</div>) },
  ];
  return <Table<TopToken> rowKey="token_id" size="small" dataSource={tokens} columns={columns} pagination={false} />;
}

export default function StatsSection({ o }: { o: Overview }) {
  const { t } = useTranslation('dashboard');
  return (
    <>
      <Totals o={o} />
      <Charts o={o} />
      <Row gutter={[16, 16]}>
        <Col xs={24} xl={16}><Card title={t('models.title')} size="small"
          extra={Object.entries(o.models_by_status).map(([s, n]) => <Tag key={s} data-testid={`models-status-${s}`}>{`${t(`modelStatus.${s}`, { defaultValue: s })}: ${n}`}</Tag>)}>
          <ModelsTable o={o} /></Card></Col>
        <Col xs={24} xl={8}><Card title={t('tokens.title')} size="small"><TopTokens tokens={o.top_tokens} /></Card></Col>
      </Row>
    </>
  );
}
