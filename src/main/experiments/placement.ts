/**
 * Splitting an experiment's runs over its hosts when it launches (issue 17): each host's share follows its free
 * GPUs (all its GPUs when none is free anywhere, so the runs still queue where they will fit soonest), handed out
 * cell by cell to the host least loaded for its share, so the first cells of the matrix spread over every host
 * instead of filling the first one. Pure; the hosts' GPU counts come from a fresh nvidia-smi.
 */

export interface HostCapacity {
  name: string;
  freeGpus: number;
  totalGpus: number;
}

export type Placement = { ok: true; hosts: string[] } | { ok: false; message: string };

export function splitByFreeGpus(cellCount: number, hosts: readonly HostCapacity[], gpusPerRun: number): Placement {
  const fits = hosts.filter((h) => h.totalGpus >= gpusPerRun);
  if (fits.length === 0) {
    const seen = hosts.map((h) => `${h.name}: ${h.totalGpus}`).join(', ');
    return {
      ok: false,
      message: `No host of the experiment has the ${gpusPerRun} GPU(s) a run needs (${seen || 'no hosts'}).`,
    };
  }
  const anyFree = fits.some((h) => Math.floor(h.freeGpus / gpusPerRun) > 0);
  const weights = fits.map((h) => Math.max(0, Math.floor((anyFree ? h.freeGpus : h.totalGpus) / gpusPerRun)));
  const assigned = fits.map(() => 0);
  const out: string[] = [];
  for (let cell = 0; cell < cellCount; cell++) {
    let best = -1;
    for (let i = 0; i < fits.length; i++) {
      if (weights[i]! === 0) continue;
      if (best < 0 || assigned[i]! / weights[i]! < assigned[best]! / weights[best]!) best = i;
    }
    assigned[best]!++;
    out.push(fits[best]!.name);
  }
  return { ok: true, hosts: out };
}
