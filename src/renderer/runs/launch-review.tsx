import type { Ref } from 'react';
import type { AppErrorData } from '../../shared/errors';
import { HostErrorPanel } from '../common/host-error-panel';
import { launchErrorTitle } from './launch-spec';
import { ProblemList } from '../shell/problem-list';

/**
 * The foot of the launch form: the spec's warnings, a problem no field holds, why `runs.start` refused the run, and
 * the buttons.
 */
export function LaunchReview({
  warnings,
  formError,
  failure,
  failureRef,
  launching,
  disabled,
  onCancel,
  onLaunch,
}: {
  warnings: readonly string[];
  formError: string | undefined;
  failure: AppErrorData | null;
  /** Where the refusal shows, to scroll it into view. */
  failureRef: Ref<HTMLDivElement>;
  launching: boolean;
  disabled: boolean;
  onCancel: () => void;
  onLaunch: () => void;
}) {
  return (
    <>
      {warnings.length > 0 ? (
        <ProblemList
          testId="launch-warnings"
          className="launch-warnings"
          title="Worth a second look"
          problems={warnings.map((w) => ({ message: w }))}
        />
      ) : null}
      {formError ? (
        <p className="field-error" data-testid="launch-form-error">
          {formError}
        </p>
      ) : null}
      <div ref={failureRef}>
        {failure ? (
          <HostErrorPanel
            error={failure}
            title={launchErrorTitle(failure, 'run')}
            action="Launching the run"
            testId="launch-error"
          />
        ) : null}
      </div>

      <div className="form-actions">
        <button type="button" className="button" data-testid="launch-cancel" onClick={onCancel}>
          Cancel
        </button>
        {/* Not a submit button: Enter in a field must not start a 10-hour run (no submit button, no implicit
            submission). */}
        <button
          type="button"
          className="button button-primary"
          data-testid="launch-submit"
          disabled={disabled}
          onClick={onLaunch}
        >
          {launching ? 'Launching…' : 'Launch run'}
        </button>
      </div>
    </>
  );
}
