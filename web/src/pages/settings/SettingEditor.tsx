// The editor fit to a setting's type: a switch, a bounded whole number, a choice,
// free text, a secret (empty means unchanged), or a list of strings as tags.
import { Input, InputNumber, Select, Switch } from 'antd';
import { useTranslation } from 'react-i18next';
import { SECRET_MASK, type Setting, type SettingValue } from './settingsApi';

interface Props {
  setting: Setting;
  value: SettingValue | null;
  disabled: boolean;
  onChange: (v: SettingValue | null) => void;
}

export default function SettingEditor({ setting: s, value, disabled, onChange }: Props) {
  const { t } = useTranslation('settings');
  const common = { disabled, 'aria-label': s.key, 'data-testid': `setting-input-${s.key}` };
  if (s.type === 'boolean') return <Switch {...common} checked={value === true} onChange={onChange} />;
  if (s.type === 'integer') {
    return <InputNumber {...common} min={s.min} max={s.max} precision={0} style={{ width: 180 }}
                        value={value as number | null} onChange={(v) => onChange(v)}
                        placeholder={s.min !== undefined && s.max !== undefined ? `${s.min} – ${s.max}` : undefined} />;
  }
  if (s.type === 'list') {
    return <Select {...common} mode="tags" tokenSeparators={[',', ' ']} style={{ width: '100%', minWidth: 240 }}
                   value={value as string[]} suffixIcon={null} notFoundContent={null} placeholder={t('listPlaceholder')}
                   onChange={(v: string[]) => onChange(v.map((x) => x.trim()).filter(Boolean))} />;
  }
  if (s.choices) {
    return <Select {...common} style={{ width: 180 }} value={value as string} onChange={onChange}
                   options={s.choices.map((c) => ({ value: c, label: c }))} />;
  }
  if (s.secret) {
    return <Input.Password {...common} value={value as string} autoComplete="new-password" style={{ maxWidth: 320 }}
                           placeholder={s.value === SECRET_MASK ? t('secretSet') : t('secretEmpty')}
                           onChange={(e) => onChange(e.target.value)} />;
  }
  return <Input {...common} value={value as string} style={{ maxWidth: 320 }} onChange={(e) => onChange(e.target.value)} />;
}
