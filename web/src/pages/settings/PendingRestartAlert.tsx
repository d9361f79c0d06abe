// The settings saved but not running until the server restarts, each with its
// running value and the one it will start with.
import { Alert, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import type { Setting } from './settingsApi';
import { formatValue } from './settingsForm';

export default function PendingRestartAlert({ keys, settings }: { keys: string[]; settings: Setting[] }) {
  const { t } = useTranslation('settings');
  if (keys.length === 0) return null;
  const byKey = new Map(settings.map((s) => [s.key, s]));
  const text = (v: Setting['value'] | undefined) => formatValue(v, t('emptyValue'));
  return (
    <Alert type="warning" showIcon style={{ marginBottom: 16 }} data-testid="settings-pending"
           title={t('pendingAlert', { count: keys.length })}
           description={
             <ul style={{ margin: 0, paddingInlineStart: 20 }}>
               {keys.map((k) => {
                 const s = byKey.get(k);
                 return (
                   <li key={k}>
                     <Typography.Text code>{k}</Typography.Text>
                     {s?.pending && ` ${t('pendingItem', { running: text(s.value), next: text(s.pending_value) })}`}
                   </li>
                 );
               })}
             </ul>
           } />
  );
}
