import '@mantine/core/styles.css';
import { TransportProvider } from '@connectrpc/connect-query';
import { type CSSVariablesResolver, MantineProvider, Modal, createTheme } from '@mantine/core';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { transport } from './api';
import { App } from './App';

const queryClient = new QueryClient({
  defaultOptions: { queries: { retry: 1, refetchOnWindowFocus: false } },
});

// system fonts only: nothing is fetched from elsewhere at run time; the darkest teal keeps
// white text on filled buttons and teal text on light ones above 4.5:1 contrast
const theme = createTheme({
  primaryColor: 'teal',
  primaryShade: 9,
  defaultRadius: 'sm',
  components: {
    Modal: Modal.extend({ defaultProps: { closeButtonProps: { 'aria-label': 'Close' } } }),
  },
});

// Mantine's stock light scheme puts dimmed and description text (gray 6), error text (red 6),
// light teal and yellow variants, the filled yellow badge and the filled teal hover below 4.5:1;
// these shades were measured with axe-core in the browser tests and all pass WCAG AA
const contrast: CSSVariablesResolver = (t) => ({
  variables: {},
  light: {
    '--mantine-color-dimmed': t.colors.gray[7],
    '--mantine-color-error': t.colors.red[9],
    '--mantine-color-teal-light-color': '#066649',
    '--mantine-color-teal-filled-hover': '#066649',
    '--mantine-color-yellow-light-color': '#7a4100',
    '--mantine-color-yellow-filled': '#a35200',
    '--mantine-color-yellow-filled-hover': '#7a4100',
  },
  dark: {},
});

createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <MantineProvider theme={theme} cssVariablesResolver={contrast}>
      <TransportProvider transport={transport}>
        <QueryClientProvider client={queryClient}>
          <App />
        </QueryClientProvider>
      </TransportProvider>
    </MantineProvider>
  </StrictMode>,
);
