import { useEffect } from 'react';
import { recordingKeyFromHash } from './replay/open-recording-action';
import { HostPromptDialogs } from './hosts/host-prompt-dialogs';
import { ExperimentsView } from './experiments/experiments-view';
import { HostsView } from './hosts/hosts-view';
import { LeaderboardView } from './leaderboard/leaderboard-view';
import { RunNotifications } from './monitor/run-notification-watch';
import { RunsView } from './pages/runs-view';
import { ConnectionScreen } from './shell/connection-screen';
import { ErrorBanner } from './shell/error-banner';
import { Sidebar } from './shell/sidebar';
import { useAppStore } from './store/store-context';
import { effectivePrefs } from './store/slices/prefs-slice';
import type { Section } from './store/slices/nav-slice';
import { applyTheme } from './theme/theme';
import { describeConnection } from './transport/connection-state';

function SectionView({ section }: { section: Section }) {
  switch (section) {
    case 'hosts':
      return <HostsView />;
    case 'runs':
      return <RunsView />;
    case 'experiments':
      return <ExperimentsView />;
    case 'leaderboard':
      return <LeaderboardView />;
  }
}

export function App() {
  const section = useAppStore((s) => s.nav.section);
  const theme = useAppStore((s) => effectivePrefs(s.prefs).theme);
  const connection = useAppStore((s) => s.app.connection);
  const shell = useAppStore((s) => s.app.shell);
  const reconnect = useAppStore((s) => s.app.reconnect);

  useEffect(() => applyTheme(document.documentElement, theme), [theme]);
  // `ptw replay FILE` opens the page at #replay=…: the Runs screen shows that recording.
  const setSection = useAppStore((s) => s.nav.setSection);
  useEffect(() => {
    if (recordingKeyFromHash(window.location.hash)) setSection('runs');
  }, [setSection]);

  const problem = describeConnection(connection, shell.kind === 'serve' ? shell.address : 'the main process');
  return (
    <>
      {/* `inert` keeps focus and clicks out of the app while the connection screen covers it. */}
      <div className="app-shell" inert={problem !== null}>
        <Sidebar />
        <main className="main">
          <ErrorBanner />
          <SectionView section={section} />
        </main>
      </div>
      {/* Host-key and passphrase questions can come while any section is shown; none can be answered offline. */}
      {problem ? <ConnectionScreen problem={problem} onReconnect={reconnect} /> : <HostPromptDialogs />}
      {/* Desktop notifications (run finished, failed, scored, GPU idle) whichever section is shown. */}
      <RunNotifications />
    </>
  );
}
