/**
 * The budget is counted on the host: its supervisor stamps `startedAt` and `deadline` with the host's clock and
 * stops the agent by it. This machine's clock may disagree by seconds or minutes, so a countdown reads the host's
 * time as our clock plus the offset the last sync measured (`sync.json` `hostClockOffsetMs`), never a local timer.
 */

function finite(value: number | null | undefined): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** Now on the host's clock: ours plus the measured offset (none measured yet: ours). */
export function hostNow(localNow: number, hostClockOffsetMs: number | null | undefined): number {
  return localNow + (finite(hostClockOffsetMs) ? hostClockOffsetMs : 0);
}

/** When the host's deadline comes, on our clock (for "stops at 21:00" in the reader's time zone and clock). */
export function deadlineOnLocalClock(deadline: number, hostClockOffsetMs: number | null | undefined): number {
  return deadline - (finite(hostClockOffsetMs) ? hostClockOffsetMs : 0);
}
