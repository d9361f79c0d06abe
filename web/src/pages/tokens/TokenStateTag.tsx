// The state badge of a token (derived from its fields) and its usage bar.
import { Progress, Tag, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { deriveState, STATE_COLORS, usagePercent, type Token } from './tokenUtils';

export function TokenStateTag({ token }: { token: Token }) {
  const { t } = useTranslation('tokens');
  const state = deriveState(token);
  return <Tag color={STATE_COLORS[state]} data-testid={`token-state-${token.name}`}>{t(`state.${state}`)}</Tag>;
}

export function UsageBar({ used, limit }: { used: number; limit: number | null }) {
  const { t } = useTranslation('tokens');
  const pct = usagePercent(used, limit);
  if (pct === null) return <Typography.Text>{t('usage.unlimited', { used })}</Typography.Text>;
  return (
    <div style={{ minWidth: 140 }}>
      <Progress percent={pct} size="small" status={used >= (limit ?? 0) ? 'exception' : 'normal'} showInfo={false} />
      <Typography.Text type="secondary" style={{ fontSize: 12 }}>{t('usage.of', { used, limit })}</Typography.Text>
    </div>
  );
}
