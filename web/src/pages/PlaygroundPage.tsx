// Playground: run one image through a model (POST models/{id}/test, multipart)
// and draw the answer over it; threshold changes re-run it (debounced).
import { useCallback, useEffect, useRef, useState } from 'react';
import { Alert, Button, Card, Col, Empty, Form, InputNumber, Row, Slider, Space, Spin, Typography, Upload } from 'antd';
import { InboxOutlined, PlayCircleOutlined } from '@ant-design/icons';
import { useQuery } from '@tanstack/react-query';
import { Link, useParams } from 'react-router-dom';
import { useTranslation } from 'react-i18next';
import StatusBadge from './models/StatusBadge';
import { errorMessage } from './models/serverErrors';
import { getModel, type Model } from './models/types';
import Overlay from './playground/Overlay';
import ResultPanel from './playground/ResultPanel';
import type { Size } from './playground/geometry';
import { runImageTest, type TestParams, type TestResult } from './playground/types';

const DEBOUNCE_MS = 300;

function taskOf(m: Model | undefined): string {
  const out = (m?.config?.output ?? {}) as Record<string, unknown>;
  return typeof out.task === 'string' ? out.task : 'raw';
}
function initialParams(m: Model): TestParams {
  const out = (m.config?.output ?? {}) as Record<string, number | undefined>;
  const task = taskOf(m);
  if (task === 'detection') return { score_threshold: out.score_threshold ?? 0.25, iou_threshold: out.iou_threshold ?? 0.45 };
  if (task === 'text_detection') return { score_threshold: out.box_threshold ?? 0.6 };
  if (task === 'classification') return { top_k: out.top_k ?? 5 };
  return {};
}

function Params({ task, value, onChange }: { task: string; value: TestParams; onChange: (p: TestParams) => void }) {
  const { t } = useTranslation('playground');
  const slider = (key: 'score_threshold' | 'iou_threshold', label: string) => (
    <Form.Item label={`${label}: ${(value[key] ?? 0).toFixed(2)}`} key={key}>
      <Slider min={0} max={1} step={0.01} value={value[key]} aria-label={label} data-testid={`pg-${key}`}
              onChange={(v: number) => onChange({ ...value, [key]: v })} />
    </Form.Item>
  );
  return (
    <Form layout="vertical">
      {(task === 'detection' || task === 'text_detection') && slider('score_threshold', t('params.score'))}
      {task === 'detection' && slider('iou_threshold', t('params.iou'))}
      {task === 'classification' && (
        <Form.Item label={t('params.topK')} htmlFor="pg-top-k">
          <InputNumber id="pg-top-k" min={1} max={1000} precision={0} value={value.top_k}
                       onChange={(v) => onChange({ ...value, top_k: v ?? undefined })} />
        </Form.Item>
      )}
    </Form>
  );
}

export default function PlaygroundPage() {
  const { t } = useTranslation('playground');
  const { id = '' } = useParams();
  const model = useQuery({ queryKey: ['model', id], queryFn: () => getModel(id) });
  const [file, setFile] = useState<File | null>(null);
  const [url, setUrl] = useState<string | null>(null);
  const [natural, setNatural] = useState<Size | null>(null);
  const [params, setParams] = useState<TestParams | null>(null);
  const [result, setResult] = useState<TestResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [running, setRunning] = useState(false);
  const hasRun = useRef(false); // re-run on threshold changes only after a first run
  const inFlight = useRef<AbortController | null>(null);

  useEffect(() => {
    if (model.data && params === null) setParams(initialParams(model.data));
  }, [model.data, params]);
  useEffect(() => () => { if (url) URL.revokeObjectURL(url); }, [url]);

  const run = useCallback(async () => {
    if (!file) return;
    inFlight.current?.abort();
    const ctl = new AbortController();
    inFlight.current = ctl;
    setRunning(true);
    setError(null);
    hasRun.current = true;
    try {
      const r = await runImageTest(id, file, params ?? {}, ctl.signal);
      if (!ctl.signal.aborted) setResult(r);
    } catch (err) {
      if (!ctl.signal.aborted) { setError(errorMessage(err)); setResult(null); }
    } finally {
      if (inFlight.current === ctl) { setRunning(false); inFlight.current = null; }
    }
  }, [file, id, params]);

  // A threshold change re-runs the last image, debounced.
  const runRef = useRef(run);
  runRef.current = run;
  useEffect(() => {
    if (!hasRun.current) return;
    const h = setTimeout(() => void runRef.current(), DEBOUNCE_MS);
    return () => clearTimeout(h);
  }, [params]);

  function choose(f: File) {
    setFile(f);
    setUrl(URL.createObjectURL(f));
    setNatural(null);
    setResult(null);
    setError(null);
    hasRun.current = false;
    return false;
  }

  if (model.isPending) return <Spin style={{ display: 'block', margin: '20vh auto' }} />;
  if (model.isError) return <Alert type="error" showIcon title={errorMessage(model.error)} />;
  const m = model.data;
  const task = taskOf(m);
  return (
    <Card
      title={<Space wrap><span>{t('title')}</span><Typography.Text data-testid="pg-model-name">{m.name}</Typography.Text><StatusBadge status={m.status} /></Space>}
      extra={<Link to={`/models/${encodeURIComponent(m.id)}`}>{t('backToModel')}</Link>}
    >
      <Row gutter={24}>
        <Col xs={24} lg={8}>
          <div style={{ height: 180 }}>
          <Upload.Dragger accept="image/*" maxCount={1} showUploadList={false} beforeUpload={choose} data-testid="playground-file">
            <p className="ant-upload-drag-icon"><InboxOutlined /></p>
            <p className="ant-upload-text">{t('drop')}</p>
            {file && <p className="ant-upload-hint">{file.name}</p>}
          </Upload.Dragger>
          </div>
          <Typography.Paragraph type="secondary" style={{ marginTop: 8 }}>{t(`taskHint.${task}`, { defaultValue: '' })}</Typography.Paragraph>
          {params && <Params task={task} value={params} onChange={setParams} />}
          <Button type="primary" icon={<PlayCircleOutlined />} disabled={!file} loading={running}
                  onClick={() => void run()} data-testid="playground-run">
            {t('run')}
          </Button>
        </Col>
        <Col xs={24} lg={16} data-testid="playground-result">
          {error && <Alert type="error" showIcon title={error} style={{ marginBottom: 12 }} data-testid="playground-error" />}
          {!url && <Empty description={t('noImage')} />}
          {url && (
            <Space direction="vertical" style={{ width: '100%' }}>
              <Overlay src={url} alt={file?.name ?? ''} result={result} natural={natural} onNatural={setNatural} />
              {result && <ResultPanel result={result} />}
            </Space>
          )}
        </Col>
      </Row>
    </Card>
  );
}
