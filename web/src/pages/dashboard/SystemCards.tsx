// Server and host information (GET system/info) as Statistic cards and Descriptions.
import { Card, Col, Descriptions, Progress, Row, Statistic, Tag } from 'antd';
import { useTranslation } from 'react-i18next';
import { formatUptime, usedPct, type SystemInfo } from './dashboardData';

export default function SystemCards({ info }: { info: SystemInfo }) {
  const { t } = useTranslation('dashboard');
  const mem = usedPct(info.memory.total_mb, info.memory.available_mb);
  const disk = usedPct(info.disk.total_mb, info.disk.free_mb);
  return (
    <Row gutter={[16, 16]}>
      <Col xs={24} md={12} xl={6}>
        <Card><Statistic title={t('system.version')} value={info.version} />
          <span data-testid="dashboard-uptime">{t('system.uptime', { value: formatUptime(info.uptime_s) })}</span></Card>
      </Col>
      <Col xs={24} md={12} xl={6}>
        <Card><Statistic title={t('system.cpu', { n: info.cpu.count })} value={info.cpu.load_1m} precision={2} />
          {t('system.load', { l5: info.cpu.load_5m.toFixed(2), l15: info.cpu.load_15m.toFixed(2) })}</Card>
      </Col>
      <Col xs={24} md={12} xl={6}>
        <Card><Statistic title={t('system.memory')} value={mem} suffix="%" />
          <Progress percent={mem} showInfo={false} size="small" />
          {t('system.memoryDetail', { avail: info.memory.available_mb, total: info.memory.total_mb, rss: info.memory.process_rss_mb })}</Card>
      </Col>
      <Col xs={24} md={12} xl={6}>
        <Card><Statistic title={t('system.disk')} value={disk} suffix="%" />
          <Progress percent={disk} showInfo={false} size="small" />
          {t('system.diskDetail', { free: info.disk.free_mb, total: info.disk.total_mb })}</Card>
      </Col>
      <Col span={24}>
        <Card size="small">
          <Descriptions size="small" column={{ xs: 1, md: 2, xl: 4 }}>
            <Descriptions.Item label={t('system.build')}>{`${info.build.commit} · ${info.build.type}`}</Descriptions.Item>
            <Descriptions.Item label={t('system.compiler')}>{info.build.compiler}</Descriptions.Item>
            <Descriptions.Item label={t('system.dataDir')}>{info.disk.data_dir}</Descriptions.Item>
            <Descriptions.Item label={t('system.engines')}>
              {info.engines.length ? info.engines.map((e) => <Tag key={e}>{e}</Tag>) : '—'}
            </Descriptions.Item>
          </Descriptions>
        </Card>
      </Col>
    </Row>
  );
}
