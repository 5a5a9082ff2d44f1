import type { Command } from 'commander';
import type { CheckpointDiff, CheckpointInfo, CheckpointList, TensorDiff } from '../../shared/contract-checkpoints';
import { diffEngineText } from '../../shared/checkpoints/checkpoint-diff';
import { formatByteSize } from '../../shared/runs/duration';
import type { HostCliIo } from './cli-prompts';
import { table, terminalSafe } from './cli-output';
import { addConnectOptions, servicesRunner, type ServicesFactory, cli, type ConnectOptions } from './cli-services';

/**
 * `ptw ckpt ls RUN` and `ptw ckpt diff RUN A B`: the Checkpoints tab's commands, in-process. The work happens on the
 * run's host (`ptw-host.pyz inspect`); only summaries come back. Exit codes as everywhere: 0 ok, 2 usage,
 * connection or a checkpoint that cannot be read.
 */

function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}K`;
  return String(n);
}

function dtypeText(info: CheckpointInfo): string {
  return Object.entries(info.dtypes)
    .sort((x, y) => y[1] - x[1])
    .map(([d]) => d)
    .join('+');
}

export function formatCheckpointList(list: CheckpointList): string {
  const rows = [...list.checkpoints, ...(list.base ? [list.base] : [])];
  let text = '';
  if (rows.length === 0) text += `No checkpoints under ${list.hostRunDir}/workspace.\n`;
  else {
    text += table([
      ['CHECKPOINT', 'KIND', 'SIZE', 'PARAMS', 'DTYPE', 'MODIFIED', 'NOTES'],
      ...rows.map((c) => [
        c.id,
        c.kind + (c.origin === 'hf-cache' ? ' (base)' : ''),
        formatByteSize(c.sizeBytes),
        formatCount(c.parameterCount),
        dtypeText(c),
        c.mtime ? new Date(c.mtime).toISOString().replace(/\.\d+Z$/, 'Z') : '—',
        [c.label ?? '', c.index ? `${c.files.length} shards` : '', ...c.problems].filter(Boolean).join('; '),
      ]),
    ]);
  }
  for (const p of list.problems) text += `problem: ${p}\n`;
  return text;
}

const num = (x: number | null, digits = 4): string => (x === null ? '—' : x === 0 ? '0' : x.toPrecision(digits));
const shape = (s: number[] | null): string => (s ? `[${s.join(',')}]` : '—');

function tensorRow(t: TensorDiff): string[] {
  const dtype = t.dtypeA === t.dtypeB ? (t.dtypeA ?? '') : `${t.dtypeA ?? '—'}→${t.dtypeB ?? '—'}`;
  const shapes = t.status === 'shape-changed' ? `${shape(t.shapeA)}→${shape(t.shapeB)}` : shape(t.shapeA ?? t.shapeB);
  return [t.name, t.status, dtype, shapes, num(t.l2Delta), num(t.relChange), num(t.cosine, 6), num(t.maxAbs)];
}

export function formatCheckpointDiff(diff: CheckpointDiff): string {
  const t = diff.totals;
  const lines = [
    `A: ${diff.a.id}  (${diff.a.path})`,
    `B: ${diff.b.id}  (${diff.b.path})`,
    `tensors: ${t.tensors}  changed ${t.changed}  same ${t.same}  added ${t.added}  removed ${t.removed}  reshaped ${t.reshaped}`,
    ...diff.flags.map((f) => `flag ${f.kind}: ${f.detail}`),
    `host: ${diff.stats.seconds.toFixed(2)} s, read ${formatByteSize(diff.stats.bytesRead)} there; ${formatByteSize(diff.stats.bytesTransferred)} crossed SSH`,
  ];
  const engine = diffEngineText(diff.stats);
  lines.push(engine.line, ...(engine.hint ? [`hint: ${engine.hint}`] : []));
  const shown = diff.tensors.filter((x) => x.status !== 'same');
  let text = lines.join('\n') + '\n';
  if (shown.length > 0) {
    text +=
      '\n' +
      table([
        ['TENSOR', 'STATUS', 'DTYPE', 'SHAPE', 'L2(Δ)', 'REL', 'COSINE', 'MAX|Δ|'],
        ...shown
          .sort((x, y) => (y.relChange ?? -1) - (x.relChange ?? -1) || x.name.localeCompare(y.name))
          .map(tensorRow),
      ]);
  }
  if (t.same > 0) text += `(${t.same} identical tensor(s) not shown)\n`;
  // Why a tensor could not be compared (an unknown dtype, a header the diff cannot decode): the agent's file's words.
  for (const x of diff.tensors.filter((x) => x.status === 'not-compared' && x.problem)) {
    text += `not compared: ${x.name}: ${x.problem}\n`;
  }
  const changedConfigs = diff.configs.filter((c) => c.a !== c.b).map((c) => c.name);
  if (changedConfigs.length > 0) text += `config files that differ: ${changedConfigs.join(', ')}\n`;
  return text;
}

export function addCkptCommands(program: Command, io: HostCliIo, open: ServicesFactory): void {
  const withServices = servicesRunner(io, open);
  const ckpt = program.command('ckpt').description("A run's checkpoints on its host: list them, diff two");

  addConnectOptions(
    ckpt
      .command('ls')
      .argument('<run>', 'run id (ptw run ls)')
      .description(
        'List the checkpoints in the run folder (final_model/ and any folder with config.json and safetensors)',
      ),
  ).action(async (run: string, opts: ConnectOptions) => {
    const list = await withServices(opts, (s) => s.router.call('checkpoints.list', { id: run }, cli));
    // Checkpoint folders, shard names and problems are the agent's words: escaped before they reach the terminal.
    io.out(opts.json ? JSON.stringify(list, null, 2) + '\n' : terminalSafe(formatCheckpointList(list)));
  });

  addConnectOptions(
    ckpt
      .command('diff')
      .argument('<run>', 'run id')
      .argument('<a>', 'a checkpoint from ptw ckpt ls (e.g. workspace/final_model), base, or hf:ORG/NAME')
      .argument('<b>', 'the other checkpoint')
      .option('--b-run <run>', "B is a checkpoint of this other run on the same host (e.g. the two runs' final models)")
      .description('Diff two checkpoints on the host: per-tensor change, flags, config files'),
  ).action(async (run: string, a: string, b: string, opts: ConnectOptions & { bRun?: string }) => {
    const diff = await withServices(opts, async (s) => {
      let last = 0;
      const detach = s.events.attach((event, payload) => {
        if (event !== 'checkpoints.diffProgress' || opts.json) return;
        const p = payload as { tensorsDone: number; tensorsTotal: number; bytesDone: number; bytesTotal: number };
        const now = Date.now();
        if (now - last < 1000) return;
        last = now;
        io.err(
          `diffing: ${p.tensorsDone}/${p.tensorsTotal} tensors, ${formatByteSize(p.bytesDone)} of ${formatByteSize(p.bytesTotal)} read\n`,
        );
      });
      try {
        return await s.router.call(
          'checkpoints.diff',
          { id: run, a, b, ...(opts.bRun ? { bRun: opts.bRun } : {}) },
          cli,
        );
      } finally {
        detach();
      }
    });
    // Tensor names, config keys and paths are the agent's words: escaped before they reach the terminal.
    io.out(opts.json ? JSON.stringify(diff, null, 2) + '\n' : terminalSafe(formatCheckpointDiff(diff)));
  });
}
