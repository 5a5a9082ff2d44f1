import { useEffect, useState } from 'react';

/**
 * The current time (epoch ms), re-read every `intervalMs` while mounted, for views that count down
 * or say "5 min ago". The store keeps deadlines and timestamps; only the view ticks.
 */
export function useNow(intervalMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}
