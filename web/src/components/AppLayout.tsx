// The frame of every signed-in page: navigation, language, the user's menu.
import { Button, Dropdown, Layout, Menu, Space, Typography } from 'antd';
import { ApiOutlined, DashboardOutlined, DownOutlined, FileSearchOutlined, KeyOutlined, SettingOutlined, TeamOutlined, UserOutlined } from '@ant-design/icons';
import { Outlet, useLocation, useNavigate } from 'react-router-dom';
import { useTranslation } from 'react-i18next';
import { useQueryClient } from '@tanstack/react-query';
import { post } from '../api/client';
import { getSession, hasRole, setSession } from '../api/session';
import LanguageSwitch from './LanguageSwitch';

const { Header, Sider, Content } = Layout;

export default function AppLayout() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const location = useLocation();
  const queryClient = useQueryClient();
  const section = '/' + (location.pathname.split('/')[1] ?? '');
  const session = getSession();

  async function logout() {
    try {
      await post('auth/logout');
    } catch {
      /* the session ends here either way */
    }
    setSession(null);
    queryClient.clear();
    navigate('/login', { replace: true });
  }

  return (
    <Layout style={{ minHeight: '100vh' }}>
      <Sider breakpoint="lg" collapsedWidth={0} theme="light" width={200}>
        <div style={{ padding: '16px 24px', fontWeight: 600, fontSize: 18 }}>Cinfer</div>
        <Menu
          mode="inline"
          selectedKeys={[section === '/' ? '/' : section]}
          onClick={(e) => navigate(e.key)}
          items={[
            { key: '/', icon: <DashboardOutlined />, label: t('nav.dashboard') },
            { key: '/models', icon: <ApiOutlined />, label: t('nav.models') },
            { key: '/tokens', icon: <KeyOutlined />, label: t('nav.tokens') },
            { key: '/logs', icon: <FileSearchOutlined />, label: t('nav.logs') },
            ...(hasRole(session, 'admin')
              ? [{ key: '/users', icon: <TeamOutlined />, label: t('nav.users') },
                 { key: '/settings', icon: <SettingOutlined />, label: t('nav.settings') }]
              : []),
          ]}
        />
      </Sider>
      <Layout>
        <Header style={{ background: '#fff', padding: '0 24px', display: 'flex', justifyContent: 'flex-end', alignItems: 'center' }}>
          <Space size="middle">
            <LanguageSwitch />
            <Dropdown
              menu={{
                items: [
                  { key: 'account', label: t('header.changePassword'), onClick: () => navigate('/account') },
                  { key: 'logout', label: t('header.logout'), onClick: () => void logout() },
                ],
              }}
            >
              <Button type="text" data-testid="user-menu" icon={<UserOutlined />}>
                <Typography.Text>{session?.username}</Typography.Text> <DownOutlined />
              </Button>
            </Dropdown>
          </Space>
        </Header>
        <Content style={{ margin: 24 }}>
          <Outlet />
        </Content>
      </Layout>
    </Layout>
  );
}
