import '@mantine/core/styles.css';
import { TransportProvider } from '@connectrpc/connect-query';
import { MantineProvider, createTheme } from '@mantine/core';
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
const theme = createTheme({ primaryColor: 'teal', primaryShade: 9, defaultRadius: 'sm' });

createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <MantineProvider theme={theme}>
      <TransportProvider transport={transport}>
        <QueryClientProvider client={queryClient}>
          <App />
        </QueryClientProvider>
      </TransportProvider>
    </MantineProvider>
  </StrictMode>,
);
