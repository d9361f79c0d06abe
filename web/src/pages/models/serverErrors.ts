// Puts a server error next to the form field it names (422 VALIDATION_FAILED
// carries `details.field`), and says where it went.
import type { FormInstance } from 'antd';
import { ApiError } from '../../api/client';
import { fieldToFormName } from './configForm';

export interface FieldErrorResult {
  message: string;
  // 'config' / 'meta': shown at a form field; 'config-other': a config field the
  // form has no control for; null: not about a field.
  placed: 'config' | 'meta' | 'config-other' | null;
}

export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  return err instanceof Error ? err.message : String(err);
}

export function placeFieldError(err: unknown, configForm: FormInstance | null,
                                metaForm?: FormInstance | null, metaFields: string[] = []): FieldErrorResult {
  const message = errorMessage(err);
  if (!(err instanceof ApiError) || !err.field) return { message, placed: null };
  const field = err.field;
  if (metaForm && metaFields.includes(field)) {
    metaForm.setFields([{ name: field, errors: [message] }]);
    return { message, placed: 'meta' };
  }
  const name = fieldToFormName(field);
  if (name && configForm) {
    configForm.setFields([{ name, errors: [message] }]);
    return { message, placed: 'config' };
  }
  const isConfig = /^(config\.)?(input|output|input_shapes|max_batch_size|instances|warmup_iterations|engine_options|dynamic_batching)\b/.test(field);
  return { message, placed: isConfig ? 'config-other' : null };
}
