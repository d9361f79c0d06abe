// Shows a newly created token's value once, with a Copy button and the warning that
// it cannot be retrieved later.
import { useState } from 'react';
import { Alert, Button, Modal, Space, Typography } from 'antd';
import { CopyOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';

/** Copies text with the Clipboard API, else via a selected textarea; false if both fail. */
export async function copyText(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard?.writeText) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    /* fall through to the legacy path */
  }
  try {
    const ta = document.createElement('textarea');
    ta.value = text;
    ta.setAttribute('readonly', '');
    ta.style.position = 'fixed';
    ta.style.opacity = '0';
    document.body.appendChild(ta);
    ta.select();
    const ok = document.execCommand?.('copy') ?? false;
    document.body.removeChild(ta);
    return ok;
  } catch {
    return false;
  }
}

export default function TokenValueModal({ value, name, onClose }: { value: string | null; name: string; onClose: () => void }) {
  const { t } = useTranslation('tokens');
  const [copied, setCopied] = useState<'yes' | 'no' | null>(null);
  return (
    <Modal
      open={value !== null}
      title={t('value.title', { name })}
      onCancel={() => { setCopied(null); onClose(); }}
      footer={<Button type="primary" data-testid="token-value-close" onClick={() => { setCopied(null); onClose(); }}>{t('value.done')}</Button>}
      mask={{ closable: false }}
    >
      <Alert type="warning" showIcon title={t('value.warning')} style={{ marginBottom: 16 }} />
      <Space.Compact style={{ width: '100%' }}>
        <Typography.Text code data-testid="token-value" style={{ flex: 1, padding: 6, wordBreak: 'break-all', userSelect: 'all' }}>
          {value ?? ''}
        </Typography.Text>
        <Button icon={<CopyOutlined />} data-testid="token-copy"
                onClick={() => void copyText(value ?? '').then((ok) => setCopied(ok ? 'yes' : 'no'))}>
          {t('value.copy')}
        </Button>
      </Space.Compact>
      {copied === 'yes' && <Typography.Text type="success" data-testid="token-copied">{t('value.copied')}</Typography.Text>}
      {copied === 'no' && <Typography.Text type="danger" data-testid="token-copy-failed">{t('value.copyFailed')}</Typography.Text>}
    </Modal>
  );
}
