import { AppShell, Button, Center, Group, Loader, NavLink, Text, Title } from '@mantine/core';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { fetchSession, signOut } from './api';
import { Link, navigate, usePath } from './router';
import { ListPage } from './screens/ListPage';
import { NewFromTemplate } from './screens/NewFromTemplate';
import { SegmentEditor } from './screens/SegmentEditor';
import { SegmentPage } from './screens/SegmentPage';
import { SegmentsList } from './screens/SegmentsList';
import { SignIn } from './screens/SignIn';
import { SystemStatus } from './screens/SystemStatus';

export function App() {
  const session = useQuery({ queryKey: ['session'], queryFn: fetchSession });
  const queries = useQueryClient();
  const path = usePath();

  if (session.isPending)
    return (
      <Center h="100vh">
        <Loader aria-label="Loading" />
      </Center>
    );
  if (!session.data?.signedIn)
    return (
      <SignIn
        devSignIn={session.data?.devSignIn ?? false}
        oidcSignIn={session.data?.oidcSignIn ?? false}
        onSignedIn={() => session.refetch()}
      />
    );

  const leave = async () => {
    await signOut();
    queries.clear();
    navigate('/');
    await session.refetch();
  };

  return (
    <AppShell header={{ height: 56 }} navbar={{ width: 200, breakpoint: 'sm' }} padding="md">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between">
          <Title order={1} size="h3">
            Shoal
          </Title>
          <Group gap="sm">
            <Text size="sm" data-testid="signed-in-user">
              {session.data.user}
            </Text>
            <Button variant="default" size="xs" onClick={leave}>
              Sign out
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" component="nav" aria-label="Main">
        <NavLink component={Link} to="/" label="Segments" active={path === '/'} />
        <NavLink
          component={Link}
          to="/segments/new"
          label="New segment"
          active={path === '/segments/new'}
        />
        <NavLink
          component={Link}
          to="/segments/new/template"
          label="From a template"
          active={path === '/segments/new/template'}
        />
        <NavLink component={Link} to="/lists/new" label="New list" active={path === '/lists/new'} />
        <NavLink component={Link} to="/system" label="System" active={path === '/system'} />
      </AppShell.Navbar>
      <AppShell.Main>
        <Screen path={path} />
      </AppShell.Main>
    </AppShell>
  );
}

function Screen({ path }: { path: string }) {
  if (path === '/') return <SegmentsList />;
  if (path === '/system') return <SystemStatus />;
  if (path === '/segments/new') return <SegmentEditor />;
  if (path === '/segments/new/template') return <NewFromTemplate />;
  if (path === '/lists/new') return <ListPage />;
  const edit = /^\/segments\/([^/]+)\/edit$/.exec(path);
  if (edit) return <SegmentEditor segmentId={decodeURIComponent(edit[1] as string)} />;
  const segment = /^\/segments\/([^/]+)$/.exec(path);
  if (segment) return <SegmentPage segmentId={decodeURIComponent(segment[1] as string)} />;
  const list = /^\/lists\/([^/]+)$/.exec(path);
  if (list) return <ListPage listId={decodeURIComponent(list[1] as string)} />;
  return (
    <Text>
      Nothing here. <Link to="/">Back to the segments</Link>
    </Text>
  );
}
