// The answer of a test run besides the overlay: the top-k classes, the timing
// breakdown, counts, and the whole JSON (collapsible, as text).
import { Collapse, Descriptions, List, Progress, Space, Table, Tag, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { percent, timingRows } from './geometry';
import type { TestResult } from './types';

function Classes({ result }: { result: TestResult }) {
  const { t } = useTranslation('playground');
  if (!result.classes) return null;
  return (
    <List
      size="small"
      header={t('result.classes')}
      dataSource={result.classes}
      renderItem={(c, i) => (
        <List.Item data-testid="pg-class" key={i}>
          <Space style={{ width: '100%' }}>
            <Typography.Text strong>{c.label ?? String(c.index ?? i)}</Typography.Text>
            <span data-testid="pg-class-score">{percent(c.score)}</span>
          </Space>
          <Progress percent={Math.round(c.score * 1000) / 10} showInfo={false} size="small" style={{ width: 160 }} />
        </List.Item>
      )}
    />
  );
}

function Timing({ result }: { result: TestResult }) {
  const { t } = useTranslation('playground');
  const rows = timingRows(result.timing_ms);
  if (rows.length === 0) return null;
  const total = result.timing_ms?.total ?? Math.max(...rows.map(([, v]) => v));
  return (
    <Table
      size="small"
      data-testid="pg-timing"
      title={() => t('result.timing')}
      pagination={false}
      rowKey="key"
      dataSource={rows.map(([key, ms]) => ({ key, ms }))}
      columns={[
        { title: t('result.stage'), dataIndex: 'key', key: 'stage', render: (k: string) => t(`stages.${k}`, { defaultValue: k }) },
        { title: 'ms', dataIndex: 'ms', key: 'ms', render: (v: number) => v.toFixed(2) },
        {
          title: '', key: 'bar',
          render: (_: unknown, r: { key: string; ms: number }) => (
            <Progress percent={total > 0 ? Math.min(100, (r.ms / total) * 100) : 0} showInfo={false} status="normal" size="small" style={{ width: 120 }} />
          ),
        },
      ]}
    />
  );
}

export default function ResultPanel({ result }: { result: TestResult }) {
  const { t } = useTranslation('playground');
  return (
    <Space direction="vertical" style={{ width: '100%' }}>
      <Descriptions size="small" column={1}>
        <Descriptions.Item label={t('result.task')}>{result.task ?? '—'}</Descriptions.Item>
        <Descriptions.Item label={t('result.version')}>{result.model_version ?? '—'}</Descriptions.Item>
        {result.source && (
          <Descriptions.Item label={t('result.source')}>
            <Tag color={result.source === 'serving' ? 'green' : 'blue'}>{t(`source.${result.source}`, { defaultValue: result.source })}</Tag>
          </Descriptions.Item>
        )}
        {result.image && <Descriptions.Item label={t('result.image')}>{`${result.image.width} × ${result.image.height}`}</Descriptions.Item>}
        {result.detections && <Descriptions.Item label={t('result.detections')}>{result.detections.length}</Descriptions.Item>}
        {result.regions && <Descriptions.Item label={t('result.regions')}>{result.regions.length}</Descriptions.Item>}
      </Descriptions>
      <Classes result={result} />
      <Timing result={result} />
      <Collapse
        items={[{
          key: 'json', label: t('result.json'),
          children: <pre data-testid="pg-json" style={{ maxHeight: 400, overflow: 'auto', margin: 0 }}>{JSON.stringify(result, null, 2)}</pre>,
        }]}
      />
    </Space>
  );
}
