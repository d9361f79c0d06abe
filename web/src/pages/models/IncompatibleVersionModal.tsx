// Asks before activating a version whose inputs or outputs differ from the
// served version's: lists the differences, warns that the served version's
// clients will get errors, and offers "Switch anyway" (sent with force) or Cancel.
import { Alert, Button, Modal, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { ApiError } from '../../api/client';

export interface IncompatibleActivation {
  version: number;
  servedVersion: number | null;
  differences: string[];
  message?: string; // the server's message, when no differences came with it
}

// The 409 INCOMPATIBLE_VERSION of an activation as an IncompatibleActivation,
// or null for any other error.
export function incompatibleFromError(err: unknown, version: number): IncompatibleActivation | null {
  if (!(err instanceof ApiError) || err.status !== 409 || err.code !== 'INCOMPATIBLE_VERSION') return null;
  const { differences, served_version: served } = err.details;
  return {
    version,
    servedVersion: typeof served === 'number' ? served : null,
    differences: Array.isArray(differences) ? differences.filter((d): d is string => typeof d === 'string') : [],
    message: err.message,
  };
}

export default function IncompatibleVersionModal({ pending, busy, onForce, onCancel }: {
  pending: IncompatibleActivation | null;
  busy: boolean;
  onForce: () => void;
  onCancel: () => void;
}) {
  const { t } = useTranslation('models');
  const served = pending?.servedVersion ?? '—';
  return (
    <Modal
      open={pending !== null}
      title={t('versions.compat.title', { version: pending?.version, served })}
      onCancel={onCancel}
      mask={{ closable: !busy }}
      destroyOnHidden
      footer={[
        <Button key="cancel" onClick={onCancel} disabled={busy} data-testid="version-force-cancel">
          {t('versions.compat.cancel')}
        </Button>,
        <Button key="force" type="primary" danger loading={busy} onClick={onForce} data-testid="version-force-activate">
          {t('versions.compat.force')}
        </Button>,
      ]}
    >
      <div data-testid="version-incompatible">
        <Alert type="warning" showIcon style={{ marginBottom: 12 }}
               title={t('versions.compat.warning', { version: pending?.version, served })} />
        <Typography.Text strong>{t('versions.compat.differences')}</Typography.Text>
        {pending && pending.differences.length > 0 ? (
          <ul data-testid="version-incompatible-differences">
            {pending.differences.map((d) => <li key={d}>{d}</li>)}
          </ul>
        ) : (
          <Typography.Paragraph>{pending?.message}</Typography.Paragraph>
        )}
      </div>
    </Modal>
  );
}
