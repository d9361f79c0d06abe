// Models: the paged, filterable list, and the "Upload model" dialog.
import { useState } from 'react';
import { Button, Card, Input, Select, Space, Table, Typography } from 'antd';
import { UploadOutlined } from '@ant-design/icons';
import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate } from 'react-router-dom';
import { useTranslation } from 'react-i18next';
import dayjs from 'dayjs';
import StatusBadge from './models/StatusBadge';
import UploadModelModal from './models/UploadModelModal';
import { FILTER_STATUSES, listModels, type Model } from './models/types';
import { errorMessage } from './models/serverErrors';

export default function ModelsPage() {
  const { t } = useTranslation('models');
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [page, setPage] = useState(1);
  const [pageSize, setPageSize] = useState(20);
  const [name, setName] = useState('');
  const [status, setStatus] = useState<string | undefined>();
  const [uploading, setUploading] = useState(false);
  const query = { page, pageSize, name: name || undefined, status };
  const list = useQuery({
    queryKey: ['models', query],
    queryFn: () => listModels(query),
    placeholderData: keepPreviousData,
  });

  const columns = [
    {
      title: t('fields.name'), dataIndex: 'name', key: 'name',
      render: (_: string, m: Model) => <Link to={`/models/${encodeURIComponent(m.id)}`}>{m.name}</Link>,
    },
    { title: t('fields.engine'), dataIndex: 'engine', key: 'engine' },
    { title: t('fields.status'), dataIndex: 'status', key: 'status', render: (s: string) => <StatusBadge status={s} /> },
    {
      title: t('fields.versions'), key: 'version',
      render: (_: unknown, m: Model) => t('list.versionCell', {
        current: m.current_version, served: m.served_version ?? '—',
      }),
    },
    {
      title: t('fields.updated'), dataIndex: 'updated_at', key: 'updated',
      render: (v: string) => (v ? dayjs(v).format('YYYY-MM-DD HH:mm:ss') : ''),
    },
  ];

  return (
    <Card
      title={t('list.title')}
      extra={
        <Button type="primary" icon={<UploadOutlined />} onClick={() => setUploading(true)} data-testid="model-upload">
          {t('list.upload')}
        </Button>
      }
    >
      <Space style={{ marginBottom: 16 }} wrap>
        <Input.Search
          allowClear
          aria-label={t('list.search')}
          placeholder={t('list.search')}
          onSearch={(v) => { setName(v.trim()); setPage(1); }}
          style={{ width: 260 }}
          data-testid="models-search"
        />
        <Select
          allowClear
          aria-label={t('fields.status')}
          placeholder={t('list.allStatuses')}
          style={{ width: 180 }}
          value={status}
          onChange={(v) => { setStatus(v); setPage(1); }}
          options={FILTER_STATUSES.map((s) => ({ value: s, label: t(`status.${s}`) }))}
          data-testid="models-status-filter"
        />
      </Space>
      {list.isError && <Typography.Paragraph type="danger">{errorMessage(list.error)}</Typography.Paragraph>}
      <Table<Model>
        rowKey="id"
        data-testid="models-table"
        loading={list.isFetching}
        dataSource={list.data?.items ?? []}
        columns={columns}
        pagination={{
          current: page, pageSize, total: list.data?.total ?? 0, showSizeChanger: true,
          onChange: (p, s) => { setPage(s !== pageSize ? 1 : p); setPageSize(s); },
        }}
      />
      <UploadModelModal
        open={uploading}
        onClose={() => setUploading(false)}
        onCreated={(m) => {
          setUploading(false);
          void queryClient.invalidateQueries({ queryKey: ['models'] });
          navigate(`/models/${encodeURIComponent(m.id)}`);
        }}
      />
    </Card>
  );
}
