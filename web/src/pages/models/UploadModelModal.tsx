// "Upload model": the file or files (drag and drop: one model file, one archive, or the
// files of an OpenVINO IR / PaddlePaddle model), name, description, engine and config,
// sent as one multipart request with a real progress bar; after 100 % the server
// validates the model in its sandbox, shown as "validating…".
import { useState } from 'react';
import { flushSync } from 'react-dom';
import { Alert, App, Form, type ButtonProps, Input, Modal, Progress, Select, Typography, Upload } from 'antd';
import { InboxOutlined } from '@ant-design/icons';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import ConfigEditor from './ConfigEditor';
import { configToForm, configToJson, formToConfig, type ConfigFormValues, type ModelConfig } from './configForm';
import { placeFieldError } from './serverErrors';
import { ENGINES, engineForFile, getSystemEngines, uploadModel, type Model } from './types';

interface Props {
  open: boolean;
  onClose: () => void;
  onCreated: (m: Model) => void;
}
interface Meta {
  name: string;
  description?: string;
  engine?: string;
}
type Phase = 'idle' | 'uploading' | 'validating';
// One model file, one archive, or a multi-file model's parts (the server sniffs them all).
const ACCEPT = '.onnx,.pt,.pth,.torchscript,.zip,.tar,.gz,.tgz,.xml,.bin,.pdmodel,.pdiparams,.json';
const MAX_FILES = 8;

export default function UploadModelModal({ open, onClose, onCreated }: Props) {
  const { t } = useTranslation('models');
  const { message } = App.useApp();
  const [metaForm] = Form.useForm<Meta>();
  const [configForm] = Form.useForm<ConfigFormValues>();
  const [files, setFiles] = useState<File[]>([]);
  const [fileError, setFileError] = useState(false);
  // Starts from the documented defaults, written out so form and JSON agree.
  const [initial] = useState<ModelConfig>(() => formToConfig(configToForm({})));
  const [config, setConfig] = useState<ModelConfig | null>(initial);
  const [phase, setPhase] = useState<Phase>('idle');
  const [percent, setPercent] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [configOther, setConfigOther] = useState<string | null>(null);
  const engines = useQuery({ queryKey: ['system-engines'], queryFn: getSystemEngines, enabled: open });
  const engineList = engines.data?.length ? engines.data : [...ENGINES];

  function chooseFile(f: File) {
    setFiles((prev) => [...prev.filter((p) => p.name !== f.name), f].slice(-MAX_FILES));
    setFileError(false);
    const e = engineForFile(f.name);
    if (e && !metaForm.getFieldValue('engine')) metaForm.setFieldsValue({ engine: e });
    if (!metaForm.getFieldValue('name')) metaForm.setFieldsValue({ name: f.name.replace(/\.[^.]+$/, '') });
    return false; // we send it ourselves
  }

  async function submit() {
    setError(null);
    setConfigOther(null);
    const meta = await metaForm.validateFields().catch(() => null);
    if (!files.length) setFileError(true);
    if (!meta || !files.length || !config) return;
    const body = new FormData();
    for (const f of files) body.append('file', f, f.name);
    body.append('name', meta.name);
    if (meta.description) body.append('description', meta.description);
    if (meta.engine) body.append('engine', meta.engine);
    body.append('config', configToJson(config));
    setPhase('uploading');
    setPercent(0);
    try {
      const m = await uploadModel(body, (f) => {
        if (f < 1) {
          setPercent(Math.round(f * 100));
          return;
        }
        // Chromium may report the end of the upload only together with the
        // response; render 100 % now, before onCreated closes the dialog.
        flushSync(() => {
          setPercent(100);
          setPhase('validating');
        });
      });
      message.success(t('upload.created', { name: m.name }));
      onCreated(m);
    } catch (err) {
      const r = placeFieldError(err, configForm, metaForm, ['name', 'description', 'engine']);
      setError(r.message);
      if (r.placed === 'config-other') setConfigOther(r.message);
    } finally {
      setPhase('idle');
    }
  }

  const busy = phase !== 'idle';
  return (
    <Modal open={open} title={t('upload.title')} width={860} onCancel={busy ? undefined : onClose}
           okText={t('upload.submit')} onOk={() => void submit()} confirmLoading={busy}
           okButtonProps={{ disabled: !config, 'data-testid': 'upload-submit' } as ButtonProps} destroyOnHidden>
      <Form form={metaForm} layout="vertical" disabled={busy}>
        <Form.Item label={t('upload.file')} required validateStatus={fileError ? 'error' : undefined}
                   help={fileError ? t('upload.fileRequired') : undefined}>
          <Upload.Dragger accept={ACCEPT} multiple maxCount={MAX_FILES} beforeUpload={chooseFile}
                          fileList={files.map((f) => ({ uid: f.name, name: f.name, status: 'done' as const }))}
                          onRemove={(u) => setFiles((prev) => prev.filter((f) => f.name !== u.name))}
                          data-testid="upload-file">
            <p className="ant-upload-drag-icon"><InboxOutlined /></p>
            <p className="ant-upload-text">{t('upload.drop')}</p>
            <p className="ant-upload-hint">{t('upload.hint')}</p>
          </Upload.Dragger>
        </Form.Item>
        <Form.Item label={t('fields.name')} name="name" rules={[{ required: true, max: 128, whitespace: true }]}>
          <Input data-testid="upload-name" />
        </Form.Item>
        <Form.Item label={t('fields.description')} name="description" rules={[{ max: 4096 }]}>
          <Input.TextArea rows={2} />
        </Form.Item>
        <Form.Item label={t('fields.engine')} name="engine" extra={t('upload.engineHelp')}>
          <Select allowClear options={engineList.map((e) => ({ value: e, label: e }))} />
        </Form.Item>
      </Form>
      <Typography.Title level={5}>{t('config.title')}</Typography.Title>
      <ConfigEditor form={configForm} initial={initial} onChange={setConfig} otherError={configOther} />
      {busy && (
        <div style={{ marginTop: 12 }}>
          <div data-testid="upload-progress"><Progress percent={percent} /></div>
          {phase === 'validating' && <Typography.Text type="secondary" data-testid="upload-validating">{t('upload.validating')}</Typography.Text>}
        </div>
      )}
      {error && <Alert type="error" showIcon title={error} style={{ marginTop: 12 }} data-testid="upload-error" />}
    </Modal>
  );
}
