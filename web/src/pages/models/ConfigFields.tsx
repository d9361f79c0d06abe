// The config form's controls: preprocessing (input) and the task's postprocessing
// (output), shown according to the chosen task. Names mirror the config's paths.
import { Col, Form, Input, InputNumber, Row, Select, Switch } from 'antd';
import { useTranslation } from 'react-i18next';
import { COLORS, RESIZE_MODES, TASKS, type Task } from './configForm';
import Vec3Input from './Vec3Input';

const col = { xs: 24, sm: 12, md: 8 };

function InputSection() {
  const { t } = useTranslation('models');
  const resize = Form.useWatch(['input', 'resize']) as string | undefined;
  const rgb: [string, string, string] = [t('config.ch0'), t('config.ch1'), t('config.ch2')];
  return (
    <Row gutter={16}>
      <Col {...col}><Form.Item label={t('config.width')} name={['input', 'width']}>
        <InputNumber min={0} max={16384} precision={0} style={{ width: '100%' }} />
      </Form.Item></Col>
      <Col {...col}><Form.Item label={t('config.height')} name={['input', 'height']}>
        <InputNumber min={0} max={16384} precision={0} style={{ width: '100%' }} />
      </Form.Item></Col>
      <Col {...col}><Form.Item label={t('config.resize')} name={['input', 'resize']}>
        <Select options={RESIZE_MODES.map((m) => ({ value: m, label: t(`config.resizeModes.${m}`) }))} />
      </Form.Item></Col>
      {resize === 'letterbox' && (
        <Col {...col}><Form.Item label={t('config.padValue')} name={['input', 'pad_value']}>
          <InputNumber min={0} max={255} precision={0} style={{ width: '100%' }} />
        </Form.Item></Col>
      )}
      <Col {...col}><Form.Item label={t('config.color')} name={['input', 'color']}>
        <Select options={COLORS.map((c) => ({ value: c, label: c.toUpperCase() }))} />
      </Form.Item></Col>
      <Col {...col}><Form.Item label={t('config.scale')} name={['input', 'scale']} tooltip={t('config.scaleHelp')}>
        <InputNumber min={0} step={0.001} style={{ width: '100%' }} />
      </Form.Item></Col>
      <Col xs={24} md={12}><Form.Item label={t('config.mean')} name={['input', 'mean']}>
        <Vec3Input labels={rgb} />
      </Form.Item></Col>
      <Col xs={24} md={12}><Form.Item label={t('config.std')} name={['input', 'std']}>
        <Vec3Input labels={rgb} min={0} />
      </Form.Item></Col>
    </Row>
  );
}

function num(name: string, label: string, min: number, max: number, int = false) {
  return (
    <Col {...col} key={name}><Form.Item label={label} name={['output', name]}>
      <InputNumber min={min} max={max} step={int ? 1 : 0.05} precision={int ? 0 : undefined} style={{ width: '100%' }} />
    </Form.Item></Col>
  );
}

function OutputSection() {
  const { t } = useTranslation('models');
  const task = (Form.useWatch(['output', 'task']) as Task | undefined) ?? 'raw';
  return (
    <Row gutter={16}>
      <Col {...col}><Form.Item label={t('config.task')} name={['output', 'task']}>
        <Select options={TASKS.map((k) => ({ value: k, label: t(`tasks.${k}`) }))} />
      </Form.Item></Col>
      {task === 'classification' && [
        num('top_k', t('config.topK'), 1, 1000, true),
        <Col {...col} key="softmax"><Form.Item label={t('config.softmax')} name={['output', 'softmax']} valuePropName="checked">
          <Switch />
        </Form.Item></Col>,
        <Col span={24} key="labels"><Form.Item label={t('config.labels')} name={['output', 'labels']} extra={t('config.onePerLine')}>
          <Input.TextArea rows={4} />
        </Form.Item></Col>,
      ]}
      {task === 'detection' && [
        <Col {...col} key="layout"><Form.Item label={t('config.layout')} name={['output', 'layout']}>
          <Select options={['yolov8', 'yolov5'].map((v) => ({ value: v, label: v }))} />
        </Form.Item></Col>,
        num('score_threshold', t('config.scoreThreshold'), 0, 1),
        num('iou_threshold', t('config.iouThreshold'), 0, 1),
        num('max_detections', t('config.maxDetections'), 1, 100000, true),
        <Col span={24} key="class_names"><Form.Item label={t('config.classNames')} name={['output', 'class_names']} extra={t('config.onePerLine')}>
          <Input.TextArea rows={4} />
        </Form.Item></Col>,
      ]}
      {task === 'text_detection' && [
        num('binary_threshold', t('config.binaryThreshold'), 0, 1),
        num('box_threshold', t('config.boxThreshold'), 0, 1),
        num('unclip_ratio', t('config.unclipRatio'), 0.5, 10),
        num('max_candidates', t('config.maxCandidates'), 1, 100000, true),
        num('min_size', t('config.minSize'), 0, 10000, true),
      ]}
    </Row>
  );
}

export default function ConfigFields() {
  const { t } = useTranslation('models');
  return (
    <>
      <h4>{t('config.inputSection')}</h4>
      <InputSection />
      <h4>{t('config.outputSection')}</h4>
      <OutputSection />
    </>
  );
}
