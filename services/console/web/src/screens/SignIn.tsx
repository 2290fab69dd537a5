import { Alert, Button, Center, Paper, Stack, TextInput, Title } from '@mantine/core';
import { type FormEvent, useEffect, useState } from 'react';

/** The query parameter the console's callback passes a failed provider sign-in's reason in. */
const SIGN_IN_ERROR = 'sign_in_error';

function providerErrorOfAddress(): string | undefined {
  return new URL(window.location.href).searchParams.get(SIGN_IN_ERROR) ?? undefined;
}

/** Takes the reason out of the address, so a reload does not show it again. */
function forgetProviderError(): void {
  const url = new URL(window.location.href);
  if (!url.searchParams.has(SIGN_IN_ERROR)) return;
  url.searchParams.delete(SIGN_IN_ERROR);
  window.history.replaceState(window.history.state, '', url.pathname + url.search + url.hash);
}
import { devSignIn } from '../api';

export function SignIn({
  devSignIn: offered,
  oidcSignIn,
  onSignedIn,
}: {
  devSignIn: boolean;
  oidcSignIn: boolean;
  onSignedIn: () => void;
}) {
  const [user, setUser] = useState('');
  const [groups, setGroups] = useState('marketing, profile-readers');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [providerError] = useState(providerErrorOfAddress);
  useEffect(forgetProviderError, []);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await devSignIn(
        user.trim(),
        groups
          .split(',')
          .map((g) => g.trim())
          .filter(Boolean),
      );
      onSignedIn();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Center h="100vh">
      <Paper withBorder p="xl" w={380} component="main">
        <Title order={1} size="h2" mb="md">
          Sign in to Shoal
        </Title>
        {providerError && (
          <Alert color="red" role="alert" title="Sign-in failed" mb="md">
            {providerError}
          </Alert>
        )}
        {oidcSignIn && (
          <Button component="a" href="/auth/oidc/start" fullWidth mb={offered ? 'md' : 0}>
            Sign in with your identity provider
          </Button>
        )}
        {offered ? (
          <form onSubmit={submit} aria-label="Development sign-in">
            <Stack>
              <Alert color="yellow" title="Development sign-in">
                Anyone can sign in as anyone here. Production consoles sign in through your identity
                provider.
              </Alert>
              <TextInput
                label="User name"
                value={user}
                onChange={(e) => setUser(e.currentTarget.value)}
                required
                autoFocus
              />
              <TextInput
                label="Groups"
                description="comma-separated"
                value={groups}
                onChange={(e) => setGroups(e.currentTarget.value)}
              />
              {error && (
                <Alert color="red" role="alert">
                  {error}
                </Alert>
              )}
              <Button type="submit" loading={busy}>
                Sign in
              </Button>
            </Stack>
          </form>
        ) : (
          !oidcSignIn && (
            <Alert color="gray">
              This console has no sign-in configured: set CONSOLE_OIDC_ISSUER_URL (and its client)
              for your identity provider, or CONSOLE_DEV_SIGN_IN for development.
            </Alert>
          )
        )}
      </Paper>
    </Center>
  );
}
