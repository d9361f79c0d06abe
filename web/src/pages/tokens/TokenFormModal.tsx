// Create or edit an API token in a Modal form. On create the parent receives the
// CreatedToken (with its one-time value); on edit the changed token.
import { useEffect, useState } from 'react';
import { Alert, DatePicker, Form, Input, InputNumber, Modal, Select, Tag, type ButtonProps } from 'antd';
import { useTranslation } from 'react-i18next';
import dayjs from 'dayjs';
import { patch, post } from '../../api/client';
import { useModelList } from './tokenApi';
import {
  invalidIpEntries, isIpOrCidr, toBody, toFormValues, type CreatedToken, type Token, type TokenFormValues,
} from './tokenUtils';

interface Props {
  open: boolean;
  token: Token | null; // null: create
  onClose: () => void;
  onSaved: (t: Token | CreatedToken, created: boolean) => void;
}

const DEFAULTS: TokenFormValues = { name: '', remark: '', allowed_models: ['*'], ip_whitelist: [] };

export default function TokenFormModal({ open, token, onClose, onSaved }: Props) {
  const { t } = useTranslation('tokens');
  const [form] = Form.useForm<TokenFormValues>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const models = useModelList();
  const ips = Form.useWatch('ip_whitelist', form);
  const invalid = invalidIpEntries(ips);

  useEffect(() => {
    if (!open) return;
    setError(null);
    form.resetFields();
    form.setFieldsValue(token ? toFormValues(token) : DEFAULTS);
  }, [open, token, form]);

  async function submit(v: TokenFormValues) {
    setBusy(true);
    setError(null);
    try {
      const body = toBody(v);
      const saved = token ? await patch<Token>(`tokens/${encodeURIComponent(token.id)}`, body)
        : await post<CreatedToken>('tokens', body);
      onSaved(saved, !token);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  }

  const modelOptions = [
    { value: '*', label: t('form.allModels') },
    ...(models.data?.items ?? []).map((m) => ({ value: m.id, label: m.name })),
  ];

  return (
    <Modal
      open={open}
      title={token ? t('form.editTitle') : t('form.createTitle')}
      onCancel={onClose}
      onOk={() => form.submit()}
      okText={token ? t('form.save') : t('form.create')}
      okButtonProps={{ loading: busy, 'data-testid': 'token-submit' } as ButtonProps}
      destroyOnHidden
      width={600}
    >
      {error && <Alert type="error" showIcon title={error} data-testid="token-form-error" style={{ marginBottom: 16 }} />}
      <Form form={form} layout="vertical" onFinish={(v) => void submit(v)} initialValues={DEFAULTS}>
        <Form.Item name="name" label={t('fields.name')}
                   rules={[{ required: true, whitespace: true, message: t('form.nameRequired') }, { max: 100 }]}>
          <Input data-testid="token-name" maxLength={100} />
        </Form.Item>
        <Form.Item name="remark" label={t('fields.remark')} rules={[{ max: 1000 }]}>
          <Input.TextArea data-testid="token-remark" rows={2} maxLength={1000} />
        </Form.Item>
        <Form.Item name="expires_at" label={t('fields.expires')} extra={t('form.expiresHelp')}>
          <DatePicker showTime data-testid="token-expires" style={{ width: '100%' }}
                      disabledDate={(d) => d.isBefore(dayjs().startOf('day'))} />
        </Form.Item>
        <Form.Item name="allowed_models" label={t('fields.models')} extra={t('form.modelsHelp')}>
          <Select mode="multiple" data-testid="token-models" options={modelOptions} loading={models.isPending}
                  optionFilterProp="label" />
        </Form.Item>
        <Form.Item
          name="ip_whitelist"
          label={t('fields.ipWhitelist')}
          extra={invalid.length === 0 ? t('form.ipHelp') : undefined}
          validateStatus={invalid.length ? 'error' : undefined}
          help={invalid.length ? <span data-testid="token-ip-error">{t('form.ipInvalid', { entries: invalid.join(', ') })}</span> : undefined}
          rules={[{ validator: (_, v: string[] | undefined) => (invalidIpEntries(v).length
            ? Promise.reject(new Error(t('form.ipInvalid', { entries: invalidIpEntries(v).join(', ') })))
            : Promise.resolve()) }]}
        >
          <Select
            mode="tags"
            data-testid="token-ips"
            tokenSeparators={[',', ' ']}
            open={false}
            suffixIcon={null}
            tagRender={({ value, closable, onClose: close, label }) => (
              <Tag color={isIpOrCidr(String(value)) ? undefined : 'error'} closable={closable} onClose={close}
                   style={{ marginInlineEnd: 4 }}>
                {label}
              </Tag>
            )}
          />
        </Form.Item>
        <Form.Item name="rate_limit_per_minute" label={t('fields.rateLimit')} extra={t('form.unlimitedHelp')}>
          <InputNumber data-testid="token-rate" min={1} max={1_000_000} precision={0} style={{ width: '100%' }} />
        </Form.Item>
        <Form.Item name="monthly_limit" label={t('fields.monthlyLimit')} extra={t('form.unlimitedHelp')}>
          <InputNumber data-testid="token-monthly" min={1} precision={0} style={{ width: '100%' }} />
        </Form.Item>
      </Form>
    </Modal>
  );
}
