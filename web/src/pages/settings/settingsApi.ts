// The runtime configuration (admin role only): every key with its value, where
// the value comes from and when a change applies; a PATCH of changed keys (null
// removes a key's runtime override).
import { get, patch } from '../../api/client';

export type SettingValue = string | number | boolean | string[];
export type SettingSource = 'default' | 'file' | 'override' | 'environment';

export interface Setting {
  key: string;
  section: string;
  type: 'integer' | 'boolean' | 'string' | 'list';
  value: SettingValue; // the running value
  default: SettingValue;
  source: SettingSource;
  apply: 'live' | 'restart';
  secret: boolean; // value (and pending_value) "********" when set, "" when empty
  editable: boolean;
  reason?: string; // why not editable
  env: string; // the environment variable that would set it
  min?: number;
  max?: number;
  choices?: string[];
  pending?: boolean; // a restart key saved with a value that is not running yet
  pending_value?: SettingValue;
}

export interface SystemConfig {
  override_file: string;
  pending_restart: string[];
  keys: Setting[];
  changed?: string[]; // PATCH answers only
}

export const SECTIONS = ['server', 'engines', 'models', 'request', 'auth', 'logs', 'metrics'];
export const SECRET_MASK = '********';

export const CONFIG_QUERY = ['system-config'];
const PATH = 'system/config';

export const getConfig = () => get<SystemConfig>(PATH);
export const patchConfig = (changes: Record<string, SettingValue | null>) => patch<SystemConfig>(PATH, changes);
