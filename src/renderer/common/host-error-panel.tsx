import { WarningIcon } from '../shell/icons';
import { RichText } from '../shell/rich-text';
import { describeHostError, type HostError } from './host-state-text';

/**
 * An error from main about a host, with its message (which says what to do) in full. A changed or
 * revoked host key is shown as the security warning it is, not as one more failure.
 */
export function HostErrorPanel({
  error,
  action,
  title: titleOverride,
  testId = 'host-error',
}: {
  error: HostError;
  /** A heading that says more than the code's generic one (e.g. "The run spec was refused"). */
  title?: string;
  /** What was being done, e.g. "Connecting". */
  action?: string;
  testId?: string;
}) {
  const { title, severity, explanation } = describeHostError(error);
  return (
    <div className={`host-error host-error-${severity}`} role="alert" data-testid={testId} data-code={error.code}>
      <span className="host-error-icon">
        <WarningIcon />
      </span>
      <div className="host-error-body">
        <p className="host-error-title">{titleOverride ?? title}</p>
        {explanation ? <p className="host-error-explanation">{explanation}</p> : null}
        <p className="host-error-message">
          <RichText text={error.message} />
        </p>
        {action ? (
          <p className="host-error-source">
            {action} failed{error.retryable ? '; trying again may work.' : '.'}
          </p>
        ) : null}
      </div>
    </div>
  );
}
