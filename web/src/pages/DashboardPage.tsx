// The dashboard: server/host information and the last hour's traffic, refreshed
// every 10 s. Each source fails on its own (an Alert), the other still shows.
import { Alert, Space, Spin, Typography } from 'antd';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { get } from '../api/client';
import StatsSection from './dashboard/StatsSection';
import SystemCards from './dashboard/SystemCards';
import type { Overview, SystemInfo } from './dashboard/dashboardData';

export const REFRESH_MS = 10_000;

export default function DashboardPage() {
  const { t } = useTranslation('dashboard');
  const info = useQuery({ queryKey: ['system', 'info'], queryFn: () => get<SystemInfo>('system/info'), refetchInterval: REFRESH_MS });
  const stats = useQuery({
    queryKey: ['stats', 'overview'],
    queryFn: () => get<Overview>('stats/overview?window_s=3600&step_s=60'),
    refetchInterval: REFRESH_MS,
  });
  return (
    <Space orientation="vertical" size="large" style={{ width: '100%' }}>
      <Typography.Title level={3} style={{ margin: 0 }}>{t('title')}</Typography.Title>
      {info.isPending && <Spin />}
      {info.isError && <Alert type="error" showIcon title={t('infoError', { message: info.error.message })} />}
      {info.data && <SystemCards info={info.data} />}
      <Typography.Title level={4} style={{ margin: 0 }}>{t('lastHour')}</Typography.Title>
      {stats.isPending && <Spin />}
      {stats.isError && <Alert type="warning" showIcon data-testid="dashboard-stats-error"
                               title={t('statsError', { message: stats.error.message })} />}
      {stats.data && <StatsSection o={stats.data} />}
    </Space>
  );
}
