// Per-day and per-model usage of one token (GET tokens/{id}/usage?days=N).
import { useMemo, useState } from 'react';
import { Alert, Card, Col, Row, Segmented, Statistic } from 'antd';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { get } from '../../api/client';
import EChart from '../dashboard/EChart';
import type { TokenUsage } from './tokenUtils';

export default function TokenUsageCharts({ id, names }: { id: string; names: Map<string, string> }) {
  const { t } = useTranslation('tokens');
  const [days, setDays] = useState(30);
  const usage = useQuery({
    queryKey: ['tokens', 'usage', id, days],
    queryFn: () => get<TokenUsage>(`tokens/${encodeURIComponent(id)}/usage?days=${days}`),
  });
  const d = usage.data;
  const perDay = useMemo(() => ({
    tooltip: { trigger: 'axis' },
    grid: { left: 40, right: 16, top: 16, bottom: 28 },
    xAxis: { type: 'category', data: d?.days.map((x) => x.date) ?? [] },
    yAxis: { type: 'value', minInterval: 1 },
    series: [{ type: 'bar', name: t('detail.units'), data: d?.days.map((x) => x.count) ?? [] }],
  }), [d, t]);
  const perModel = useMemo(() => ({
    tooltip: { trigger: 'axis' },
    grid: { left: 100, right: 16, top: 16, bottom: 28 },
    yAxis: { type: 'category', data: d?.models.map((m) => names.get(m.model_id) ?? m.model_id) ?? [] },
    xAxis: { type: 'value', minInterval: 1 },
    series: [{ type: 'bar', name: t('detail.units'), data: d?.models.map((m) => m.count) ?? [] }],
  }), [d, names, t]);

  return (
    <Card title={t('detail.usage')} extra={
      <Segmented value={days} onChange={(v) => setDays(Number(v))}
                 options={[7, 30, 90].map((n) => ({ value: n, label: t('detail.days', { n }) }))} />}>
      {usage.isError && <Alert type="error" showIcon title={usage.error.message} />}
      {d && (
        <>
          <Row gutter={16} style={{ marginBottom: 8 }}>
            <Col span={12}><Statistic title={t('detail.windowTotal')} value={d.total} /></Col>
            <Col span={12}><Statistic title={t('detail.thisMonth')} value={d.used_count}
                                      suffix={d.monthly_limit === null ? undefined : `/ ${d.monthly_limit}`} /></Col>
          </Row>
          <Row gutter={16}>
            <Col xs={24} lg={14}><EChart option={perDay} testId="token-usage-days" /></Col>
            <Col xs={24} lg={10}><EChart option={perModel} testId="token-usage-models" /></Col>
          </Row>
        </>
      )}
    </Card>
  );
}
