import type { HostSummary } from '../../shared/contract';

/** `SLURM · partition gpu · account lab · QoS normal · docker`: what a run's sbatch job gets from the profile. */
export function schedulerText(scheduler: NonNullable<HostSummary['scheduler']>): string {
  return [
    'SLURM',
    scheduler.partition ? `partition ${scheduler.partition}` : 'default partition',
    ...(scheduler.account ? [`account ${scheduler.account}`] : []),
    ...(scheduler.qos ? [`QoS ${scheduler.qos}`] : []),
    ...(scheduler.gpuGres ? [`--gres=${scheduler.gpuGres}`] : []),
    scheduler.runtime,
  ].join(' · ');
}
