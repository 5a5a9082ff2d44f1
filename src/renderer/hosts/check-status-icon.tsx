import type { CheckStatus } from '../../shared/hosts';

const labels: Record<CheckStatus, string> = {
  pass: 'Passed',
  warn: 'Warning',
  fail: 'Failed',
  skip: 'Skipped',
  pending: 'Waiting',
  running: 'Running',
};

/** A filled badge per status; colour comes from `.check-icon-<status>` so it follows the theme. */
export function CheckStatusIcon({ status }: { status: CheckStatus }) {
  return (
    <svg
      className={`check-icon check-icon-${status}`}
      viewBox="0 0 20 20"
      width="20"
      height="20"
      role="img"
      aria-label={labels[status]}
      focusable="false"
    >
      {status === 'running' ? (
        <>
          <circle className="check-icon-track" cx="10" cy="10" r="7.5" fill="none" strokeWidth="2.2" />
          <path className="check-icon-arc" d="M10 2.5a7.5 7.5 0 0 1 7.5 7.5" fill="none" strokeWidth="2.2" />
        </>
      ) : status === 'pending' ? (
        <circle
          className="check-icon-ring"
          cx="10"
          cy="10"
          r="7.5"
          fill="none"
          strokeWidth="1.8"
          strokeDasharray="3 2.6"
        />
      ) : (
        <>
          <circle className="check-icon-disc" cx="10" cy="10" r="9" />
          <path
            className="check-icon-mark"
            d={marks[status]}
            fill="none"
            strokeWidth="2"
            strokeLinecap="round"
            strokeLinejoin="round"
          />
        </>
      )}
    </svg>
  );
}

const marks: Record<'pass' | 'warn' | 'fail' | 'skip', string> = {
  pass: 'M6 10.4l2.7 2.7L14.2 7.4',
  warn: 'M10 5.6v5.2M10 14.2h.01',
  fail: 'M7 7l6 6M13 7l-6 6',
  skip: 'M6.5 10h7',
};
