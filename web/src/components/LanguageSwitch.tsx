import { Select } from 'antd';
import { useTranslation } from 'react-i18next';
import { setLanguage, type Language } from '../i18n';

export default function LanguageSwitch() {
  const { t, i18n } = useTranslation();
  return (
    <Select
      aria-label={t('header.language')}
      data-testid="language-switch"
      size="small"
      style={{ width: 110 }}
      value={i18n.language === 'zh' ? 'zh' : 'en'}
      onChange={(v: Language) => setLanguage(v)}
      options={[
        { value: 'en', label: 'English' },
        { value: 'zh', label: '简体中文' },
      ]}
    />
  );
}
