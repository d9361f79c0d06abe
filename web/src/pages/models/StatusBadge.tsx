// A model's status as a coloured tag; unknown statuses show as they come.
import { Tag } from 'antd';
import { useTranslation } from 'react-i18next';

const COLORS: Record<string, string> = {
  draft: 'default',
  validating: 'processing',
  loading: 'processing',
  published: 'success',
  draining: 'warning',
  unpublished: 'default',
  failed: 'error',
};

export default function StatusBadge({ status }: { status: string }) {
  const { t } = useTranslation('models');
  return (
    <Tag color={COLORS[status] ?? 'default'} data-testid="model-status" data-status={status}>
      {t(`status.${status}`, { defaultValue: status })}
    </Tag>
  );
}
