// One model: header with its state and actions (publish, unpublish, delete,
// playground) and the Overview / Config / Versions tabs. Polls while the model
// is in a transitional state.
import { useState } from 'react';
import { Alert, App, Button, Card, Popconfirm, Result, Space, Spin, Tabs, Tag, Typography } from 'antd';
import { ExperimentOutlined } from '@ant-design/icons';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { useTranslation } from 'react-i18next';
import { ApiError } from '../api/client';
import ConfigTab from './models/ConfigTab';
import OverviewTab from './models/OverviewTab';
import StatusBadge from './models/StatusBadge';
import VersionsTab from './models/VersionsTab';
import { errorMessage } from './models/serverErrors';
import { deleteModel, getModel, publishModel, TRANSITIONAL, unpublishModel, type Model } from './models/types';

type Action = 'publish' | 'unpublish' | 'delete';

function Actions({ model, onError }: { model: Model; onError: (m: string | null) => void }) {
  const { t } = useTranslation('models');
  const { message } = App.useApp();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [busy, setBusy] = useState<Action | null>(null);
  const playground = `/models/${encodeURIComponent(model.id)}/playground`;

  async function run(action: Action) {
    onError(null);
    setBusy(action);
    try {
      if (action === 'delete') {
        await deleteModel(model.id);
        queryClient.removeQueries({ queryKey: ['model', model.id] });
        void queryClient.invalidateQueries({ queryKey: ['models'] });
        message.success(t('detail.deleted', { name: model.name }));
        navigate('/models');
        return;
      }
      const m = await (action === 'publish' ? publishModel : unpublishModel)(model.id);
      queryClient.setQueryData(['model', model.id], m);
      void queryClient.invalidateQueries({ queryKey: ['models'] });
      message.success(t(`detail.${action}ed`));
    } catch (err) {
      const state = err instanceof ApiError && err.code === 'MODEL_STATE_CONFLICT' ? err.details.state : undefined;
      onError(typeof state === 'string'
        ? t('detail.conflict', { message: errorMessage(err), state: t(`status.${state}`, { defaultValue: state }) })
        : errorMessage(err));
      void queryClient.invalidateQueries({ queryKey: ['model', model.id] });
    } finally {
      setBusy(null);
    }
  }

  const confirm = (action: Action, danger = false) => (
    <Popconfirm title={t(`detail.confirm.${action}`)} onConfirm={() => run(action)} okButtonProps={{ danger }}>
      <Button danger={danger} type={action === 'publish' && model.status !== 'published' ? 'primary' : 'default'} loading={busy === action}
              disabled={busy !== null && busy !== action} data-testid={`model-${action}`}>
        {t(`detail.${action}`)}
      </Button>
    </Popconfirm>
  );
  return (
    <Space wrap>
      {confirm('publish')}
      {confirm('unpublish')}
      <Button icon={<ExperimentOutlined />} href={playground} data-testid="model-playground"
              onClick={(e) => { e.preventDefault(); navigate(playground); }}>
        {t('detail.playground')}
      </Button>
      {confirm('delete', true)}
    </Space>
  );
}

export default function ModelDetailPage() {
  const { t } = useTranslation('models');
  const { id = '' } = useParams();
  const [actionError, setActionError] = useState<string | null>(null);
  const q = useQuery({
    queryKey: ['model', id],
    queryFn: () => getModel(id),
    refetchInterval: (query) => (TRANSITIONAL.has(query.state.data?.status ?? '') ? 1000 : false),
  });
  if (q.isPending) return <Spin style={{ display: 'block', margin: '20vh auto' }} />;
  if (q.isError) {
    const notFound = q.error instanceof ApiError && q.error.status === 404;
    return <Result status={notFound ? '404' : 'error'} title={notFound ? t('detail.notFound') : errorMessage(q.error)}
                   extra={<Link to="/models">{t('detail.back')}</Link>} />;
  }
  const m = q.data;
  return (
    <Card>
      <Space direction="vertical" style={{ width: '100%' }}>
        <Link to="/models">← {t('detail.back')}</Link>
        <Space wrap align="center" style={{ justifyContent: 'space-between', width: '100%' }}>
          <Space wrap align="center">
            <Typography.Title level={3} style={{ margin: 0 }} data-testid="model-name">{m.name}</Typography.Title>
            <StatusBadge status={m.status} />
            <Tag>{m.engine}</Tag>
            <Typography.Text type="secondary">{t('detail.versionLine', { current: m.current_version, served: m.served_version ?? '—' })}</Typography.Text>
          </Space>
          <Actions model={m} onError={setActionError} />
        </Space>
        {m.description && <Typography.Paragraph style={{ whiteSpace: 'pre-wrap' }}>{m.description}</Typography.Paragraph>}
        {m.status_reason && <Alert type={m.status === 'failed' ? 'error' : 'info'} showIcon title={m.status_reason} />}
        {actionError && <Alert type="error" showIcon title={actionError} closable onClose={() => setActionError(null)}
                               data-testid="model-action-error" />}
        <Tabs
          items={[
            { key: 'overview', label: t('tabs.overview'), children: <OverviewTab model={m} /> },
            { key: 'config', label: t('tabs.config'), children: <ConfigTab model={m} /> },
            { key: 'versions', label: t('tabs.versions'), children: <VersionsTab model={m} /> },
          ]}
        />
      </Space>
    </Card>
  );
}
