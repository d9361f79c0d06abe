// Users page against a stubbed fetch: the list with roles and flags, creating a
// user, a role change, the server's 409 LAST_ADMIN shown, and the navigation
// hiding Users from non-admins.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import UsersPage from '../UsersPage';
import { API, mockFetch, renderPage } from '../../testing';
import { hasRole, type Session } from '../../api/session';
import type { User } from './usersApi';

vi.setConfig({ testTimeout: 30_000 });
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function user(over: Partial<User> = {}): User {
  return {
    id: 'u1', username: 'root', role: 'admin', status: 'active', must_change_password: false,
    created_at: '2026-11-01T00:00:00Z', updated_at: '2026-11-01T00:00:00Z', last_login: null,
    failed_logins: 0, last_failed_login: null, ...over,
  };
}

describe('roles in the session', () => {
  it('ranks viewer < operator < admin', () => {
    const s = (role: Session['role']): Session => ({ token: 't', username: 'x', expiresAt: 0, role });
    expect(hasRole(s('admin'), 'admin')).toBe(true);
    expect(hasRole(s('operator'), 'admin')).toBe(false);
    expect(hasRole(s('operator'), 'viewer')).toBe(true);
    expect(hasRole(s(undefined), 'operator')).toBe(false);
    expect(hasRole(null, 'viewer')).toBe(false);
  });
});

describe('UsersPage', () => {
  it('lists users, creates one and changes a role', async () => {
    const users = [user(), user({ id: 'u2', username: '<b>eve</b>', role: 'viewer', must_change_password: true })];
    const calls = mockFetch({
      [`GET ${API}/users`]: { body: { items: users } },
      [`POST ${API}/users`]: { status: 201, body: user({ id: 'u3', username: 'ops', role: 'operator' }) },
      [`PATCH ${API}/users/u2`]: { body: user({ id: 'u2', username: '<b>eve</b>', role: 'operator' }) },
    });
    renderPage(<UsersPage />, '/users');
    expect((await screen.findByTestId('user-row-<b>eve</b>')).textContent).toBe('<b>eve</b>');
    expect(screen.getByText('must change password')).toBeTruthy();
    await userEvent.click(screen.getByTestId('user-create'));
    await userEvent.type(await screen.findByTestId('user-username'), 'ops');
    await userEvent.type(screen.getByTestId('user-password'), 'Long-Enough-1');
    await userEvent.type(screen.getByTestId('user-password2'), 'Long-Enough-1');
    await userEvent.click(screen.getByTestId('user-submit'));
    await waitFor(() => expect(calls.some((c) => c.method === 'POST')).toBe(true));
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual(
      { username: 'ops', password: 'Long-Enough-1', role: 'viewer' });
    fireEvent.mouseDown(screen.getByTestId('user-role-<b>eve</b>').querySelector('.ant-select-selector') ??
                        screen.getByTestId('user-role-<b>eve</b>'));
    await userEvent.click((await screen.findAllByText('Operator')).at(-1)!);
    await waitFor(() => expect(calls.some((c) => c.method === 'PATCH')).toBe(true));
    expect(calls.find((c) => c.method === 'PATCH')?.body).toEqual({ role: 'operator' });
  });

  it("shows the server's refusal to disable the last admin", async () => {
    mockFetch({
      [`GET ${API}/users`]: { body: { items: [user()] } },
      [`POST ${API}/users/u1/disable`]: {
        status: 409,
        body: { error: { code: 'LAST_ADMIN', message: 'the last active administrator cannot be disabled, demoted or deleted', request_id: 'r' } },
      },
    });
    renderPage(<UsersPage />, '/users');
    fireEvent.click(await screen.findByTestId('user-toggle-root'));
    expect(await screen.findByText(/last active administrator/)).toBeTruthy();
  });
});
