// The admin API's users (admin role only): types and calls.
import { del, get, patch, post } from '../../api/client';
import type { Role } from '../../api/session';

export interface User {
  id: string;
  username: string;
  role: Role;
  status: 'active' | 'disabled';
  must_change_password: boolean;
  created_at: string;
  updated_at: string;
  last_login: string | null;
  failed_logins: number;
  last_failed_login: string | null;
}

export const ROLES: Role[] = ['viewer', 'operator', 'admin'];

export const listUsers = () => get<{ items: User[] }>('users').then((r) => r.items);
export const createUser = (username: string, password: string, role: Role) =>
  post<User>('users', { username, password, role });
export const setRole = (id: string, role: Role) => patch<User>(`users/${encodeURIComponent(id)}`, { role });
export const setEnabled = (id: string, enabled: boolean) =>
  post<User>(`users/${encodeURIComponent(id)}/${enabled ? 'enable' : 'disable'}`);
export const resetPassword = (id: string, password: string) =>
  post<void>(`users/${encodeURIComponent(id)}/reset-password`, { password });
export const deleteUser = (id: string) => del<void>(`users/${encodeURIComponent(id)}`);
