// Checkpoint listing and diffs computed on a real host (sshd + dockerd) through the built `ptw` CLI: checkpoints the
// test writes into a run's workspace (bf16, fp16 sharded, fp32, a LoRA adapter, a resized embedding, a broken
// header) and a base model in the host's HF cache; the numbers are checked against a reference computed here.
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, type ConnectConfig } from 'ssh2';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { CheckpointDiff, CheckpointList } from '../../src/shared/contract-checkpoints';
import { loadHostPackage } from '../../src/main/host-package/host-package';
import { startRunTestHost, type RunTestHost } from '../support/run-test-host';
import { referenceStats, representable, rng, writeCheckpoint, type TensorSpec } from '../support/safetensors-writer';
import { describeWithTestHost } from '../support/test-host-availability';

/** Runs a command on the test host over SSH, as the app does (the session's PATH and shell start-up included). */
function sshExec(config: ConnectConfig, command: string): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    client
      .on('ready', () => {
        client.exec(command, (err, stream) => {
          if (err) {
            client.end();
            reject(err);
            return;
          }
          let stdout = '';
          stream.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
          stream.stderr.on('data', () => undefined);
          stream.on('close', (code: number | null) => {
            client.end();
            resolve({ code: code ?? -1, stdout });
          });
        });
      })
      .on('error', reject)
      .connect(config);
  });
}

const HIDDEN = 16;
const VOCAB = 32;

function model(dtype: TensorSpec['dtype'], seed: number, vocab = VOCAB): TensorSpec[] {
  const random = rng(seed);
  const make = (name: string, shape: number[]): TensorSpec => {
    const n = shape.reduce((a, b) => a * b, 1);
    const raw = Array.from({ length: n }, () => (random() < 0.5 ? -1 : 1) * (0.01 + random() * 1.5));
    return { name, dtype, shape, values: representable(dtype, raw) };
  };
  const tensors = [make('model.embed_tokens.weight', [vocab, HIDDEN])];
  for (let layer = 0; layer < 2; layer++) {
    tensors.push(make(`model.layers.${layer}.self_attn.q_proj.weight`, [HIDDEN, HIDDEN]));
    tensors.push(make(`model.layers.${layer}.mlp.up_proj.weight`, [24, HIDDEN]));
    tensors.push(make(`model.layers.${layer}.input_layernorm.weight`, [HIDDEN]));
  }
  tensors.push(make('model.norm.weight', [HIDDEN]), make('lm_head.weight', [vocab, HIDDEN]));
  return tensors;
}

/** A copy with the named tensors perturbed by up to ±scale per element. */
function perturb(tensors: TensorSpec[], names: (name: string) => boolean, seed: number, scale = 0.05): TensorSpec[] {
  const random = rng(seed);
  return tensors.map((t) =>
    names(t.name)
      ? {
          ...t,
          values: representable(
            t.dtype,
            Array.from(t.values, (v) => v + (random() - 0.5) * 2 * scale),
          ),
        }
      : t,
  );
}

describeWithTestHost('checkpoints on a real host through the ptw CLI', () => {
  let t: RunTestHost;
  let hfCache: string;
  let runId: string;
  let workspace: string;
  /** The python3 the host's SSH sessions run, and its numpy version (null: none). */
  let hostPython: { executable: string; numpy: string | null };
  const base = model('BF16', 1);
  const partial = perturb(base, (n) => n.startsWith('model.layers.1.'), 2);
  const f32A = model('F32', 3);
  const f32B = perturb(f32A, () => true, 4, 0.2);
  const f16A = model('F16', 5);
  const f16B = perturb(f16A, (n) => n.includes('mlp'), 6, 0.1);

  beforeAll(async () => {
    hfCache = mkdtempSync(path.join(os.tmpdir(), 'ptw-hf-cache-'));
    t = await startRunTestHost({ nvidiaSmi: 'none', addFlags: ['--hf-cache', hfCache] });
    // Asked over SSH: the session's PATH and the login user's shell start-up decide which python3 the app gets.
    const probe = await sshExec(
      t.host.connectConfig(),
      `python3 -c 'import sys; print(sys.executable); import numpy; print(numpy.__version__)'`,
    );
    const [executable = '', numpy] = probe.stdout.trim().split('\n');
    expect(executable, 'python3 on the test host').toMatch(/python/);
    hostPython = { executable, numpy: probe.code === 0 && numpy ? numpy : null };
    runId = await t.startRun({ budget: '2m', env: { PTW_REHEARSAL_SECONDS: '1' } });
    workspace = path.join(t.runDir(runId), 'workspace');
    const ck = (name: string): string => path.join(workspace, 'ckpts', name);
    writeCheckpoint(ck('base-bf16'), base);
    writeCheckpoint(ck('same-bf16'), base, { config: { model_type: 'llama', note: 'same weights, other config' } });
    writeCheckpoint(ck('partial-bf16'), partial);
    writeCheckpoint(ck('a-f32'), f32A);
    writeCheckpoint(ck('b-f32'), f32B);
    writeCheckpoint(ck('a-f16'), f16A, { shards: 2 });
    writeCheckpoint(ck('b-f16'), f16B, { shards: 3 });
    // A resized vocabulary: 4 tokens added, the old rows kept.
    const resized = model('BF16', 1, VOCAB + 4).map((x) => {
      if (!['model.embed_tokens.weight', 'lm_head.weight'].includes(x.name))
        return base.find((b) => b.name === x.name)!;
      const old = base.find((b) => b.name === x.name)!;
      const values = new Float64Array(x.values);
      values.set(old.values);
      return { ...x, values };
    });
    writeCheckpoint(ck('resized-bf16'), resized);
    const loraRandom = rng(9);
    const lora = (name: string, shape: number[]): TensorSpec => ({
      name,
      dtype: 'BF16',
      shape,
      values: representable(
        'BF16',
        Array.from({ length: shape[0]! * shape[1]! }, () => loraRandom() - 0.5),
      ),
    });
    writeCheckpoint(
      ck('lora-adapter'),
      [0, 1].flatMap((l) => [
        lora(`base_model.model.model.layers.${l}.self_attn.q_proj.lora_A.weight`, [4, HIDDEN]),
        lora(`base_model.model.model.layers.${l}.self_attn.q_proj.lora_B.weight`, [HIDDEN, 4]),
      ]),
      {
        adapterConfig: {
          peft_type: 'LORA',
          r: 4,
          lora_alpha: 8,
          target_modules: ['q_proj'],
          base_model_name_or_path: 'test-org/tiny-base',
        },
      },
    );
    // A header that declares more bytes than the file has.
    mkdirSync(ck('broken'), { recursive: true });
    writeFileSync(path.join(ck('broken'), 'config.json'), '{}');
    const bad = Buffer.alloc(64);
    bad.writeBigUInt64LE(1_000_000n);
    writeFileSync(path.join(ck('broken'), 'model.safetensors'), bad);
    // The base model in the host's HF cache (refs/main → snapshot).
    const repo = path.join(hfCache, 'models--test-org--tiny-base');
    mkdirSync(path.join(repo, 'refs'), { recursive: true });
    writeFileSync(path.join(repo, 'refs', 'main'), 'abc1234def');
    // As the hub library lays it out: snapshot files are links to content-addressed blobs.
    mkdirSync(path.join(repo, 'blobs'), { recursive: true });
    mkdirSync(path.join(repo, 'snapshots', 'abc1234def'), { recursive: true });
    for (const name of ['config.json', 'model.safetensors']) {
      cpSync(path.join(ck('base-bf16'), name), path.join(repo, 'blobs', `blob-${name}`));
      symlinkSync(`../../blobs/blob-${name}`, path.join(repo, 'snapshots', 'abc1234def', name));
    }
    // In the workspace a link is the agent's choice (it could name any file on the host): listed, never read.
    mkdirSync(ck('linked'), { recursive: true });
    writeFileSync(path.join(ck('linked'), 'config.json'), '{}');
    symlinkSync(path.join(ck('base-bf16'), 'model.safetensors'), path.join(ck('linked'), 'model.safetensors'));
  });

  afterAll(async () => {
    await t?.cleanup();
    if (hfCache) rmSync(hfCache, { recursive: true, force: true });
  });

  async function diff(a: string, b: string): Promise<CheckpointDiff> {
    const result = await t.ptw(['ckpt', 'diff', runId, a, b, '--json']);
    expect(result.code, result.stderr).toBe(0);
    return JSON.parse(result.stdout) as CheckpointDiff;
  }

  function expectMatchesReference(d: CheckpointDiff, a: TensorSpec[], b: TensorSpec[]): void {
    for (const ta of a) {
      const tb = b.find((x) => x.name === ta.name)!;
      const row = d.tensors.find((r) => r.name === ta.name)!;
      const ref = referenceStats(ta.values, tb.values);
      if (ref.l2Delta === 0) {
        expect(row.status, ta.name).toBe('same');
        continue;
      }
      expect(row.status, ta.name).toBe('changed');
      expect(row.l2Delta! / ref.l2Delta, `${ta.name} l2Delta`).toBeCloseTo(1, 9);
      expect(row.l2A! / ref.l2A, `${ta.name} l2A`).toBeCloseTo(1, 9);
      expect(row.relChange! / ref.relChange, `${ta.name} relChange`).toBeCloseTo(1, 9);
      expect(row.cosine!, `${ta.name} cosine`).toBeCloseTo(ref.cosine, 9);
      expect(row.maxAbs!, `${ta.name} maxAbs`).toBeCloseTo(ref.maxAbs, 12);
    }
  }

  it('lists every checkpoint with size, dtype and parameter count; a bad header is named, the rest still listed', async () => {
    const result = await t.ptw(['ckpt', 'ls', runId, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const list = JSON.parse(result.stdout) as CheckpointList;
    const byId = new Map(list.checkpoints.map((c) => [c.id, c]));
    const params = base.reduce((s, x) => s + x.values.length, 0);
    expect(byId.get('workspace/ckpts/base-bf16')).toMatchObject({
      kind: 'full',
      parameterCount: params,
      dtypes: { BF16: params },
      tensorCount: base.length,
      problems: [],
    });
    expect(byId.get('workspace/ckpts/a-f16')).toMatchObject({
      index: 'model.safetensors.index.json',
      files: ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'],
      parameterCount: params,
      dtypes: { F16: params },
    });
    expect(byId.get('workspace/ckpts/lora-adapter')).toMatchObject({
      kind: 'lora',
      adapter: { rank: 4, alpha: 8, targetModules: ['q_proj'], baseModel: 'test-org/tiny-base' },
    });
    const broken = byId.get('workspace/ckpts/broken')!;
    expect(broken.problems.join('\n')).toMatch(
      /broken\/model\.safetensors: header declares 1000000 bytes but the file has only 56 after the length/,
    );

    expect(byId.get('workspace/ckpts/linked')!.problems).toEqual([
      `${path.join(workspace, 'ckpts', 'linked', 'model.safetensors')} is a symbolic link; links in the workspace are not followed`,
    ]);

    const text = await t.ptw(['ckpt', 'ls', runId]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/workspace\/ckpts\/a-f16\s+full\s+[\d.]+ KiB\s+2\.4K\s+F16/);
    expect(text.stdout).toContain('2 shards');
  });

  it('identical checkpoints: nothing changed, every tensor the same; config differences still shown', async () => {
    const d = await diff('workspace/ckpts/base-bf16', 'workspace/ckpts/same-bf16');
    expect(d.flags.map((f) => f.kind)).toEqual(['nothing-changed']);
    expect(d.totals).toMatchObject({ same: base.length, changed: 0, added: 0, removed: 0 });
    const config = d.configs.find((c) => c.name === 'config.json')!;
    expect(config.a).not.toEqual(config.b);
    expect(config.b).toContain('same weights, other config');
    // Only summaries crossed SSH: the host package (uploaded once per process, base64 on stdin) is most of it, and the
    // rest is a few KiB of results, far below the two checkpoints' weights.
    const pkg = await loadHostPackage(path.resolve(__dirname, '..', '..', 'resources'));
    const upload = Math.ceil(pkg.bytes.length / 3) * 4;
    expect(d.stats.bytesTransferred).toBeGreaterThan(upload);
    expect(d.stats.bytesTransferred - upload).toBeLessThan(64_000);
  });

  it('a partly trained bf16 checkpoint: the right tensors changed, numbers match the reference', async () => {
    const d = await diff('workspace/ckpts/base-bf16', 'workspace/ckpts/partial-bf16');
    expect(d.flags.map((f) => f.kind)).toEqual(['partial-fine-tune']);
    expect(d.totals.changed).toBe(3);
    expectMatchesReference(d, base, partial);

    const text = await t.ptw(['ckpt', 'diff', runId, 'workspace/ckpts/base-bf16', 'workspace/ckpts/partial-bf16']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('flag partial-fine-tune: 3 of 9 comparable tensors changed');
    // Progress from the host arrived while it ran (the helper always reports at least its last step).
    expect(text.stderr).toMatch(/diffing: \d+\/9 tensors, .* read/);
    expect(text.stdout).toMatch(/model\.layers\.1\.self_attn\.q_proj\.weight\s+changed\s+BF16\s+\[16,16\]/);

    // The engine the host used: numpy where its python3 has it (CI installs python3-numpy), else pure Python + a hint.
    if (process.env.CI === 'true') expect(hostPython.numpy, `${hostPython.executable} imports numpy`).not.toBeNull();
    expect(d.stats.engine).toBe(hostPython.numpy ? 'numpy' : 'python');
    if (hostPython.numpy) {
      expect(d.stats.numpyVersion).toBe(hostPython.numpy);
      expect(text.stdout).toContain(`computed on host with numpy ${hostPython.numpy}, ${d.stats.jobs} process`);
    } else {
      expect(text.stdout).toContain('computed on host with python');
      expect(text.stdout).toContain('hint: pure Python: install numpy for the host’s python3');
    }
  });

  it('fp32 all changed reads as a full fine-tune; fp16 across differently sharded checkpoints matches too', async () => {
    const full = await diff('workspace/ckpts/a-f32', 'workspace/ckpts/b-f32');
    expect(full.flags.map((f) => f.kind)).toEqual(['full-fine-tune']);
    expectMatchesReference(full, f32A, f32B);

    const half = await diff('workspace/ckpts/a-f16', 'workspace/ckpts/b-f16');
    expect(half.flags.map((f) => f.kind)).toEqual(['partial-fine-tune']);
    expect(half.totals.changed).toBe(2);
    expectMatchesReference(half, f16A, f16B);
  });

  it('a resized embedding and a LoRA adapter are flagged', async () => {
    const resized = await diff('workspace/ckpts/base-bf16', 'workspace/ckpts/resized-bf16');
    expect(resized.flags.map((f) => f.kind)).toEqual(['embedding-resized']);
    expect(resized.flags[0]!.detail).toContain('model.embed_tokens.weight 32×16 → 36×16 (+4 rows)');
    expect(resized.tensors.find((r) => r.name === 'lm_head.weight')!.status).toBe('shape-changed');
    expect(resized.totals).toMatchObject({ reshaped: 2, same: base.length - 2 });

    const adapter = await diff('hf:test-org/tiny-base', 'workspace/ckpts/lora-adapter');
    expect(adapter.flags.map((f) => f.kind)).toEqual(['lora']);
    expect(adapter.flags[0]!.detail).toBe('workspace/ckpts/lora-adapter is a LORA adapter (rank 4, alpha 8) on q_proj');
    expect(adapter.totals).toMatchObject({ added: 4, removed: base.length });
  });

  it('a checkpoint identical to the base model in the HF cache is flagged as such', async () => {
    const d = await diff('workspace/ckpts/same-bf16', 'hf:test-org/tiny-base');
    expect(d.flags.map((f) => f.kind)).toEqual(['identical-to-reference']);
    expect(d.flags[0]!.detail).toContain('base model test-org/tiny-base');
    expect(d.b.path).toContain(path.join('models--test-org--tiny-base', 'snapshots', 'abc1234def'));
  });

  it('a broken checkpoint fails its diff with the file named; unknown names list what exists', async () => {
    const broken = await t.ptw(['ckpt', 'diff', runId, 'workspace/ckpts/base-bf16', 'workspace/ckpts/broken']);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(
      /Cannot diff workspace\/ckpts\/broken: .*model\.safetensors: header declares 1000000 bytes/,
    );
    const unknown = await t.ptw(['ckpt', 'diff', runId, 'workspace/ckpts/base-bf16', 'workspace/nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('No checkpoint workspace/nope');
    expect(unknown.stderr).toContain('workspace/ckpts/base-bf16');
    const twoBases = await t.ptw(['ckpt', 'diff', runId, 'base', 'hf:test-org/tiny-base']);
    expect(twoBases.code).toBe(2);
    expect(twoBases.stderr).toContain('Only one side of a diff can come from the HF cache');
  });

  it('prints the agent’s names escaped: ESC and OSC sequences in folder and tensor names never reach the terminal', async () => {
    // A folder name that would set the terminal's title and a tensor name that would clear the screen and recolour.
    const hostile = `evil-\u001b]0;pwned\u0007-\u009b2J`;
    writeCheckpoint(path.join(workspace, 'ckpts', hostile), [
      ...base.slice(1),
      { ...base[0]!, name: 'model.\u001b[2J\u001b[31mred.weight' },
    ]);
    const listed = await t.ptw(['ckpt', 'ls', runId]);
    expect(listed.code, listed.stderr).toBe(0);
    const diffed = await t.ptw(['ckpt', 'diff', runId, 'workspace/ckpts/base-bf16', `workspace/ckpts/${hostile}`]);
    expect(diffed.code, diffed.stderr).toBe(0);
    const unknown = await t.ptw([
      'ckpt',
      'diff',
      runId,
      'workspace/ckpts/base-bf16',
      `workspace/\u001b]52;c;aGk=\u0007`,
    ]);
    expect(unknown.code).toBe(2);
    for (const [what, text] of [
      ['ckpt ls', listed.stdout],
      ['ckpt diff', diffed.stdout],
      ['an error quoting a name', unknown.stderr],
    ] as const) {
      // eslint-disable-next-line no-control-regex
      expect(text, what).not.toMatch(/[\u001b\u0007\u009b]/);
    }
    expect(listed.stdout).toContain('evil-\\x1b]0;pwned\\x07-\\x9b2J');
    expect(diffed.stdout).toContain('model.\\x1b[2J\\x1b[31mred.weight');
    expect(unknown.stderr).toContain('\\x1b]52;c;aGk=\\x07');
    // JSON is for programs: the names are there exactly, JSON-escaped.
    const json = await t.ptw(['ckpt', 'ls', runId, '--json']);
    expect((JSON.parse(json.stdout) as CheckpointList).checkpoints.map((c) => c.id)).toContain(
      `workspace/ckpts/${hostile}`,
    );
  });

  it('diffs a checkpoint of one run against one of another run on the same host, and says whose', async () => {
    const other = await t.startRun({ budget: '2m', env: { PTW_REHEARSAL_SECONDS: '1' } });
    writeCheckpoint(path.join(t.runDir(other), 'workspace', 'ckpts', 'partial-bf16'), partial);
    const inRun = await t.ptw([
      'ckpt',
      'diff',
      runId,
      'workspace/ckpts/base-bf16',
      'workspace/ckpts/partial-bf16',
      '--json',
    ]);
    const across = await t.ptw([
      'ckpt',
      'diff',
      runId,
      'workspace/ckpts/base-bf16',
      'workspace/ckpts/partial-bf16',
      '--b-run',
      other,
      '--json',
    ]);
    expect(across.code, across.stderr).toBe(0);
    const a = JSON.parse(inRun.stdout) as CheckpointDiff;
    const b = JSON.parse(across.stdout) as CheckpointDiff;
    // The same weights in another run folder: the same numbers, B named with its run.
    expect(b.totals).toEqual(a.totals);
    expect(b.b.id).toBe(`${other}:workspace/ckpts/partial-bf16`);
    expect(b.b.path.startsWith(t.runDir(other))).toBe(true);
    const missing = await t.ptw([
      'ckpt',
      'diff',
      runId,
      'workspace/ckpts/base-bf16',
      'workspace/ckpts/nope',
      '--b-run',
      other,
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`No checkpoint workspace/ckpts/nope in run ${other}`);
  });
});
