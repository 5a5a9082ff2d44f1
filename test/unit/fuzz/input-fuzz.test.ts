// Every import and parser of files other tools write, over a fuzzed corpus: real files (test/fixtures, see
// PROVENANCE.md) truncated, with bytes flipped, huge and non-finite numbers, invalid UTF-8, control characters and
// deep nesting spliced in. Each input must give a result inside the contract, or a clear problem on that item (an
// AppError or the parser's own named error, with a message) — never an internal error (TypeError, RangeError…),
// a hang past a bound, or a result the contract would refuse. The corpus is seeded, so a failure names its input.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { runDetailSchema, runSummarySchema } from '../../../src/shared/contract';
import {
  agentStepSchema,
  ptbImportResultSchema,
  runTimelineSchema,
  stepsPageSchema,
  stepTotalsSchema,
} from '../../../src/shared/contract-trajectory';
import { replayIndexSchema } from '../../../src/shared/contract-replay';
import { AppError } from '../../../src/shared/errors';
import { hostNameSchema, sshConfigCandidateSchema } from '../../../src/shared/hosts';
import { exactJsonText, JsonRowError, parseJsonExact } from '../../../src/shared/datasets/exact-json';
import { parseCastHeader, CastEventReader, CastHeaderError } from '../../../src/shared/replay/asciicast';
import {
  NvidiaSmiParseError,
  parseComputeApps,
  parseGpuInventory,
  parseGpuSamples,
  parseNvidiaSmiList,
  parseNvidiaSmiTable,
} from '../../../src/shared/parsers/nvidia-smi';
import { parseGpuCsv } from '../../../src/shared/runs/gpu-csv';
import { parseEventsJsonl } from '../../../src/shared/runs/run-status';
import { parseCsvRecords, cellText, chatMessages } from '../../../src/shared/datasets/dataset-rows';
import { parseAgentStream } from '../../../src/shared/trajectory/agent-steps';
import {
  errorLogCause,
  parseAgentConfigName,
  parseJudgement,
  parseSolveDiagnostics,
  parseTaskFolderName,
  parseTimeTaken,
} from '../../../src/shared/trajectory/ptb-result';
import { parseKnownHosts } from '../../../src/main/hosts/known-hosts';
import { importSshConfig } from '../../../src/main/hosts/ssh-config-import';
import { CastIndex } from '../../../src/main/replay/cast-index';
import { RunService } from '../../../src/main/runs/run-service';
import { importPtbResults } from '../../../src/main/trajectory/ptb-import';
import { TrajectoryService } from '../../../src/main/trajectory/trajectory-service';
import { hostPackageArgv, hostPackageEnv } from '../../support/host-package-cli';

const FIXTURES = path.resolve('test/fixtures');
const SEED = Number(process.env.PTW_FUZZ_SEED ?? 16);
const PER_SEED = Number(process.env.PTW_FUZZ_COUNT ?? 24);
/** Far above any of these parsers on a file this size; a parser that loops or backtracks blows through it. */
const BOUND_MS = 3000;

/** mulberry32: small, seeded, good enough to pick offsets. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const enc = new TextEncoder();
const HUGE = [
  '1e400',
  '-1e400',
  '99999999999999999999999999999',
  '9007199254740993',
  '-0',
  '1e-400',
  'NaN',
  'Infinity',
];
const DEEP = 5000;

interface Mutant {
  name: string;
  bytes: Uint8Array;
}

function splice(bytes: Uint8Array, at: number, remove: number, insert: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length - remove + insert.length);
  out.set(bytes.subarray(0, at), 0);
  out.set(insert, at);
  out.set(bytes.subarray(at + remove), at + insert.length);
  return out;
}

/** Mutants of one seed file: the kinds of damage real files and a hostile writer produce. */
function mutants(label: string, seed: Uint8Array, count = PER_SEED, seedNo = SEED): Mutant[] {
  const r = rng(seedNo ^ hash(label));
  const pick = (n: number) => Math.floor(r() * n);
  const out: Mutant[] = [{ name: `${label}: as is`, bytes: seed }];
  const kinds = ['truncate', 'flip', 'huge', 'utf8', 'deep-array', 'deep-object', 'control', 'number-swap'] as const;
  for (let i = 0; i < count; i++) {
    const kind = kinds[i % kinds.length]!;
    const at = pick(seed.length + 1);
    let bytes: Uint8Array;
    switch (kind) {
      case 'truncate':
        bytes = seed.subarray(0, at);
        break;
      case 'flip': {
        bytes = seed.slice();
        for (let k = 0; k < 1 + pick(6) && bytes.length > 0; k++) bytes[pick(bytes.length)] = pick(256);
        break;
      }
      case 'huge':
        bytes = splice(seed, at, 0, enc.encode(HUGE[pick(HUGE.length)]!));
        break;
      case 'utf8':
        bytes = splice(
          seed,
          at,
          0,
          Uint8Array.from([[0xff], [0xc3], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80]][pick(4)]!),
        );
        break;
      case 'deep-array':
        bytes = splice(seed, at, 0, enc.encode(`${'['.repeat(DEEP)}1${']'.repeat(DEEP)}`));
        break;
      case 'deep-object':
        bytes = splice(seed, at, 0, enc.encode(`${'{"a":'.repeat(DEEP)}1${'}'.repeat(DEEP)}`));
        break;
      case 'control':
        bytes = splice(seed, at, 0, enc.encode(['\u0000', '\u001b[2J', '\r', '\u2028', '\ufeff'][pick(5)]!));
        break;
      case 'number-swap': {
        // A number in the file replaced by a huge or non-finite one, where the file has numbers.
        const text = new TextDecoder().decode(seed);
        const numbers = [...text.matchAll(/-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g)];
        const m = numbers.length > 0 ? numbers[pick(numbers.length)]! : null;
        bytes = m
          ? enc.encode(`${text.slice(0, m.index)}${HUGE[pick(HUGE.length)]}${text.slice(m.index! + m[0].length)}`)
          : seed;
        break;
      }
    }
    out.push({ name: `${label}: ${kind} #${i} at ${at}`, bytes });
  }
  return out;
}

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** A thrown error is a clear problem when it is one the app means to throw, with a message. */
function isClearProblem(err: unknown): boolean {
  return (
    (err instanceof AppError ||
      err instanceof CastHeaderError ||
      err instanceof NvidiaSmiParseError ||
      err instanceof JsonRowError) &&
    err.message.length > 0
  );
}

/** Runs `fn` on a mutant: a result that `check` accepts, or a clear problem; and within the bound. */
async function expectClear<T>(mutant: Mutant, fn: () => T | Promise<T>, check: (value: T) => void): Promise<void> {
  const started = performance.now();
  let value: T | undefined;
  let thrown: unknown = null;
  try {
    value = await fn();
  } catch (err) {
    thrown = err;
  }
  const ms = performance.now() - started;
  if (ms > BOUND_MS) throw new Error(`${mutant.name}: took ${Math.round(ms)} ms (bound ${BOUND_MS} ms)`);
  if (thrown !== null) {
    if (isClearProblem(thrown)) return;
    const e = thrown as Error;
    throw new Error(`${mutant.name}: internal error ${e?.name}: ${e?.message}`, { cause: thrown });
  }
  try {
    check(value as T);
  } catch (err) {
    throw new Error(`${mutant.name}: result outside the contract: ${(err as Error).message}`, { cause: err });
  }
}

async function fixture(rel: string): Promise<Uint8Array> {
  return new Uint8Array(await readFile(path.join(FIXTURES, rel)));
}

const PTB_RUN = 'posttrainbench/runs/codex_non_api_high_gpt-5.4_10h_run1/gsm8k_Qwen_Qwen3-1.7B-Base_16934887';

describe('fuzzed inputs: agent streams and PostTrainBench files', () => {
  it('parses every mutant of a Claude Code and a Codex stream into steps inside the contract', async () => {
    const seeds = [
      ['claude stream', await fixture('agent-streams/claude-code/gleam-sdk__basic_query.stream.ndjson')],
      ['codex ptb trace', await fixture(`${PTB_RUN}/solve_out.txt`)],
    ] as const;
    for (const [label, seed] of seeds) {
      for (const m of mutants(label, seed)) {
        await expectClear(
          m,
          () => parseAgentStream(text(m.bytes)),
          (parsed) => {
            z.array(agentStepSchema).parse(parsed.steps);
            stepTotalsSchema.parse(parsed.totals);
            // A line no parser knows is shown raw and counted, with why.
            for (const s of parsed.steps)
              if (s.kind === 'raw' && s.problem !== undefined) expect(s.problem).not.toBe('');
          },
        );
      }
    }
  });

  it('reads every mutant of the result files (metrics, time_taken, judge verdicts, output.log, error.log)', async () => {
    const judgement = enc.encode(
      JSON.stringify({
        contamination: false,
        disallowed_model: true,
        justification_contamination: 'only the train split',
        justification_disallowed_model: 'loaded the instruct model',
      }),
    );
    const judgementShape = z.array(
      z.object({
        check: z.string(),
        flagged: z.boolean().nullable(),
        text: z.string(),
        problem: z.string().optional(),
      }),
    );
    for (const m of mutants('judgement json', judgement)) {
      await expectClear(
        m,
        () => parseJudgement('judgement_gpt5_4.json', text(m.bytes)),
        (v) => judgementShape.parse(v),
      );
    }
    for (const m of mutants('judgement txt', enc.encode('contamination detected\nreads test.jsonl\n'))) {
      await expectClear(
        m,
        () => parseJudgement('contamination_judgement.txt', text(m.bytes)),
        (v) => judgementShape.parse(v),
      );
    }
    for (const m of mutants('time_taken', enc.encode('05:12:00\n'))) {
      await expectClear(
        m,
        () => parseTimeTaken(text(m.bytes)),
        (v) => {
          if (v !== null) expect(Number.isFinite(v) && v >= 0).toBe(true);
        },
      );
    }
    for (const m of mutants(
      'output.log',
      enc.encode('x\n--- SOLVE DIAGNOSTICS ---\nexit_code: 124\nmax_rss_gb: 77\n\n'),
    )) {
      await expectClear(
        m,
        () => parseSolveDiagnostics(text(m.bytes)),
        (v) => z.record(z.string(), z.string()).parse(v),
      );
      await expectClear(
        m,
        () => errorLogCause(text(m.bytes)),
        (v) => z.string().nullable().parse(v),
      );
    }
    for (const m of mutants('folder names', enc.encode('codex_non_api_high_gpt-5.4_10h_run1'))) {
      await expectClear(
        m,
        () => parseAgentConfigName(text(m.bytes)),
        (v) => {
          expect(v.agent).not.toBe('');
          if (v.budgetHours !== null) expect(Number.isFinite(v.budgetHours)).toBe(true);
        },
      );
      await expectClear(
        m,
        () => parseTaskFolderName(text(m.bytes)),
        (v) => expect(typeof v.benchmark).toBe('string'),
      );
    }
  });
});

describe('fuzzed inputs: PostTrainBench import end to end', () => {
  let work: string;

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'ptw-fuzz-ptb-'));
  });

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('imports each mutated folder whole or lists it with why; every run it makes reads back inside the contract', async () => {
    const trace = await fixture(`${PTB_RUN}/solve_out.txt`);
    const metrics = await fixture(`${PTB_RUN}/metrics.json`);
    const results = path.join(work, 'results', 'codex_non_api_high_gpt-5.4_10h_run1');
    const files: Array<[string, Uint8Array]> = [
      ['solve_out.txt', trace],
      ['metrics.json', metrics],
      ['time_taken.txt', enc.encode('05:12:00\n')],
      [
        'judgement_gpt5_4.json',
        enc.encode('{"contamination": false, "disallowed_model": false, "justification_contamination": "none"}'),
      ],
      ['error.log', enc.encode('Terminated\n')],
    ];
    let n = 0;
    for (const [name, seed] of files) {
      for (const m of mutants(`ptb ${name}`, seed, 8)) {
        const dir = path.join(results, `gsm8k_Qwen_Qwen3-1.7B-Base_${1000 + n++}`);
        await mkdir(dir, { recursive: true });
        for (const [other, bytes] of files) await writeFile(path.join(dir, other), other === name ? m.bytes : bytes);
      }
    }
    const runsDir = path.join(work, 'home', 'runs');
    const started = performance.now();
    const result = ptbImportResultSchema.parse(await importPtbResults(runsDir, path.join(work, 'results')));
    expect(performance.now() - started).toBeLessThan(BOUND_MS * n);
    // Every folder accounted for: imported or skipped with a reason, none lost.
    expect(result.imported.length + result.skipped.length).toBe(n);
    for (const s of result.skipped) expect(s.reason).not.toMatch(/TypeError|RangeError|Cannot read prop|undefined/);

    const runs = new RunService({
      home: path.join(work, 'home'),
      session: () => Promise.reject(new Error('no host for an imported run')),
      profile: () => Promise.reject(new Error('no profile')),
      profiles: async () => [],
      secrets: { get: async () => undefined },
      appVersion: 'test',
      by: 'test',
    });
    const trajectory = new TrajectoryService(runsDir);
    try {
      const listed = z.array(runSummarySchema).parse(await runs.list());
      expect(listed).toHaveLength(result.imported.length);
      for (const s of listed) expect(['starting', 'unreadable', 'unknown']).not.toContain(s.status);
      for (const one of result.imported) {
        runDetailSchema.parse(await runs.get(one.id));
        stepsPageSchema.parse(await trajectory.steps({ id: one.id, offset: 0, limit: 50 }));
        runTimelineSchema.parse(await trajectory.timeline(one.id));
      }
    } finally {
      await runs.dispose();
    }
  });
});

describe('fuzzed inputs: recordings, checkpoints, GPUs, run records, datasets', () => {
  let work: string;

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'ptw-fuzz-files-'));
  });

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('indexes every mutant of an asciicast v2 and v3 file, or says what is wrong with it', async () => {
    const seeds = [
      ['cast v2', await fixture('asciinema/asciinema-server__v2-full.cast')],
      ['cast v3', await fixture('asciinema/asciinema-cli__full-v3.cast')],
    ] as const;
    let n = 0;
    for (const [label, seed] of seeds) {
      // v3 intervals that add up past any finite duration.
      const extra: Mutant = {
        name: `${label}: intervals to infinity`,
        bytes: enc.encode(`${text(seed).split('\n')[0]}\n[1e308, "o", "a"]\n[1e308, "o", "b"]\n[1, "o", "c"]\n`),
      };
      for (const m of [...mutants(label, seed, 16), extra]) {
        const file = path.join(work, `cast-${n}.cast`);
        await writeFile(file, m.bytes);
        const cache = path.join(work, `cache-${n++}`);
        await expectClear(
          m,
          () => CastIndex.open(file, cache),
          (index) => {
            const contract = replayIndexSchema.parse(index.toContract('r'));
            for (const p of contract.problems) expect(p.message).not.toBe('');
          },
        );
        await expectClear(
          m,
          () => {
            const lines = text(m.bytes).split('\n');
            const header = parseCastHeader(lines[0]!);
            const reader = new CastEventReader(header.version);
            for (const line of lines.slice(1)) reader.read(line);
            return reader.time;
          },
          (t) => expect(Number.isFinite(t)).toBe(true),
        );
      }
    }
  });

  it('reads every mutant of nvidia-smi output, gpu.csv and events.jsonl', async () => {
    const smi: Array<[string, (t: string) => unknown]> = [
      ['nvidia-smi/extracted/h100-80gb-hbm3__load__query-gpu-all-fields.csv.txt', parseGpuInventory],
      ['nvidia-smi/extracted/h100-80gb-hbm3__load__query-gpu-all-fields.csv.txt', parseGpuSamples],
      ['nvidia-smi/extracted/h100-80gb-hbm3__load__query-compute-apps.csv.txt', parseComputeApps],
      ['nvidia-smi/extracted/h100-80gb-hbm3__list-L.txt', parseNvidiaSmiList],
      ['nvidia-smi/extracted/h100-80gb-hbm3__load__default-table.txt', parseNvidiaSmiTable],
    ];
    for (const [rel, parse] of smi) {
      for (const m of mutants(rel, await fixture(rel), 12)) {
        await expectClear(
          m,
          () => parse(text(m.bytes)),
          (v) => expect(v).toBeDefined(),
        );
      }
    }
    const gpuCsv = enc.encode(
      't,index,utilization,memory_used_mib,memory_total_mib,power_w,temperature_c\n1741255200000,0,97,70000,81559,650.5,61\n',
    );
    for (const m of mutants('gpu.csv', gpuCsv)) {
      await expectClear(
        m,
        () => parseGpuCsv(text(m.bytes)),
        (v) => expect(v).toBeDefined(),
      );
    }
    const events = enc.encode(
      '{"t":1741255200000,"type":"agent-started","deadline":1741291200000}\n{"t":1741255260000,"type":"warning","secondsLeft":3600}\n',
    );
    for (const m of mutants('events.jsonl', events)) {
      await expectClear(
        m,
        () => parseEventsJsonl(text(m.bytes), 'events.jsonl'),
        (v) => {
          for (const p of v.problems) expect(p.message).not.toBe('');
        },
      );
    }
  });

  it('reads every mutant of a dataset file (JSON lines, CSV) into rows and cells', async () => {
    const seed = await fixture('benchmarks/gsm8k__test.head20.jsonl');
    for (const m of mutants('gsm8k jsonl', seed, 16)) {
      await expectClear(
        m,
        () => {
          const out: string[] = [];
          for (const line of text(m.bytes).split('\n')) {
            let value: unknown;
            try {
              // The app's row parser (exact numbers, bounded depth); a line it refuses is that row's problem.
              value = parseJsonExact(line);
            } catch (err) {
              if (!(err instanceof JsonRowError)) throw err;
              continue;
            }
            expect(typeof exactJsonText(value)).toBe('string');
            chatMessages(value);
            out.push(cellText(value));
          }
          return out;
        },
        (v) => expect(Array.isArray(v)).toBe(true),
      );
      await expectClear(
        m,
        () => parseCsvRecords(text(m.bytes)),
        (v) => expect(Array.isArray(v)).toBe(true),
      );
    }
  });

  it('runs the host dataset helper over every mutant at once: an answer with per-row problems, never a traceback', async () => {
    const seed = await fixture('benchmarks/gsm8k__test.head20.jsonl');
    const rows = mutants('gsm8k rows', seed, 40).flatMap((m) => [Buffer.from(m.bytes), Buffer.from('\n')]);
    const workspace = path.join(work, 'data-ws');
    mkdirSync(workspace, { recursive: true });
    writeFileSync(path.join(workspace, 'rows.jsonl'), Buffer.concat(rows));
    for (const args of [
      ['index', '--cache-dir', path.join(work, 'data-cache')],
      ['stats'],
      ['search', '--query', 'the'],
    ]) {
      const started = performance.now();
      const r = spawnSync(
        'python3',
        hostPackageArgv('data', [args[0]!, '--workspace', workspace, '--file', 'rows.jsonl', ...args.slice(1)]),
        {
          encoding: 'utf8',
          timeout: 60_000,
          env: hostPackageEnv(),
        },
      );
      expect(performance.now() - started).toBeLessThan(30_000);
      expect(r.stderr, args[0]).toBe('');
      expect(r.status, args[0]).toBe(0);
      const answer = parseJsonExact(r.stdout, Number.MAX_SAFE_INTEGER) as { problems?: Array<{ message: string }> };
      for (const p of answer.problems ?? []) expect(p.message).not.toBe('');
    }
  });
});

describe('fuzzed inputs: ssh_config and known_hosts', () => {
  let work: string;

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'ptw-fuzz-ssh-'));
  });

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('imports every mutant of an ssh_config: candidates and problems by line, or one clear error', async () => {
    const seed = await fixture('ssh/openssh-portable__ssh_config');
    const extra = enc.encode(
      'Host ok\n  HostName 10.0.0.1\nHost [fe80::1]\n  User x\nHost ' +
        '*'.repeat(2000) +
        'a\n  User y\nHost esc\n  HostName evil\u001b[2J.example\n',
    );
    let n = 0;
    for (const m of [...mutants('ssh_config', seed, 16), ...mutants('ssh_config extra', extra, 8)]) {
      const file = path.join(work, `config-${n++}`);
      await writeFile(file, m.bytes);
      await expectClear(
        m,
        () => importSshConfig(file, { homeDir: work, localUser: 'me' }),
        (v) => {
          for (const p of [...v.problems, ...v.notImported]) expect(p.message).not.toBe('');
          // Every candidate can become a profile: a name a profile cannot have is listed as not imported instead.
          for (const c of v.candidates) hostNameSchema.parse(c.alias);
          z.array(sshConfigCandidateSchema).parse(v.candidates);
        },
      );
    }
  });

  it('reads every mutant of a known_hosts file', async () => {
    const seed = await fixture('ssh/openssh-portable__regress_hostkeys_known_hosts');
    for (const m of mutants('known_hosts', seed, 16)) {
      await expectClear(
        m,
        () => parseKnownHosts(text(m.bytes), 'known_hosts'),
        (v) => expect(v).toBeDefined(),
      );
    }
  });
});
