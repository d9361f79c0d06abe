// The "call a model with this token" card: a model Select and curl / Python snippets.
import { useState } from 'react';
import { Button, Card, Empty, Select, Tabs, Typography } from 'antd';
import { CopyOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import type { ModelRef } from './tokenApi';
import { curlSnippet, pythonSnippet } from './snippets';
import { copyText } from './TokenValueModal';

function Snippet({ code, testId }: { code: string; testId: string }) {
  const { t } = useTranslation('tokens');
  return (
    <div style={{ position: 'relative' }}>
      <pre data-testid={testId} style={{ background: '#f6f8fa', padding: 12, borderRadius: 6, overflowX: 'auto', margin: 0 }}>{code}</pre>
      <Button size="small" icon={<CopyOutlined />} style={{ position: 'absolute', top: 8, right: 8 }}
              onClick={() => void copyText(code)} aria-label={t('value.copy')} />
    </div>
  );
}

export default function TokenSnippets({ models }: { models: ModelRef[] }) {
  const { t } = useTranslation('tokens');
  const [chosen, setChosen] = useState<string | undefined>();
  const modelId = chosen ?? models[0]?.id;
  const origin = window.location.origin;
  return (
    <Card title={t('detail.snippets')}>
      <Typography.Paragraph type="secondary">{t('detail.snippetsHelp')}</Typography.Paragraph>
      {models.length === 0 || !modelId ? <Empty description={t('detail.noModels')} /> : (
        <>
          <Select aria-label={t('detail.model')} data-testid="snippet-model" style={{ minWidth: 240, marginBottom: 12 }}
                  value={modelId} onChange={setChosen} options={models.map((m) => ({ value: m.id, label: m.name }))} />
          <Tabs items={[
            { key: 'curl', label: 'curl', children: <Snippet code={curlSnippet(origin, modelId)} testId="snippet-curl" /> },
            { key: 'python', label: 'Python', children: <Snippet code={pythonSnippet(origin, modelId)} testId="snippet-python" /> },
          ]} />
        </>
      )}
    </Card>
  );
}
