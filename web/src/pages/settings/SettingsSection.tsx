// One section of the configuration as a table: key and environment variable, the
// editor (with the server's error at the key it names), where the value comes
// from, when a change applies, a pending restart, and resetting an override.
import { Button, Card, Form, Popconfirm, Space, Table, Tag, Tooltip, Typography, type ButtonProps } from 'antd';
import { ClockCircleOutlined, LockOutlined, UndoOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import SettingEditor from './SettingEditor';
import type { Setting, SettingValue } from './settingsApi';
import { formatValue, savedValue, type Draft } from './settingsForm';

const SOURCE_COLOR = { default: 'default', file: 'blue', override: 'purple', environment: 'orange' } as const;
const APPLY_COLOR = { live: 'green', restart: 'gold' } as const;

interface Props {
  section: string;
  settings: Setting[];
  draft: Draft;
  errors: Record<string, string>; // key → the server's message
  onEdit: (s: Setting, v: SettingValue | null) => void;
  onReset: (s: Setting) => void;
}

export default function SettingsSection({ section, settings, draft, errors, onEdit, onReset }: Props) {
  const { t } = useTranslation('settings');
  const text = (v: SettingValue | undefined) => formatValue(v, t('emptyValue'));

  function editor(s: Setting) {
    const edited = s.key in draft;
    const help = errors[s.key] ?? (draft[s.key] === null ? t('numberRequired') : undefined);
    const field = <SettingEditor setting={s} value={edited ? draft[s.key] : savedValue(s)} disabled={!s.editable}
                                 onChange={(v) => onEdit(s, v)} />;
    return (
      <Form.Item style={{ marginBottom: 0 }} validateStatus={help ? 'error' : undefined} help={help}
                 extra={s.pending && (
                   <Tooltip title={t('runningNow', { value: text(s.value) })}>
                     <Tag color="warning" icon={<ClockCircleOutlined />} data-testid={`setting-pending-${s.key}`}>
                       {t('pendingTag', { value: text(s.pending_value) })}
                     </Tag>
                   </Tooltip>)}>
        {s.editable ? field : (
          <Tooltip title={s.reason}>
            <Space data-testid={`setting-locked-${s.key}`}>{field}<LockOutlined aria-label={s.reason} /></Space>
          </Tooltip>)}
      </Form.Item>
    );
  }

  const columns = [
    { title: t('columns.key'), key: 'key', width: '30%',
      render: (_: unknown, s: Setting) => (
        <Space orientation="vertical" size={0}>
          <Space size={4}>
            <Typography.Text strong>{s.key}</Typography.Text>
            {s.key in draft && <Tag color="processing" data-testid={`setting-unsaved-${s.key}`}>{t('unsavedTag')}</Tag>}
          </Space>
          <Typography.Text type="secondary" code copyable style={{ fontSize: 12 }}>{s.env}</Typography.Text>
        </Space>) },
    { title: t('columns.value'), key: 'value', render: (_: unknown, s: Setting) => editor(s) },
    { title: t('columns.source'), key: 'source', width: 120,
      render: (_: unknown, s: Setting) => (
        <Tooltip title={`${t(`sourceHelp.${s.source}`)} · ${t('defaultValue', { value: text(s.default) })}`}>
          <Tag color={SOURCE_COLOR[s.source]} data-testid={`setting-source-${s.key}`}>{t(`sources.${s.source}`)}</Tag>
        </Tooltip>) },
    { title: t('columns.apply'), key: 'apply', width: 120,
      render: (_: unknown, s: Setting) => (
        <Tooltip title={t(`applyHelp.${s.apply}`)}>
          <Tag color={APPLY_COLOR[s.apply]} data-testid={`setting-apply-${s.key}`}>{t(`applies.${s.apply}`)}</Tag>
        </Tooltip>) },
    { title: t('columns.actions'), key: 'actions', width: 200,
      render: (_: unknown, s: Setting) => s.source === 'override' && s.editable && (
        <Popconfirm title={t('resetConfirm', { key: s.key })} okText={t('reset')} onConfirm={() => onReset(s)}
                    okButtonProps={{ 'data-testid': 'confirm-ok' } as ButtonProps}>
          <Button size="small" icon={<UndoOutlined />} data-testid={`setting-reset-${s.key}`}>{t('reset')}</Button>
        </Popconfirm>) },
  ];

  return (
    <Card type="inner" size="small" title={t(`sections.${section}`, { defaultValue: section })}
          style={{ marginBottom: 16 }} data-testid={`settings-section-${section}`}>
      <Table<Setting> rowKey="key" size="small" pagination={false} dataSource={settings} columns={columns}
                      tableLayout="fixed" scroll={{ x: 960 }}
                      onRow={(s) => ({ 'data-testid': `setting-row-${s.key}` }) as React.HTMLAttributes<HTMLElement>} />
    </Card>
  );
}
