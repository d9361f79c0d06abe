// Settings (admin role): the server's runtime configuration by section. Edits are
// collected and saved together (one PATCH of the changed keys); an override can be
// reset to the file/default value. A 422/409 is shown at the key it names and the
// edits stay; restart-only keys saved but not running yet are listed at the top.
// Other roles do not see it in the navigation; the server's 403 is shown as its message.
import { useEffect, useState } from 'react';
import { Alert, App, Button, Card, Empty, Form, Input, Space, Typography } from 'antd';
import { SaveOutlined, SearchOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { ApiError } from '../api/client';
import PendingRestartAlert from './settings/PendingRestartAlert';
import SettingsSection from './settings/SettingsSection';
import { CONFIG_QUERY, getConfig, patchConfig, type Setting, type SettingValue, type SystemConfig } from './settings/settingsApi';
import { bySection, invalidKeys, matches, withEdit, withoutSent, type Draft } from './settings/settingsForm';

interface Failure {
  message: string;
  key: string | null; // the setting the server named (error.details.field)
}

export default function SettingsPage() {
  const { t } = useTranslation('settings');
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const config = useQuery({ queryKey: CONFIG_QUERY, queryFn: getConfig });
  const [draft, setDraft] = useState<Draft>({});
  const [failure, setFailure] = useState<Failure | null>(null);
  const [query, setQuery] = useState('');
  const unsaved = Object.keys(draft).length;

  useEffect(() => { // a reload or a closed tab would lose the edits
    if (!unsaved) return undefined;
    const warn = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [unsaved]);

  function failed(e: Error) {
    const key = e instanceof ApiError ? e.field : null;
    const known = !!key && !!config.data?.keys.some((s) => s.key === key);
    setFailure({ message: e.message, key: known ? key : null });
    if (known) document.querySelector(`[data-testid="setting-row-${key}"]`)?.scrollIntoView?.({ block: 'center' });
  }
  const stored = (doc: SystemConfig) => queryClient.setQueryData(CONFIG_QUERY, doc);

  const save = useMutation({
    mutationFn: (sent: Draft) => patchConfig(sent as Record<string, SettingValue>),
    onSuccess: (doc, sent) => {
      stored(doc);
      setDraft((d) => withoutSent(d, sent));
      setFailure(null);
      const count = doc.changed?.length ?? 0;
      void message.success(count ? t('saved', { count }) : t('nothingChanged'));
    },
    onError: failed,
  });
  const reset = useMutation({
    mutationFn: (s: Setting) => patchConfig({ [s.key]: null }),
    onSuccess: (doc, s) => {
      stored(doc);
      setDraft(({ [s.key]: _, ...rest }) => rest);
      setFailure(null);
      void message.success(t('resetDone', { key: s.key }));
    },
    onError: failed,
  });

  function edit(s: Setting, v: SettingValue | null) {
    setDraft((d) => withEdit(d, s, v));
    if (failure?.key === s.key) setFailure(null);
  }

  if (config.isError) return <Card title={t('title')}><Alert type="error" showIcon title={config.error.message} /></Card>;
  const doc = config.data;
  const sections = bySection((doc?.keys ?? []).filter((s) => matches(s, query)));
  const shown = sections.some(([, list]) => list.some((s) => s.key === failure?.key));

  return (
    <Card title={t('title')} loading={config.isPending}>
      <Typography.Paragraph type="secondary">{t('intro')}</Typography.Paragraph>
      <Typography.Paragraph type="secondary">
        {t('overrideFile')} <Typography.Text code copyable data-testid="settings-file">{doc?.override_file}</Typography.Text>
      </Typography.Paragraph>
      <Space wrap style={{ position: 'sticky', top: 0, zIndex: 10, background: '#fff', padding: '8px 0', marginBottom: 8,
                           width: '100%', justifyContent: 'space-between' }}>
        <Input allowClear prefix={<SearchOutlined />} placeholder={t('search')} aria-label={t('search')}
               data-testid="settings-search" value={query} onChange={(e) => setQuery(e.target.value)} style={{ width: 280 }} />
        <Space>
          <Typography.Text type={unsaved ? 'warning' : 'secondary'} data-testid="settings-unsaved">
            {unsaved ? t('unsaved', { count: unsaved }) : t('noUnsaved')}
          </Typography.Text>
          <Button disabled={!unsaved || save.isPending} data-testid="settings-discard"
                  onClick={() => { setDraft({}); setFailure(null); }}>{t('discard')}</Button>
          <Button type="primary" icon={<SaveOutlined />} loading={save.isPending} data-testid="settings-save"
                  disabled={!unsaved || invalidKeys(draft).length > 0} onClick={() => save.mutate(draft)}>
            {t('save')}
          </Button>
        </Space>
      </Space>
      {doc && <PendingRestartAlert keys={doc.pending_restart} settings={doc.keys} />}
      {failure && !(failure.key && shown) && (
        <Alert type="error" showIcon closable onClose={() => setFailure(null)} style={{ marginBottom: 16 }}
               data-testid="settings-error" title={failure.key ? `${failure.key}: ${failure.message}` : failure.message} />
      )}
      <Form component={false}>
        {sections.map(([section, list]) => (
          <SettingsSection key={section} section={section} settings={list} draft={draft}
                           errors={failure?.key ? { [failure.key]: failure.message } : {}}
                           onEdit={edit} onReset={(s) => reset.mutate(s)} />
        ))}
      </Form>
      {doc && sections.length === 0 && <Empty description={t('noMatch', { query })} />}
    </Card>
  );
}
