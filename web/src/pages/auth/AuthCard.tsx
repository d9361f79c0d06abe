// The centred card that frames the setup and login pages (no navigation yet),
// with the language switch in its corner.
import type { ReactNode } from 'react';
import { Card, Flex, Typography } from 'antd';
import LanguageSwitch from '../../components/LanguageSwitch';

export default function AuthCard({ title, children }: { title: string; children: ReactNode }) {
  return (
    <Flex justify="center" align="flex-start" style={{ minHeight: '100vh', padding: '10vh 16px', background: '#f5f7fa' }}>
      <Card style={{ width: 420, maxWidth: '100%' }}>
        <Flex justify="space-between" align="center" style={{ marginBottom: 16 }}>
          <Typography.Title level={3} style={{ margin: 0 }}>{title}</Typography.Title>
          <LanguageSwitch />
        </Flex>
        {children}
      </Card>
    </Flex>
  );
}
