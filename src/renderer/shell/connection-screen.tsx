import type { ConnectionProblem } from '../transport/connection-state';
import { RichText } from './rich-text';

/** Full-page message when the app cannot talk to the node side (no token, refused, dropped). */
export function ConnectionScreen({ problem, onReconnect }: { problem: ConnectionProblem; onReconnect?: () => void }) {
  return (
    <div className="connection-screen" data-testid="connection-screen" role="alert" aria-busy={problem.busy}>
      <div className="connection-card">
        <h1 className="connection-title">{problem.title}</h1>
        <p className="connection-message">
          <RichText text={problem.message} />
        </p>
        {problem.canReconnect || problem.busy ? (
          <button
            type="button"
            className="button button-primary"
            data-testid="reconnect-button"
            disabled={problem.busy || !onReconnect}
            onClick={onReconnect}
          >
            {problem.busy ? 'Reconnecting…' : 'Reconnect'}
          </button>
        ) : null}
      </div>
    </div>
  );
}
