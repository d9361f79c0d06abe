// The model config editor shared by upload and the detail page: presets, the
// form, and an "Advanced (JSON)" text editor kept in sync with the form both ways
// (form -> JSON on every change; JSON -> form whenever the text parses).
import { useRef, useState } from 'react';
import { Alert, Collapse, Form, Input, Select, Space, type FormInstance } from 'antd';
import { useTranslation } from 'react-i18next';
import ConfigFields from './ConfigFields';
import {
  configToForm, configToJson, formToConfig, parseConfigJson, PRESET_KEYS, presetConfig,
  type ConfigFormValues, type ModelConfig, type PresetKey,
} from './configForm';

interface Props {
  form: FormInstance<ConfigFormValues>;
  initial: ModelConfig;
  // The current config, or null while the JSON text does not parse.
  onChange: (config: ModelConfig | null) => void;
  // A server error about a config field the form has no control for.
  otherError?: string | null;
}

export default function ConfigEditor({ form, initial, onChange, otherError }: Props) {
  const { t } = useTranslation('models');
  const config = useRef<ModelConfig>(initial);
  const [text, setText] = useState(() => configToJson(initial));
  const [jsonError, setJsonError] = useState<string | null>(null);
  const [initialValues] = useState(() => configToForm(initial));

  function publish(c: ModelConfig, fromJson = false) {
    config.current = c;
    if (!fromJson) setText(configToJson(c));
    setJsonError(null);
    onChange(c);
  }
  function onFormChange() {
    publish(formToConfig(form.getFieldsValue(true) as ConfigFormValues, config.current));
  }
  function applyPreset(key: PresetKey) {
    const c = presetConfig(key);
    form.setFieldsValue(configToForm(c));
    publish(c);
  }
  function onJsonChange(value: string) {
    setText(value);
    const r = parseConfigJson(value);
    if ('error' in r) {
      setJsonError(r.error);
      onChange(null);
      return;
    }
    form.setFieldsValue(configToForm(r.config));
    publish(r.config, true);
  }

  return (
    <Form form={form} layout="vertical" initialValues={initialValues} onValuesChange={onFormChange}
          data-testid="config-form">
      <Space style={{ marginBottom: 12 }} wrap>
        <span>{t('config.preset')}</span>
        <Select<PresetKey>
          aria-label={t('config.preset')}
          data-testid="config-preset"
          placeholder={t('config.choosePreset')}
          style={{ minWidth: 260 }}
          value={null as unknown as PresetKey}
          onChange={applyPreset}
          options={PRESET_KEYS.map((k) => ({ value: k, label: t(`presets.${k}`) }))}
        />
      </Space>
      <ConfigFields />
      {otherError && <Alert type="error" showIcon title={otherError} style={{ marginBottom: 12 }} />}
      <Collapse
        items={[{
          key: 'json',
          label: t('config.advanced'),
          forceRender: true,
          children: (
            <Form.Item label={t('config.json')} htmlFor="config-json"
                       validateStatus={jsonError ? 'error' : undefined}
                       help={jsonError ? t('config.invalidJson', { message: jsonError }) : undefined}>
              <Input.TextArea id="config-json" data-testid="config-json" rows={14} spellCheck={false}
                              style={{ fontFamily: 'monospace' }} value={text}
                              onChange={(e) => onJsonChange(e.target.value)} />
            </Form.Item>
          ),
        }]}
      />
    </Form>
  );
}
