import { describe, expect, it } from 'vitest';
import { schedulerFromOptions } from '../../../../src/main/cli/host-commands';
import { hostProfileSchema } from '../../../../src/shared/hosts';
import { schedulerText } from '../../../../src/renderer/hosts/scheduler-text';

describe('SLURM host profiles', () => {
  it('keeps old profiles valid: no scheduler means runs start directly', () => {
    const profile = hostProfileSchema.parse({ name: 'box', kind: 'ssh', hostname: 'gpu-box' });
    expect(profile.scheduler).toBeUndefined();
  });

  it('takes the SLURM settings, runtime docker by default', () => {
    const profile = hostProfileSchema.parse({
      name: 'cluster',
      kind: 'ssh',
      hostname: 'login1',
      scheduler: { kind: 'slurm', partition: 'gpu', account: 'lab-7', qos: 'normal' },
    });
    expect(profile.scheduler).toEqual({
      kind: 'slurm',
      partition: 'gpu',
      account: 'lab-7',
      qos: 'normal',
      runtime: 'docker',
    });
  });

  it('refuses a partition with shell syntax in it, naming the field', () => {
    const result = hostProfileSchema.safeParse({
      name: 'cluster',
      kind: 'ssh',
      scheduler: { kind: 'slurm', partition: 'gpu; rm -rf ~' },
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['scheduler', 'partition']);
  });

  it('builds the scheduler part from host add flags', () => {
    expect(schedulerFromOptions({ runtime: 'docker' })).toBeUndefined();
    expect(
      schedulerFromOptions({
        scheduler: 'slurm',
        partition: 'gpu',
        qos: 'high',
        runtime: 'apptainer',
        gpuGres: 'gpu:h100:1',
      }),
    ).toEqual({ kind: 'slurm', partition: 'gpu', qos: 'high', runtime: 'apptainer', gpuGres: 'gpu:h100:1' });
  });

  it('refuses SLURM flags without --scheduler slurm', () => {
    expect(() => schedulerFromOptions({ partition: 'gpu', runtime: 'docker' })).toThrow(
      /--partition only apply to SLURM hosts: add --scheduler slurm/,
    );
    expect(() => schedulerFromOptions({ runtime: 'podman' })).toThrow(/--runtime only apply to SLURM hosts/);
  });

  it('says in one line what a job gets from the profile', () => {
    expect(schedulerText({ kind: 'slurm', runtime: 'docker' })).toBe('SLURM · default partition · docker');
    expect(schedulerText({ kind: 'slurm', partition: 'gpu', account: 'lab', qos: 'normal', runtime: 'enroot' })).toBe(
      'SLURM · partition gpu · account lab · QoS normal · enroot',
    );
  });
});
