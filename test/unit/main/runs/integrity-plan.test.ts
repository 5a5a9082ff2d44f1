import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { integrityPlanFor } from '../../../../src/main/runs/integrity-plan';
import { hostProfileSchema } from '../../../../src/shared/hosts';
import { integrityPlanSchema } from '../../../../src/shared/runs/run-json';
import { runSpecSchema } from '../../../../src/shared/runs/run-spec';

describe('integrityPlanFor (run.json supervisor.integrity)', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });

  it("passes the host profile's references as host paths, the agent's own keys and the user's model pairs", async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'ptw-plan-'));
    dirs.push(home);
    await writeFile(path.join(home, 'integrity-models.json'), JSON.stringify({ 'org/base': 'org/instruct', bad: 3 }));
    const plan = integrityPlanFor({
      spec: runSpecSchema.parse({
        host: 'gpu-box',
        task: { kind: 'ptb', benchmark: 'gsm8k', baseModel: 'Qwen/Qwen3-1.7B-Base' },
        agent: { id: 'claude-code', model: 'claude-opus-4-6' },
      }),
      profile: hostProfileSchema.parse({
        name: 'gpu-box',
        kind: 'ssh',
        testSets: '~/test-sets',
        hfCache: '/data/hf',
        ptbCheckout: 'PostTrainBench',
      }),
      home: '/home/u',
      runRoot: '/home/u/posttrain-runs',
      secretNames: ['ANTHROPIC_API_KEY'],
      ptwHome: home,
    });
    expect(integrityPlanSchema.parse(plan)).toEqual(plan);
    expect(plan).toMatchObject({
      intervalSeconds: 300,
      benchmark: 'gsm8k',
      baseModel: 'Qwen/Qwen3-1.7B-Base',
      testSetsDirs: ['/home/u/test-sets', '/home/u/posttrain-runs/benchmarks'],
      hfCaches: ['/data/hf', '/home/u/.cache/huggingface/hub', '/home/u/.cache/huggingface'],
      ptbCheckout: '/home/u/PostTrainBench',
      pairs: ['org/base=org/instruct'],
    });
    // The key it was given and every credential the agent may use: reading those is no misuse.
    expect(plan.ownKeys).toEqual(expect.arrayContaining(['ANTHROPIC_API_KEY', 'CLAUDE_CODE_OAUTH_TOKEN']));
    expect(plan.ownKeys).not.toContain('OPENAI_API_KEY');
  });

  it('checks a rehearsal against its own test set and leaves out what the profile does not name', () => {
    const plan = integrityPlanFor({
      spec: runSpecSchema.parse({ host: 'box', task: { kind: 'rehearsal' }, agent: { id: 'rehearsal' } }),
      profile: hostProfileSchema.parse({ name: 'box', kind: 'ssh' }),
      home: '/root',
      runRoot: '/root/runs',
      secretNames: [],
      ptwHome: '/nonexistent',
    });
    // Its benchmark is the task's own test.jsonl (relative to the run folder).
    expect(plan.benchmark).toBe('rehearsal');
    expect(plan.testSetFiles).toEqual(['task/test.jsonl']);
    expect(plan.ptbCheckout).toBeUndefined();
    expect(plan.testSetsDirs).toEqual(['/root/runs/benchmarks']);
    expect(plan.pairs).toEqual([]);
  });
});
