// Queries shared by the token pages: the model list for the pickers (id → name).
import { useQuery } from '@tanstack/react-query';
import { get } from '../../api/client';
import type { Paged } from './tokenUtils';

export interface ModelRef {
  id: string;
  name: string;
  status?: string;
}

export function useModelList() {
  return useQuery({
    queryKey: ['models', 'picker'],
    queryFn: () => get<Paged<ModelRef>>('models?page_size=100'),
    staleTime: 30_000,
  });
}

/** id → name of the known models (ids of deleted models are shown as they are). */
export function modelNames(items: ModelRef[] | undefined): Map<string, string> {
  return new Map((items ?? []).map((m) => [m.id, m.name]));
}
