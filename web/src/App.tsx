// Providers (Ant Design theme + locale, TanStack Query, router) and the route table.
// Every page is its own lazily loaded chunk.
import { lazy, Suspense, useEffect, useState } from 'react';
import { App as AntApp, ConfigProvider, Spin } from 'antd';
import enUS from 'antd/locale/en_US';
import zhCN from 'antd/locale/zh_CN';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { BrowserRouter, Navigate, Route, Routes } from 'react-router-dom';
import { useTranslation } from 'react-i18next';
import { ApiError } from './api/client';
import AppLayout from './components/AppLayout';
import RequireAuth from './components/RequireAuth';

const SetupPage = lazy(() => import('./pages/SetupPage'));
const LoginPage = lazy(() => import('./pages/LoginPage'));
const DashboardPage = lazy(() => import('./pages/DashboardPage'));
const ModelsPage = lazy(() => import('./pages/ModelsPage'));
const ModelDetailPage = lazy(() => import('./pages/ModelDetailPage'));
const PlaygroundPage = lazy(() => import('./pages/PlaygroundPage'));
const TokensPage = lazy(() => import('./pages/TokensPage'));
const TokenDetailPage = lazy(() => import('./pages/TokenDetailPage'));
const LogsPage = lazy(() => import('./pages/LogsPage'));
const AccountPage = lazy(() => import('./pages/AccountPage'));
const UsersPage = lazy(() => import('./pages/UsersPage'));
const SettingsPage = lazy(() => import('./pages/SettingsPage'));
const NotFoundPage = lazy(() => import('./pages/NotFoundPage'));

export function makeQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 5_000,
        refetchOnWindowFocus: false,
        retry: (count, err) => !(err instanceof ApiError && err.status >= 400 && err.status < 500) && count < 2,
      },
    },
  });
}

function Loading() {
  return <Spin style={{ display: 'block', margin: '20vh auto' }} size="large" />;
}

export default function App() {
  const { i18n } = useTranslation();
  const [client] = useState(makeQueryClient);
  const [lang, setLang] = useState(i18n.language);
  useEffect(() => {
    const f = (l: string) => setLang(l);
    i18n.on('languageChanged', f);
    return () => i18n.off('languageChanged', f);
  }, [i18n]);
  return (
    <ConfigProvider locale={lang === 'zh' ? zhCN : enUS} theme={{ token: { colorPrimary: '#1f6feb' } }}>
      <AntApp>
        <QueryClientProvider client={client}>
          <BrowserRouter>
            <Suspense fallback={<Loading />}>
              <Routes>
                <Route path="/setup" element={<SetupPage />} />
                <Route path="/login" element={<LoginPage />} />
                <Route element={<RequireAuth><AppLayout /></RequireAuth>}>
                  <Route index element={<DashboardPage />} />
                  <Route path="models" element={<ModelsPage />} />
                  <Route path="models/:id" element={<ModelDetailPage />} />
                  <Route path="models/:id/playground" element={<PlaygroundPage />} />
                  <Route path="tokens" element={<TokensPage />} />
                  <Route path="tokens/:id" element={<TokenDetailPage />} />
                  <Route path="logs" element={<LogsPage />} />
                  <Route path="account" element={<AccountPage />} />
                  <Route path="users" element={<UsersPage />} />
                  <Route path="settings" element={<SettingsPage />} />
                  <Route path="dashboard" element={<Navigate to="/" replace />} />
                  <Route path="*" element={<NotFoundPage />} />
                </Route>
              </Routes>
            </Suspense>
          </BrowserRouter>
        </QueryClientProvider>
      </AntApp>
    </ConfigProvider>
  );
}
