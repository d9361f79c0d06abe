// Logs: the inference log and the administrators' audit log, one tab each
// (the tab is kept in ?tab= so a reload stays on it).
import { Card, Tabs } from 'antd';
import { useSearchParams } from 'react-router-dom';
import { useTranslation } from 'react-i18next';
import AuditLogsTab from './logs/AuditLogsTab';
import InferenceLogsTab from './logs/InferenceLogsTab';

export default function LogsPage() {
  const { t } = useTranslation('logs');
  const [params, setParams] = useSearchParams();
  const tab = params.get('tab') === 'audit' ? 'audit' : 'inference';
  return (
    <Card title={t('title')}>
      <Tabs
        activeKey={tab}
        onChange={(k) => setParams(k === 'audit' ? { tab: 'audit' } : {}, { replace: true })}
        destroyOnHidden
        items={[
          { key: 'inference', label: <span data-testid="logs-tab-inference">{t('tabs.inference')}</span>, children: <InferenceLogsTab /> },
          { key: 'audit', label: <span data-testid="logs-tab-audit">{t('tabs.audit')}</span>, children: <AuditLogsTab /> },
        ]}
      />
    </Card>
  );
}
