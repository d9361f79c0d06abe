// The detail page's Versions tab: every version, activate / roll back, and the
// upload of a new version with a progress bar.
import { useState } from 'react';
import { Alert, App, Button, Popconfirm, Progress, Space, Table, Tag, Typography, Upload } from 'antd';
import { UploadOutlined } from '@ant-design/icons';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import dayjs from 'dayjs';
import { errorMessage } from './serverErrors';
import { activateVersion, formatBytes, getVersions, uploadVersion, type Model, type ModelVersionDetail } from './types';

export default function VersionsTab({ model }: { model: Model }) {
  const { t } = useTranslation('models');
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const versions = useQuery({ queryKey: ['model-versions', model.id], queryFn: () => getVersions(model.id) });
  const [percent, setPercent] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [activating, setActivating] = useState<number | null>(null);

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
      const v = await uploadVersion(model.id, body, (f) => setPercent(Math.round(f * 100)));
      message.success(t('versions.uploaded', { version: v.version }));
      refresh();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setPercent(null);
    }
  }

  async function activate(v: number) {
    setError(null);
    setActivating(v);
    try {
      refresh(await activateVersion(model.id, v));
      message.success(t('versions.activated', { version: v }));
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setActivating(null);
    }
  }

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
        return (
          <Popconfirm title={t('versions.confirmActivate', { version: r.version })} onConfirm={() => activate(r.version)}>
            <Button size="small" disabled={r.version === model.current_version} loading={activating === r.version}
                    data-testid={`version-activate-${r.version}`}>
              {label}
            </Button>
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
                                 dataSource={versions.data?.items ?? []} columns={columns} pagination={false} />
    </>
  );
}
