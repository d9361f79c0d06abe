// Setup, login and account pages against a stubbed fetch.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import SetupPage from '../SetupPage';
import LoginPage from '../LoginPage';
import AccountPage from '../AccountPage';
import { getSession, setSession } from '../../api/session';
import { API, err, mockFetch, renderPage } from '../../testing';
import { passwordScore, safeNext } from './authApi';

const SESSION = { access_token: 'jwt.a.b', token_type: 'Bearer', expires_in: 3600 };

vi.setConfig({ testTimeout: 20_000 }); // the shared 2-core machine is slow

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  setSession(null);
});

describe('helpers', () => {
  it('accepts only same-origin next paths', () => {
    expect(safeNext('/tokens?x=1')).toBe('/tokens?x=1');
    expect(safeNext('//evil.example')).toBe('/');
    expect(safeNext('https://evil.example')).toBe('/');
    expect(safeNext('/\\evil.example')).toBe('/');
    expect(safeNext(null)).toBe('/');
  });
  it('scores passwords with the server minimum of 8 bytes', () => {
    expect(passwordScore('short')).toBe(0);
    expect(passwordScore('abcdefgh')).toBe(1);
    expect(passwordScore('Abcdefgh1234!xyzQ')).toBe(4);
  });
});

describe('SetupPage', () => {
  it('blocks mismatched passwords without calling the server', async () => {
    const calls = mockFetch({ [`GET ${API}/system/setup`]: { body: { initialized: false } } });
    renderPage(<SetupPage />, '/setup', '/setup');
    fireEvent.change(await screen.findByTestId('setup-code'), { target: { value: '3f9a0c1be27d4458a1c6e0f2' } });
    fireEvent.change(screen.getByTestId('setup-username'), { target: { value: 'admin' } });
    fireEvent.change(screen.getByTestId('setup-password'), { target: { value: 'correct-horse' } });
    fireEvent.change(screen.getByTestId('setup-password2'), { target: { value: 'correct-horsX' } });
    fireEvent.click(screen.getByTestId('setup-submit'));
    expect(await screen.findByText('The passwords do not match')).toBeTruthy();
    expect(calls.filter((c) => c.method === 'POST')).toHaveLength(0);
  });

  it('shows the server message for a wrong code', async () => {
    mockFetch({
      [`GET ${API}/system/setup`]: { body: { initialized: false } },
      [`POST ${API}/system/setup`]: err(403, 'INVALID_SETUP_CODE', 'the setup code is missing or wrong'),
    });
    renderPage(<SetupPage />, '/setup', '/setup');
    fireEvent.change(await screen.findByTestId('setup-code'), { target: { value: 'bad' } });
    fireEvent.change(screen.getByTestId('setup-username'), { target: { value: 'admin' } });
    fireEvent.change(screen.getByTestId('setup-password'), { target: { value: 'correct-horse' } });
    fireEvent.change(screen.getByTestId('setup-password2'), { target: { value: 'correct-horse' } });
    fireEvent.click(screen.getByTestId('setup-submit'));
    expect((await screen.findByTestId('setup-error')).textContent).toContain('the setup code is missing or wrong');
  });

  it('creates the admin, logs in and opens the dashboard', async () => {
    const calls = mockFetch({
      [`GET ${API}/system/setup`]: { body: { initialized: false } },
      [`POST ${API}/system/setup`]: { status: 201, body: { id: 'u1', username: 'admin', is_admin: true } },
      [`POST ${API}/auth/login`]: { body: SESSION },
    });
    renderPage(<SetupPage />, '/setup', '/setup');
    fireEvent.change(await screen.findByTestId('setup-code'), { target: { value: ' 3f9a0c1be27d4458a1c6e0f2 ' } });
    fireEvent.change(screen.getByTestId('setup-username'), { target: { value: 'admin' } });
    fireEvent.change(screen.getByTestId('setup-password'), { target: { value: 'correct-horse' } });
    fireEvent.change(screen.getByTestId('setup-password2'), { target: { value: 'correct-horse' } });
    fireEvent.click(screen.getByTestId('setup-submit'));
    expect((await screen.findByTestId('location')).textContent).toBe('/');
    expect(calls.find((c) => c.url.pathname.endsWith('system/setup') && c.method === 'POST')?.body)
      .toEqual({ username: 'admin', password: 'correct-horse', setup_code: '3f9a0c1be27d4458a1c6e0f2' });
    expect(getSession()?.token).toBe('jwt.a.b');
  });

  it('sends an initialised server to the login page', async () => {
    mockFetch({ [`GET ${API}/system/setup`]: { body: { initialized: true } } });
    renderPage(<SetupPage />, '/setup', '/setup');
    expect((await screen.findByTestId('location')).textContent).toBe('/login');
  });
});

async function fillLogin() {
  fireEvent.change(await screen.findByTestId('login-username'), { target: { value: 'admin' } });
  fireEvent.change(screen.getByTestId('login-password'), { target: { value: 'pw-12345678' } });
  fireEvent.click(screen.getByTestId('login-submit'));
}

describe('LoginPage', () => {
  it('shows the Retry-After wait on 429', async () => {
    mockFetch({
      [`GET ${API}/system/setup`]: { body: { initialized: true } },
      [`POST ${API}/auth/login`]: err(429, 'TOO_MANY_ATTEMPTS', 'too many', { 'Retry-After': '42' }),
    });
    renderPage(<LoginPage />, '/login', '/login');
    await fillLogin();
    expect((await screen.findByTestId('login-error')).textContent).toContain('try again in 42 seconds');
  });

  it('says wrong username or password on 401', async () => {
    mockFetch({
      [`GET ${API}/system/setup`]: { body: { initialized: true } },
      [`POST ${API}/auth/login`]: err(401, 'UNAUTHENTICATED', 'invalid username or password'),
    });
    renderPage(<LoginPage />, '/login', '/login');
    await fillLogin();
    expect((await screen.findByTestId('login-error')).textContent).toBe('Wrong username or password');
    expect(getSession()).toBeNull();
  });

  it('logs in and follows a safe next path', async () => {
    const calls = mockFetch({
      [`GET ${API}/system/setup`]: { body: { initialized: true } },
      [`POST ${API}/auth/login`]: { body: SESSION },
    });
    renderPage(<LoginPage />, '/login?next=%2Ftokens%2Fabc&expired=1', '/login');
    expect(await screen.findByTestId('login-expired')).toBeTruthy();
    await fillLogin();
    expect((await screen.findByTestId('location')).textContent).toBe('/tokens/abc');
    const s = getSession();
    expect(s?.username).toBe('admin');
    expect(s!.expiresAt - Date.now()).toBeGreaterThan(3590_000);
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({ username: 'admin', password: 'pw-12345678' });
  });

  it('ignores a protocol-relative next', async () => {
    mockFetch({
      [`GET ${API}/system/setup`]: { body: { initialized: true } },
      [`POST ${API}/auth/login`]: { body: SESSION },
    });
    renderPage(<LoginPage />, '/login?next=%2F%2Fevil.example', '/login');
    await fillLogin();
    expect((await screen.findByTestId('location')).textContent).toBe('/');
  });

  it('redirects to setup when not initialised', async () => {
    mockFetch({ [`GET ${API}/system/setup`]: { body: { initialized: false } } });
    renderPage(<LoginPage />, '/login', '/login');
    expect((await screen.findByTestId('location')).textContent).toBe('/setup');
  });
});

describe('AccountPage', () => {
  it('changes the password and stores the new session token', async () => {
    setSession({ token: 'old', username: 'admin', expiresAt: Date.now() + 60_000 });
    const calls = mockFetch({ [`POST ${API}/auth/password`]: { body: { ...SESSION, access_token: 'new.jwt.x' } } });
    renderPage(<AccountPage />, '/account', '/account');
    fireEvent.change(screen.getByTestId('account-current'), { target: { value: 'old-password' } });
    fireEvent.change(screen.getByTestId('account-new'), { target: { value: 'new-password-1' } });
    fireEvent.change(screen.getByTestId('account-new2'), { target: { value: 'new-password-1' } });
    fireEvent.click(screen.getByTestId('account-submit'));
    await waitFor(() => expect(getSession()?.token).toBe('new.jwt.x'));
    expect(calls[0].body).toEqual({ old_password: 'old-password', new_password: 'new-password-1' });
    expect(await screen.findByText('Password changed')).toBeTruthy();
  });

  it('reports a wrong current password', async () => {
    setSession({ token: 'old', username: 'admin', expiresAt: Date.now() + 60_000 });
    mockFetch({ [`POST ${API}/auth/password`]: err(403, 'FORBIDDEN', 'the current password is wrong') });
    renderPage(<AccountPage />, '/account', '/account');
    fireEvent.change(screen.getByTestId('account-current'), { target: { value: 'nope-nope' } });
    fireEvent.change(screen.getByTestId('account-new'), { target: { value: 'new-password-1' } });
    fireEvent.change(screen.getByTestId('account-new2'), { target: { value: 'new-password-1' } });
    fireEvent.click(screen.getByTestId('account-submit'));
    expect((await screen.findByTestId('account-error')).textContent).toBe('The current password is wrong');
    expect(getSession()?.token).toBe('old');
  });
});
