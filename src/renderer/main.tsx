// First, before any schema runs.
import './zod-csp';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { startApp } from './bootstrap';
import { App } from './app';
import { ConnectionScreen } from './shell/connection-screen';
import { StoreProvider } from './store/store-context';
import { missingTokenProblem } from './transport/connection-state';
import { selectTransport } from './transport/select-transport';
import './styles/app.css';

const container = document.getElementById('root');
if (!container) throw new Error('index.html has no #root element');
const root = createRoot(container);
const selection = selectTransport(window);

if (selection.kind === 'missing-token') {
  root.render(
    <StrictMode>
      <ConnectionScreen problem={missingTokenProblem} />
    </StrictMode>,
  );
} else {
  const running = startApp(selection);
  window.addEventListener('pagehide', () => running.dispose(), { once: true });
  root.render(
    <StrictMode>
      <StoreProvider store={running.store}>
        <App />
      </StoreProvider>
    </StrictMode>,
  );
}
