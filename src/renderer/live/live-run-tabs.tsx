import type { RunTab } from '../common/run-tabs';
import { LiveTerminalTab } from './live-terminal-tab';
import { PeekShellTab } from './peek-shell-tab';

/** The run view's live tabs: the terminal (live, or the recording once the run ended) and, while the agent runs, the peek shell. */
export const liveRunTabs: readonly RunTab[] = [
  {
    id: 'terminal',
    label: 'Terminal',
    render: ({ run, selectTab }) => <LiveTerminalTab run={run} selectTab={selectTab} />,
  },
  {
    id: 'peek',
    label: 'Peek shell',
    available: (run) => run.status === 'running',
    render: ({ run }) => <PeekShellTab run={run} />,
  },
];
