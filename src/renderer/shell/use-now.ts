import { useEffect, useState } from 'react';

/**
 * The current time (epoch ms), re-read every `intervalMs` while mounted, for views that count down
 * or say "5 min ago". The store keeps deadlines and timestamps; only the view ticks.
 */
export function useNow(intervalMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const tick = () => setNow(Date.now());
    // Read the clock at once too: after a slow interval (30 s) gives way to a fast one because a countdown
    // appeared, the held time may be up to 30 s old, and the countdown would start from it.
    const first = setTimeout(tick, 0);
    const timer = setInterval(tick, intervalMs);
    return () => {
      clearTimeout(first);
      clearInterval(timer);
    };
  }, [intervalMs]);
  return now;
}
