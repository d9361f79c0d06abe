// The detail page's Overview: IO schema, serving state and the last 24 h of stats.
import { Col, Descriptions, Empty, Row, Statistic, Table, Tag, Typography } from 'antd';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import dayjs from 'dayjs';
import { getStats, type EngineInstance, type Model, type TensorSpec } from './types';
import { errorMessage } from './serverErrors';

function shapeText(shape: number[] | null): string {
  return shape ? `[${shape.map((d) => (d < 0 ? '?' : String(d))).join(', ')}]` : '—';
}

function TensorTable({ title, specs }: { title: string; specs: TensorSpec[] }) {
  const { t } = useTranslation('models');
  return (
    <Table<TensorSpec>
      size="small"
      title={() => title}
      rowKey="name"
      pagination={false}
      dataSource={specs}
      columns={[
        { title: t('io.name'), dataIndex: 'name', key: 'name' },
        { title: t('io.datatype'), dataIndex: 'datatype', key: 'datatype' },
        { title: t('io.shape'), dataIndex: 'shape', key: 'shape', render: shapeText },
      ]}
    />
  );
}

const STATE_COLORS: Record<string, string> = {
  ready: 'green', busy: 'blue', degraded: 'orange', recovering: 'orange', initialising: 'default',
  error: 'red', unavailable: 'red', stopped: 'default',
};

function StateTag({ state }: { state: string }) {
  const { t } = useTranslation('models');
  return <Tag color={STATE_COLORS[state] ?? 'default'}>{t(`state.${state}`, { defaultValue: state })}</Tag>;
}

// Each engine instance's state and counters; its last error on hover.
function Instances({ instances }: { instances: EngineInstance[] }) {
  const { t } = useTranslation('models');
  return (
    <Table<EngineInstance>
      size="small"
      rowKey="id"
      pagination={false}
      dataSource={instances}
      data-testid="serving-instances"
      columns={[
        { title: t('instances.id'), dataIndex: 'id', key: 'id' },
        {
          title: t('instances.state'), dataIndex: 'state', key: 'state',
          render: (state: string, row) => <span title={row.last_error ?? undefined}><StateTag state={state} /></span>,
        },
        { title: t('instances.runs'), dataIndex: 'runs', key: 'runs' },
        { title: t('instances.failures'), dataIndex: 'failures', key: 'failures' },
        { title: t('instances.recoveries'), dataIndex: 'recoveries', key: 'recoveries' },
        { title: t('instances.lastError'), dataIndex: 'last_error', key: 'last_error', render: (e: string | null) => e ?? '—' },
      ]}
    />
  );
}

function Serving({ model }: { model: Model }) {
  const { t } = useTranslation('models');
  const s = model.serving;
  if (!s) return <Typography.Text type="secondary">{t('overview.notServed')}</Typography.Text>;
  return (
    <>
    <Descriptions size="small" column={{ xs: 1, md: 3 }} data-testid="model-serving">
      <Descriptions.Item label={t('overview.state')}><span data-testid="serving-state"><StateTag state={s.state} /></span></Descriptions.Item>
      <Descriptions.Item label={t('overview.version')}>{s.version}</Descriptions.Item>
      <Descriptions.Item label={t('overview.inFlight')}>{s.in_flight}</Descriptions.Item>
      <Descriptions.Item label={t('overview.loadedAt')}>{dayjs(s.loaded_at).format('YYYY-MM-DD HH:mm:ss')}</Descriptions.Item>
      <Descriptions.Item label={t('overview.loadMs')}>{s.load_ms.toFixed(1)}</Descriptions.Item>
      <Descriptions.Item label={t('overview.devices')}>{s.devices.join(', ')}</Descriptions.Item>
      {s.plan && (
        <Descriptions.Item label={t('overview.plan')}>
          <span title={s.plan.rule} data-testid="serving-plan">
            {t('overview.planValue', { instances: s.plan.instances, threads: s.plan.threads })}
          </span>
        </Descriptions.Item>
      )}
      {s.fallback_reason && <Descriptions.Item label={t('overview.fallback')}>{s.fallback_reason}</Descriptions.Item>}
    </Descriptions>
    {s.instances && s.instances.length > 0 && <Instances instances={s.instances} />}
    </>
  );
}

function Stats({ id }: { id: string }) {
  const { t } = useTranslation('models');
  const q = useQuery({ queryKey: ['model-stats', id], queryFn: () => getStats(id), refetchInterval: 30_000 });
  if (q.isError) return <Typography.Text type="danger">{errorMessage(q.error)}</Typography.Text>;
  const s = q.data;
  if (!s) return null;
  const stat = (title: string, value: number | string, suffix?: string) => (
    <Col xs={12} md={6} lg={4} key={title}><Statistic title={title} value={value} suffix={suffix} /></Col>
  );
  const codes = Object.entries(s.errors_by_code);
  return (
    <>
      <Row gutter={[16, 16]} data-testid="model-stats">
        {stat(t('stats.requests'), s.requests)}
        {stat(t('stats.errors'), s.errors)}
        {stat(t('stats.errorRate'), (s.error_rate * 100).toFixed(2), '%')}
        {stat(t('stats.p50'), s.latency_ms.p50.toFixed(1), 'ms')}
        {stat(t('stats.p99'), s.latency_ms.p99.toFixed(1), 'ms')}
        {stat(t('stats.meanBatch'), s.mean_batch_size.toFixed(2))}
      </Row>
      {codes.length > 0 && (
        <Typography.Paragraph type="secondary" style={{ marginTop: 8 }}>
          {t('stats.byCode')}: {codes.map(([c, n]) => `${c} ${n}`).join(', ')}
        </Typography.Paragraph>
      )}
    </>
  );
}

export default function OverviewTab({ model }: { model: Model }) {
  const { t } = useTranslation('models');
  const inputs = model.io_schema?.inputs ?? [];
  const outputs = model.io_schema?.outputs ?? [];
  return (
    <>
      <Typography.Title level={5}>{t('overview.io')}</Typography.Title>
      {inputs.length + outputs.length === 0 ? <Empty description={t('overview.noIo')} /> : (
        <Row gutter={16}>
          <Col xs={24} lg={12}><TensorTable title={t('io.inputs')} specs={inputs} /></Col>
          <Col xs={24} lg={12}><TensorTable title={t('io.outputs')} specs={outputs} /></Col>
        </Row>
      )}
      <Typography.Title level={5} style={{ marginTop: 16 }}>{t('overview.serving')}</Typography.Title>
      <Serving model={model} />
      <Typography.Title level={5} style={{ marginTop: 16 }}>{t('overview.stats')}</Typography.Title>
      <Stats id={model.id} />
    </>
  );
}
