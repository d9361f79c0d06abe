// A Progress bar plus a word for the strength of the password being typed.
import { Progress, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { passwordScore } from './authApi';

const COLORS = ['#ff4d4f', '#fa8c16', '#fadb14', '#52c41a', '#389e0d'];
const LABELS = ['tooShort', 'weak', 'fair', 'good', 'strong'] as const;

export default function PasswordStrength({ password }: { password: string }) {
  const { t } = useTranslation('auth');
  const score = passwordScore(password);
  return (
    <div data-testid="password-strength" style={{ marginTop: -12, marginBottom: 16 }}>
      <Progress percent={password ? (score + 1) * 20 : 0} showInfo={false} size="small" strokeColor={COLORS[score]} />
      <Typography.Text type="secondary">
        {t(`strength.${LABELS[score]}`)} · {t('strength.rule')}
      </Typography.Text>
    </div>
  );
}
