import type { ReactNode } from 'react';

/** Small line icons drawn inline (no image requests, no icon font); decorative, hidden from screen readers. */

/** An icon component drawing `shape` (paths in a 24×24 box) with the shared stroke. */
function lineIcon(shape: ReactNode) {
  return function LineIcon() {
    return <Icon>{shape}</Icon>;
  };
}

function Icon({ children }: { children: ReactNode }) {
  return (
    <svg
      className="icon"
      viewBox="0 0 24 24"
      width="16"
      height="16"
      fill="none"
      stroke="currentColor"
      strokeWidth="1.8"
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden="true"
      focusable="false"
    >
      {children}
    </svg>
  );
}

export const HostsIcon = lineIcon(
  <>
    <rect x="3" y="4" width="18" height="7" rx="1.5" />
    <rect x="3" y="13" width="18" height="7" rx="1.5" />
    <path d="M7 7.5h.01M7 16.5h.01" />
  </>,
);

export const RunsIcon = lineIcon(
  <>
    <path d="M4 6h10M4 12h16M4 18h7" />
    <path d="M17 4l3 2-3 2z" />
  </>,
);

export const LeaderboardIcon = lineIcon(<path d="M5 20V11M12 20V5M19 20v-6" />);
/** A grid of cells: the run matrix. */
export const ExperimentsIcon = lineIcon(<path d="M4 4h7v7H4zM13 4h7v7h-7zM4 13h7v7H4zM13 13h7v7h-7z" />);

export function BrandMark() {
  return (
    <svg className="brand-mark" viewBox="0 0 24 24" width="22" height="22" aria-hidden="true" focusable="false">
      <rect x="1" y="1" width="22" height="22" rx="6" fill="currentColor" />
      <path
        className="brand-mark-line"
        d="M6 16l4-5 3 3 5-7"
        fill="none"
        strokeWidth="2"
        strokeLinecap="round"
        strokeLinejoin="round"
      />
    </svg>
  );
}

export const PlusIcon = lineIcon(<path d="M12 5v14M5 12h14" />);

export const ImportIcon = lineIcon(
  <>
    <path d="M12 4v11M7.5 10.5L12 15l4.5-4.5" />
    <path d="M5 19h14" />
  </>,
);

export const WarningIcon = lineIcon(
  <>
    <path d="M12 3.5L2.5 20h19z" />
    <path d="M12 10v4.5M12 17.5h.01" />
  </>,
);

export const KeyIcon = lineIcon(
  <>
    <circle cx="8" cy="15" r="4" />
    <path d="M11 12l8-8M16 7l2.5 2.5M14 9l2 2" />
  </>,
);

export const LockIcon = lineIcon(
  <>
    <rect x="5" y="11" width="14" height="9" rx="1.5" />
    <path d="M8 11V8a4 4 0 0 1 8 0v3" />
  </>,
);
