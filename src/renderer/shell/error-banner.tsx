import { useAppStore } from '../store/store-context';

/** App-wide failures (app info, preferences); section lists show their own. Messages are rendered as text. */
export function ErrorBanner() {
  const errors = useAppStore((s) => s.app.errors);
  const dismiss = useAppStore((s) => s.app.dismissError);
  if (errors.length === 0) return null;
  return (
    <div className="error-banner" data-testid="error-banner" role="alert">
      {errors.map((notice) => (
        <div className="error-notice" key={notice.id}>
          <span>
            <strong>{notice.source} failed.</strong> {notice.error.message}
          </span>
          <button type="button" className="button button-quiet" onClick={() => dismiss(notice.id)}>
            Dismiss
          </button>
        </div>
      ))}
    </div>
  );
}
