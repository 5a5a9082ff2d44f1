// `ptw host setup` against a real sshd + dockerd: the checkout cloned over SSH from a local bare repository (then
// updated to a new revision), a container definition whose From: is a locally built test image translated and built
// by the test dockerd through the SSH tunnel (log streamed, step n of m, layer cache reused, a failing %post line
// named), and the ready check saying what is missing. Nothing is pulled from a registry.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { SetupReport } from '../../src/shared/contract-host-setup';
import { brokenDef, goodDef, makePtbRepo } from '../support/ptb-repo';
import { PYTHON_IMAGE, startRunTestHost, type RunTestHost } from '../support/run-test-host';
import { terminateChild } from '../support/process-tree';
import { describeWithTestHost } from '../support/test-host-availability';

const WEIGHTS = Buffer.alloc(6 * 1024 * 1024, 7);

/** The fake hub (test/host/fake_hub.py) as a child process: its endpoint, once it says it. */
async function startFakeHub(
  work: string,
  cut: Record<string, number>,
): Promise<{ child: ChildProcess; endpoint: string }> {
  const spec = path.join(work, 'hub-spec.json');
  await writeFile(
    spec,
    JSON.stringify({
      repos: [
        {
          kind: 'model',
          repo: 'test-org/tiny-base',
          sha: 'a'.repeat(40),
          files: {
            'config.json': Buffer.from('{"model_type":"llama"}').toString('hex'),
            'model.safetensors': WEIGHTS.toString('hex'),
          },
        },
      ],
      cut,
    }),
  );
  const child = spawn('python3', [path.resolve(__dirname, '../host/fake_hub.py'), spec], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const endpoint = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const match = /ENDPOINT (\S+)/.exec(out);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`the fake hub exited with ${code}`)));
  });
  return { child, endpoint };
}

describeWithTestHost('ptw host setup on a real host', () => {
  let t: RunTestHost;
  let origin: string;
  let revisions: [string, string];
  let hfCache: string;
  let hub: ChildProcess | undefined;

  beforeAll(async () => {
    hfCache = await mkdtemp(path.join(os.tmpdir(), 'ptw-setup-hf-'));
    t = await startRunTestHost({ nvidiaSmi: 'none', addFlags: ['--hf-cache', hfCache] });
    ({ origin, revisions } = await makePtbRepo(t.work, {
      standard: goodDef(PYTHON_IMAGE),
      broken: brokenDef(PYTHON_IMAGE),
    }));
  }, 300_000);

  afterAll(async () => {
    if (hub) await terminateChild(hub, 3_000);
    await t?.cleanup();
    if (hfCache) await rm(hfCache, { recursive: true, force: true });
  });

  const setup = async (...args: string[]): Promise<{ code: number | null; report: SetupReport; stderr: string }> => {
    const result = await t.ptw(['host', 'setup', t.hostName, ...args, '--json'], {}, 600_000);
    return { code: result.code, report: JSON.parse(result.stdout) as SetupReport, stderr: result.stderr };
  };

  it('clones the checkout at a revision, then updates it; an existing one is reported and skipped', async () => {
    const dir = path.join(t.work, 'host-ptb');
    const cloned = await setup(
      '--steps',
      'checkout',
      '--ptb-checkout',
      dir,
      '--ptb-repo',
      origin,
      '--ptb-rev',
      revisions[0]!,
    );
    expect(cloned.code, JSON.stringify(cloned.report)).toBe(0);
    expect(cloned.report.steps).toEqual([
      expect.objectContaining({
        step: 'checkout',
        status: 'done',
        summary: expect.stringContaining(`at ${revisions[0]!.slice(0, 12)}`),
      }),
    ]);
    expect(cloned.report.steps[0]!.summary).toContain('1 task(s)');
    expect(cloned.report.steps[0]!.summary).toContain('no local changes');
    expect(cloned.report.ptbCheckout).toBe(dir);

    const again = await setup('--steps', 'checkout');
    expect(again.report.steps[0]).toMatchObject({
      status: 'skipped',
      summary: expect.stringMatching(/^already set up: /),
    });

    await writeFile(path.join(dir, 'src/eval/general/prompt.txt'), 'changed here\n');
    const updated = await setup(
      '--steps',
      'checkout',
      '--ptb-checkout',
      dir,
      '--ptb-repo',
      origin,
      '--ptb-rev',
      revisions[1]!,
    );
    // A local change that the new revision does not touch survives the update, and is reported.
    expect(updated.report.steps[0]).toMatchObject({ status: 'done' });
    expect(updated.report.steps[0]!.summary).toContain(`at ${revisions[1]!.slice(0, 12)}`);
    expect(updated.report.steps[0]!.summary).toContain('1 locally changed file(s)');

    const notPtb = path.join(t.work, 'not-ptb');
    await mkdir(notPtb);
    const refused = await setup('--steps', 'checkout', '--ptb-checkout', notPtb);
    expect(refused.code).toBe(1);
    expect(refused.report.steps[0]).toMatchObject({
      status: 'failed',
      summary: expect.stringContaining('is not a PostTrainBench checkout'),
    });
    // The profile still names the good checkout: a failed step changes nothing.
    expect(refused.report.ptbCheckout).toBe(dir);
  }, 300_000);

  it('builds the run image from the checkout’s definition over SSH, and reuses it the second time', async () => {
    const built = await setup('--steps', 'image');
    expect(built.code, JSON.stringify(built.report, null, 2)).toBe(0);
    const step = built.report.steps[0]!;
    expect(step).toMatchObject({ step: 'image', status: 'done' });
    expect(built.report.image).toMatch(/^ptw-ptb\/standard:[0-9a-f]{12}$/);
    expect(step.log.join('\n')).toMatch(/Step 1\/\d+ : FROM ptw-test\/debian-python3:1/);
    // Each %post command in the log as `sh -x` shows it (dash quotes arguments with spaces).
    expect(
      step.log.some((l) => /^\+ echo '?post ran'?$/.test(l)),
      step.log.join('\n'),
    ).toBe(true);
    const inspected = await t.docker.getImage(built.report.image!).inspect();
    expect(inspected.Config.Env).toEqual(expect.arrayContaining(['PTB_FLAVOUR=test']));
    expect(inspected.Config.Env?.find((e) => e.startsWith('PATH='))).toMatch(/^PATH=\/opt\/bin:/);
    expect(inspected.Config.Labels).toMatchObject({ Version: 'v1.0' });
    // The host's runs now use it (what `ptw host ls --json` shows).
    const listed = await t.ptw(['host', 'ls', '--json']);
    expect(JSON.parse(listed.stdout)[0].requiredImages[0]).toBe(built.report.image);

    const again = await setup('--steps', 'image');
    expect(again.report.steps[0]).toMatchObject({ status: 'skipped' });
    expect(again.report.image).toBe(built.report.image);
  }, 600_000);

  it('names the failing %post command of a build that fails, and keeps the image it had', async () => {
    const before = (await t.ptw(['host', 'ls', '--json'])).stdout;
    const failed = await setup('--steps', 'image,ready', '--def', 'broken');
    expect(failed.code).toBe(1);
    expect(failed.report.steps[0]).toMatchObject({
      step: 'image',
      status: 'failed',
      summary: expect.stringContaining('the build failed in %post at: ls /definitely/not/here'),
    });
    expect(failed.report.steps[1]).toMatchObject({ step: 'ready', status: 'not-run' });
    expect((await t.ptw(['host', 'ls', '--json'])).stdout).toBe(before);
    const text = await t.ptw(['host', 'setup', t.hostName, '--steps', 'image', '--def', 'broken']);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('FAIL  image');
    expect(text.stderr).toMatch(/image: \[\d+\/\d+\] Step/);
  }, 600_000);

  it('says what is missing before the host is ready for benchmark runs', async () => {
    const ready = await setup('--steps', 'ready');
    expect(ready.code).toBe(1);
    const summary = ready.report.steps[0]!.summary;
    expect(summary).toContain('not ready for benchmark runs');
    expect(summary).toContain('torch is not importable');
    expect(summary).toContain('has no NVIDIA GPU');
    // Preflight runs first: the test dockerd has no NVIDIA runtime, and says so.
    expect(summary).toContain('preflight: ');
  }, 300_000);

  it('fetches the models and data sets into the HF cache, resuming a cut download, and says when all are there', async () => {
    const started = await startFakeHub(t.work, { 'model.safetensors': 2_000_000 });
    hub = started.child;
    const fetched = await setup('--steps', 'caches', '--hf-endpoint', started.endpoint);
    expect(fetched.code, JSON.stringify(fetched.report, null, 2)).toBe(0);
    const step = fetched.report.steps[0]!;
    expect(step).toMatchObject({ step: 'caches', status: 'done' });
    // The checkout's list plus every base model and its instruct counterpart (the integrity checks need them).
    expect(step.summary).toMatch(/^9 model\(s\) and 1 data set\(s\) are in /);
    expect(step.log.join('\n')).toContain('connection lost, resuming');
    const snapshot = path.join(
      hfCache,
      'hub',
      'models--test-org--tiny-base',
      'snapshots',
      'a'.repeat(40),
      'model.safetensors',
    );
    expect(readlinkSync(snapshot)).toMatch(/^\.\.\/\.\.\/blobs\//);
    expect(readFileSync(snapshot).equals(WEIGHTS)).toBe(true);
    expect(existsSync(path.join(hfCache, 'hub', 'models--Qwen--Qwen3-4B', 'refs', 'main'))).toBe(true);
    expect(existsSync(path.join(hfCache, 'hub', 'datasets--test-org--math', 'refs', 'main'))).toBe(true);

    const again = await setup('--steps', 'caches', '--hf-endpoint', started.endpoint);
    expect(again.report.steps[0]).toMatchObject({
      status: 'skipped',
      summary: expect.stringContaining('all there already'),
    });
  }, 300_000);
});
