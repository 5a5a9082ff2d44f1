import type { ReactNode } from 'react';

/** A question with its Cancel and confirm buttons, shown in place of the control that asked it. */
export function ConfirmRow({
  label,
  children,
  cancelTestId,
  onCancel,
  confirmTestId,
  confirmText,
  disabled,
  onConfirm,
}: {
  /** The group's accessible name, e.g. "Confirm removal". */
  label: string;
  /** The question. */
  children: ReactNode;
  cancelTestId: string;
  onCancel: () => void;
  confirmTestId: string;
  confirmText: string;
  disabled: boolean;
  onConfirm: () => void;
}) {
  return (
    <div className="confirm-row" role="group" aria-label={label}>
      <span>{children}</span>
      <span className="confirm-buttons">
        <button type="button" className="button" data-testid={cancelTestId} onClick={onCancel}>
          Cancel
        </button>
        <button
          type="button"
          className="button button-danger"
          data-testid={confirmTestId}
          disabled={disabled}
          onClick={onConfirm}
        >
          {confirmText}
        </button>
      </span>
    </div>
  );
}
