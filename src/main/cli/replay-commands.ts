import type { Command } from 'commander';
import type { ReplayIndex } from '../../shared/contract-replay';
import { formatDuration } from '../../shared/runs/duration';
import type { AppServices } from '../app-services';
import type { HostCliIo } from './cli-prompts';
import { terminalSafe } from './cli-output';
import { cli, type ServicesFactory } from './cli-services';

/**
 * `ptw replay FILE`: any asciicast v2/v3 file (asciinema, Terminal-Bench, Harbor trials) in the indexed replay,
 * without a run. `--info` prints what the index found (header, duration, events, markers, problems by line) and
 * serves nothing; otherwise the app is served as `ptw serve` does, and the URL printed opens the recording.
 * Exit 0 when the file was read (problems on some lines included), 2 when it cannot be read as a cast at all.
 */

export function formatReplayInfo(file: string, index: ReplayIndex): string {
  const h = index.header;
  const lines = [
    `file:      ${terminalSafe(file)}`,
    `format:    asciicast v${h.version}, ${h.cols}×${h.rows}${h.termType ? ` (${terminalSafe(h.termType)})` : ''}`,
    `started:   ${h.startedAt === null ? '—' : new Date(h.startedAt).toISOString()}`,
    `duration:  ${formatDuration(index.duration)} (${index.duration.toFixed(3)} s)`,
    `events:    ${index.eventCount}`,
    `markers:   ${index.markers.length}`,
    `resizes:   ${index.resizes.length}`,
    `size:      ${index.bytes} bytes, ${index.segments.length} segment(s)`,
  ];
  if (h.title) lines.push(`title:     ${terminalSafe(h.title)}`);
  if (h.idleTimeLimit !== null) lines.push(`idle limit: ${h.idleTimeLimit} s`);
  if (index.exit) lines.push(`exit:      ${terminalSafe(index.exit.status)} at ${index.exit.t.toFixed(3)} s`);
  lines.push(`problems:  ${index.problemCount}`);
  for (const p of index.problems) lines.push(`  line ${p.line}: ${terminalSafe(p.message)}`);
  if (index.problemCount > index.problems.length) {
    lines.push(`  … ${index.problemCount - index.problems.length} more`);
  }
  return `${lines.join('\n')}\n`;
}

export function addReplayCommand(
  program: Command,
  io: HostCliIo,
  open: ServicesFactory,
  serve: (services: AppServices, key: string, file: string) => Promise<void>,
): void {
  program
    .command('replay')
    .description(
      'Play any asciicast file (v2 or v3: asciinema, Terminal-Bench, Harbor) in the indexed replay: serves the app ' +
        'and prints the URL (like ptw serve), or with --info prints its header, duration, events and problems',
    )
    .argument('<file>', 'an asciicast .cast file')
    .option('--info', 'print what the file holds and the problems found by line; serve nothing')
    .option('--json', 'machine-readable output (with --info)')
    .action(async (file: string, opts: { info?: boolean; json?: boolean }) => {
      const services = await open();
      let keep = false;
      // A file that cannot be read as a cast is a refusal that reaches runCli: printed, exit 2.
      // The first sight of a file indexes it (seconds for a large one): progress on a terminal, on one line.
      const stopProgress = io.isInteractive
        ? services.events.listen((event, payload) => {
            if (event !== 'replay.indexProgress') return;
            const p = payload as { bytesDone: number; bytesTotal: number; done: boolean };
            const mb = (n: number) => (n / 1048576).toFixed(0);
            io.err(
              p.done
                ? '\r\x1b[K'
                : `\rIndexing ${mb(p.bytesDone)} of ${mb(p.bytesTotal)} MB (${Math.floor((100 * p.bytesDone) / Math.max(1, p.bytesTotal))}%)…`,
            );
          })
        : () => undefined;
      try {
        const index = await services.router.call('replay.openFile', { path: file }, cli).finally(stopProgress);
        if (opts.info || opts.json) {
          io.out(opts.json ? `${JSON.stringify(index, null, 2)}\n` : formatReplayInfo(file, index));
          return;
        }
        if (index.problemCount > 0) {
          io.err(
            `${index.problemCount} line(s) of ${terminalSafe(file)} could not be read (ptw replay FILE --info lists them)\n`,
          );
        }
        keep = true;
        await serve(services, index.id, file);
      } finally {
        if (!keep) await services.dispose();
      }
    });
}
