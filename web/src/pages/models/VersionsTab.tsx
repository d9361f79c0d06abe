// The detail page's Versions tab: every version with its compatibility with the
// served one, activate / roll back (asking first, in a modal with the
// differences, for a version the served one's clients could not use), and the
// upload of a new version with a progress bar.
import { useState } from 'react';
import { flushSync } from 'react-dom';
import { Alert, App, Button, Popconfirm, Progress, Space, Table, Tag, Tooltip, Typography, Upload } from 'antd';
import { UploadOutlined } from '@ant-design/icons';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import dayjs from 'dayjs';
import IncompatibleVersionModal, { incompatibleFromError, type IncompatibleActivation } from './IncompatibleVersionModal';
import { errorMessage } from './serverErrors';
import { activateVersion, formatBytes, getVersions, uploadVersion, type Model, type ModelVersionDetail } from './types';

// The version's compatibility with the served one, when it is another version
// and the model is served.
function compatibilityOf(r: ModelVersionDetail, model: Model) {
  const c = r.compatibility;
  if (!c || r.version === model.served_version || r.version === c.served_version) return null;
  return c;
}

export default function VersionsTab({ model }: { model: Model }) {
  const { t } = useTranslation('models');
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const versions = useQuery({ queryKey: ['model-versions', model.id], queryFn: () => getVersions(model.id) });
  const [percent, setPercent] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [activating, setActivating] = useState<number | null>(null);
  const [incompatible, setIncompatible] = useState<IncompatibleActivation | null>(null);

  function refresh(m?: Model) {
    if (m) queryClient.setQueryData(['model', model.id], m);
    void queryClient.invalidateQueries({ queryKey: ['model', model.id] });
    void queryClient.invalidateQueries({ queryKey: ['model-versions', model.id] });
  }

  async function send(file: File) {
    setError(null);
    setPercent(0);
    const body = new FormData();
    body.append('file', file, file.name);
    try {
      // 100 % renders at once (Chromium may report it only with the response).
      const v = await uploadVersion(model.id, body, (f) =>
        f < 1 ? setPercent(Math.round(f * 100)) : flushSync(() => setPercent(100)));
      message.success(t('versions.uploaded', { version: v.version }));
      refresh();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setPercent(null);
    }
  }

  // Without force, a 409 INCOMPATIBLE_VERSION asks in the modal (the list may
  // have said the version was compatible before the served one changed).
  async function activate(v: number, force = false) {
    setError(null);
    setActivating(v);
    try {
      refresh(await activateVersion(model.id, v, force));
      setIncompatible(null);
      message.success(t('versions.activated', { version: v }));
    } catch (err) {
      const refused = force ? null : incompatibleFromError(err, v);
      if (refused) {
        setIncompatible(refused);
        void queryClient.invalidateQueries({ queryKey: ['model-versions', model.id] });
      } else {
        setIncompatible(null);
        setError(errorMessage(err));
      }
    } finally {
      setActivating(null);
    }
  }

  const items = versions.data?.items ?? [];
  // The compatibility column shows only while the model is served.
  const columns = [
    {
      title: t('versions.version'), dataIndex: 'version', key: 'version',
      render: (v: number) => (
        <Space>
          {v}
          {v === model.current_version && <Tag color="blue">{t('versions.current')}</Tag>}
          {v === model.served_version && <Tag color="green">{t('versions.served')}</Tag>}
        </Space>
      ),
    },
    {
      title: t('versions.compat.column'), key: 'compat',
      render: (_: unknown, r: ModelVersionDetail) => {
        const c = compatibilityOf(r, model);
        if (!c) return null;
        if (c.compatible) return <Tag color="green" data-testid={`version-compat-${r.version}`}>{t('versions.compat.compatible')}</Tag>;
        return (
          <Tooltip title={(
            <div data-testid={`version-differences-${r.version}`}>
              {t('versions.compat.differsFrom', { served: c.served_version })}
              <ul style={{ margin: 0, paddingInlineStart: 18 }}>{c.differences.map((d) => <li key={d}>{d}</li>)}</ul>
            </div>
          )}>
            <Tag color="red" data-testid={`version-compat-${r.version}`}>{t('versions.compat.incompatible')}</Tag>
          </Tooltip>
        );
      },
    },
    { title: t('versions.file'), dataIndex: 'original_filename', key: 'file' },
    { title: t('versions.size'), dataIndex: 'size_bytes', key: 'size', render: formatBytes },
    {
      title: 'SHA-256', dataIndex: 'sha256', key: 'sha',
      render: (s: string) => <Typography.Text code title={s}>{s.slice(0, 12)}</Typography.Text>,
    },
    { title: t('versions.created'), dataIndex: 'created_at', key: 'created', render: (v: string) => dayjs(v).format('YYYY-MM-DD HH:mm:ss') },
    {
      title: t('versions.actions'), key: 'actions',
      render: (_: unknown, r: ModelVersionDetail) => {
        const label = r.version < model.current_version ? t('versions.rollback') : t('versions.activate');
        const c = compatibilityOf(r, model);
        // A version known to be incompatible asks in the modal instead.
        const ask = c && !c.compatible
          ? () => setIncompatible({ version: r.version, servedVersion: c.served_version, differences: c.differences })
          : undefined;
        const button = (
          <Button size="small" disabled={r.version === model.current_version} loading={activating === r.version}
                  onClick={ask} data-testid={`version-activate-${r.version}`}>
            {label}
          </Button>
        );
        return ask ? button : (
          <Popconfirm title={t('versions.confirmActivate', { version: r.version })} onConfirm={() => activate(r.version)}>
            {button}
          </Popconfirm>
        );
      },
    },
  ];

  return (
    <>
      <Space style={{ marginBottom: 12 }} wrap>
        <Upload accept=".onnx,.pt,.pth,.torchscript" showUploadList={false} disabled={percent !== null}
                beforeUpload={(f) => { void send(f); return false; }}>
          <Button icon={<UploadOutlined />} loading={percent !== null} data-testid="version-upload">
            {t('versions.upload')}
          </Button>
        </Upload>
        {percent !== null && (
          <div style={{ width: 260 }}>
            <div data-testid="version-upload-progress"><Progress percent={percent} size="small" /></div>
            {percent >= 100 && <Typography.Text type="secondary">{t('upload.validating')}</Typography.Text>}
          </div>
        )}
      </Space>
      {error && <Alert type="error" showIcon title={error} style={{ marginBottom: 12 }} closable onClose={() => setError(null)} />}
      <Table<ModelVersionDetail> rowKey="version" size="small" loading={versions.isFetching}
                                 dataSource={items} pagination={false}
                                 columns={columns.filter((c) => c.key !== 'compat' || items.some((r) => compatibilityOf(r, model)))} />
      <IncompatibleVersionModal pending={incompatible} busy={incompatible !== null && activating === incompatible.version}
                                onForce={() => { if (incompatible) void activate(incompatible.version, true); }}
                                onCancel={() => setIncompatible(null)} />
    </>
  );
}
