// The detail page's Config tab: edit and save the config (PATCH {config}); a 422
// is shown at the field it names.
import { useState } from 'react';
import { Alert, App, Button, Form, Space } from 'antd';
import { useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import ConfigEditor from './ConfigEditor';
import type { ConfigFormValues, ModelConfig } from './configForm';
import { placeFieldError } from './serverErrors';
import { patchModel, type Model } from './types';

export default function ConfigTab({ model }: { model: Model }) {
  const { t } = useTranslation('models');
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const [form] = Form.useForm<ConfigFormValues>();
  const [config, setConfig] = useState<ModelConfig | null>(model.config);
  const [generation, setGeneration] = useState(0);
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [other, setOther] = useState<string | null>(null);

  async function save() {
    if (!config) return;
    setSaving(true);
    setError(null);
    setOther(null);
    try {
      const m = await patchModel(model.id, { config });
      queryClient.setQueryData(['model', model.id], m);
      void queryClient.invalidateQueries({ queryKey: ['model-versions', model.id] });
      setConfig(m.config);
      setGeneration((g) => g + 1); // show the stored config, defaults filled in
      message.success(t('config.saved'));
    } catch (err) {
      const r = placeFieldError(err, form);
      setError(r.message);
      if (r.placed === 'config-other') setOther(r.message);
    } finally {
      setSaving(false);
    }
  }

  return (
    <>
      {model.status === 'published' && (
        <Alert type="info" showIcon title={t('config.publishedNote')} style={{ marginBottom: 12 }} />
      )}
      <ConfigEditor key={generation} form={form} initial={config ?? model.config} onChange={setConfig} otherError={other} />
      {error && <Alert type="error" showIcon title={error} style={{ marginTop: 12 }} data-testid="config-error" />}
      <Space style={{ marginTop: 12 }}>
        <Button type="primary" onClick={() => void save()} loading={saving} disabled={!config} data-testid="config-save">
          {t('config.save')}
        </Button>
      </Space>
    </>
  );
}
