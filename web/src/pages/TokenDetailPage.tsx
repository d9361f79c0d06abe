// One API token: its fields, actions, usage charts and snippets for calling a model.
import { useMemo, useState } from 'react';
import { Alert, Button, Card, Descriptions, Space, Spin, Tag, Typography } from 'antd';
import { ArrowLeftOutlined } from '@ant-design/icons';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { get } from '../api/client';
import TokenActions from './tokens/TokenActions';
import TokenFormModal from './tokens/TokenFormModal';
import TokenSnippets from './tokens/TokenSnippets';
import { TokenStateTag, UsageBar } from './tokens/TokenStateTag';
import TokenUsageCharts from './tokens/TokenUsageCharts';
import { modelNames, useModelList } from './tokens/tokenApi';
import { formatTime, type Token } from './tokens/tokenUtils';

function Fields({ token, names }: { token: Token; names: Map<string, string> }) {
  const { t } = useTranslation('tokens');
  const all = token.allowed_models.includes('*');
  return (
    <Descriptions column={{ xs: 1, md: 2 }} bordered size="small">
      <Descriptions.Item label={t('fields.name')}><span data-testid="token-detail-name">{token.name}</span></Descriptions.Item>
      <Descriptions.Item label={t('fields.state')}><TokenStateTag token={token} /></Descriptions.Item>
      <Descriptions.Item label={t('fields.hint')}><Typography.Text code>{token.token_hint}</Typography.Text></Descriptions.Item>
      <Descriptions.Item label={t('fields.usage')}><UsageBar used={token.used_count} limit={token.monthly_limit} /></Descriptions.Item>
      <Descriptions.Item label={t('fields.rateLimit')}>
        {token.rate_limit_per_minute === null ? t('usage.none') : t('usage.perMinute', { n: token.rate_limit_per_minute })}
      </Descriptions.Item>
      <Descriptions.Item label={t('fields.expires')}>{token.expires_at ? formatTime(token.expires_at) : t('usage.never')}</Descriptions.Item>
      <Descriptions.Item label={t('fields.models')}>
        {all ? t('form.allModels') : token.allowed_models.map((m) => <Tag key={m}>{names.get(m) ?? m}</Tag>)}
      </Descriptions.Item>
      <Descriptions.Item label={t('fields.ipWhitelist')}>
        {token.ip_whitelist.length === 0 ? t('detail.anyIp') : token.ip_whitelist.map((ip) => <Tag key={ip}>{ip}</Tag>)}
      </Descriptions.Item>
      <Descriptions.Item label={t('fields.lastUsed')}>{formatTime(token.last_used_at) || '—'}</Descriptions.Item>
      <Descriptions.Item label={t('fields.created')}>{`${formatTime(token.created_at)} · ${token.created_by}`}</Descriptions.Item>
      <Descriptions.Item label={t('fields.remark')} span={2}>
        <Typography.Paragraph style={{ whiteSpace: 'pre-wrap', margin: 0 }}>{token.remark || '—'}</Typography.Paragraph>
      </Descriptions.Item>
    </Descriptions>
  );
}

export default function TokenDetailPage() {
  const { id = '' } = useParams();
  const { t } = useTranslation('tokens');
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState(false);
  const token = useQuery({ queryKey: ['tokens', 'one', id], queryFn: () => get<Token>(`tokens/${encodeURIComponent(id)}`) });
  const models = useModelList();
  const names = useMemo(() => modelNames(models.data?.items), [models.data]);
  const callable = useMemo(() => {
    const items = models.data?.items ?? [];
    const allowed = token.data?.allowed_models ?? [];
    return allowed.includes('*') ? items : items.filter((m) => allowed.includes(m.id));
  }, [models.data, token.data]);

  const back = <Link to="/tokens"><Button icon={<ArrowLeftOutlined />}>{t('detail.back')}</Button></Link>;
  if (token.isPending) return <Spin style={{ display: 'block', margin: '10vh auto' }} />;
  if (token.isError) return <Space orientation="vertical">{back}<Alert type="error" showIcon title={token.error.message} /></Space>;
  const tok = token.data;
  return (
    <Space orientation="vertical" size="large" style={{ width: '100%' }}>
      <Card title={<Space>{back}<span>{tok.name}</span></Space>}
            extra={<TokenActions token={tok} onEdit={() => setEditing(true)}
                                 onDone={(a) => (a === 'delete' ? navigate('/tokens', { replace: true }) : undefined)} />}>
        <Fields token={tok} names={names} />
      </Card>
      <TokenUsageCharts id={tok.id} names={names} />
      <TokenSnippets models={callable} />
      <TokenFormModal open={editing} token={tok} onClose={() => setEditing(false)}
                      onSaved={() => { setEditing(false); void queryClient.invalidateQueries({ queryKey: ['tokens'] }); }} />
    </Space>
  );
}
