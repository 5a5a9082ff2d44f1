import type { Command } from 'commander';
import type { DatasetOverlap, DatasetPage, DatasetRow } from '../../shared/contract-datasets';
import { cellText, chatMessages, splitMarked } from '../../shared/datasets/dataset-rows';
import { AppError } from '../../shared/errors';
import { formatByteSize } from '../../shared/runs/duration';
import type { HostCliIo } from './cli-prompts';
import { json, table, terminalSafe } from './cli-output';
import { servicesRunner, type ServicesFactory, cli, type ConnectOptions } from './cli-services';

/**
 * `ptw data ls|show|overlap`: the datasets an agent wrote in a run's workspace, read on the host through the same
 * commands the Datasets tab uses. Exit codes: 0 ok (for `overlap`: no overlap found), 1 `overlap` found rows that
 * share n-grams with the test set, 2 usage, connection or host errors.
 */

function nonNegativeInt(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0)
      throw new AppError('INVALID_INPUT', `${flag} takes a whole number, not '${value}'`);
    return n;
  };
}

const safe = terminalSafe;

export function formatRow(row: DatasetRow): string {
  const where =
    row.row === null
      ? `at byte ${row.byte ?? '?'} (not counted yet)`
      : row.line === null
        ? `row ${row.row}`
        : `row ${row.row} (line ${row.line})`;
  if (row.error) return `${where}: ${row.error}\n  ${safe(cellText(row.raw ?? '', 400))}\n`;
  const chat = chatMessages(row.value);
  if (chat)
    return `${where}:\n${chat.map((m) => `  [${safe(m.role)}] ${safe(cellText(m.content, 400))}`).join('\n')}\n`;
  return `${where}: ${safe(cellText(row.value, 600))}\n`;
}

export function formatPage(page: DatasetPage): string {
  const numbered = page.rows.filter((r) => r.row !== null);
  const span =
    page.rows.length === 0
      ? 'no rows'
      : numbered.length === page.rows.length
        ? `rows ${page.rows[0]!.row}–${page.rows[page.rows.length - 1]!.row}`
        : `${page.rows.length} rows from byte ${page.byteStart ?? '?'}`;
  const index = page.index;
  const of =
    !index || index.complete
      ? `of ${page.total}`
      : `of at least ${page.total} (counting on the host: ${index.indexedBytes} of ${index.size} bytes)`;
  let out = `${page.path} (${page.format}): ${span} ${of}\n`;
  if (page.problemCount > 0) {
    out += `${page.problemCount} broken row(s): ${page.problems
      .slice(0, 10)
      .map((p) => (p.line === null ? `row ${p.row}` : `line ${p.line}`) + `: ${p.message}`)
      .join('; ')}\n`;
  }
  return out + page.rows.map(formatRow).join('');
}

/** Matched text in `[[…]]`, so the overlap is visible without colour. */
export function formatOverlap(result: DatasetOverlap): string {
  let out =
    `${result.path} vs ${result.benchmark} (${result.n}-grams; test set ${result.testRows} rows from ${result.testFiles.join(', ')}):\n` +
    `${result.rowsWithOverlap} of ${result.rowsScanned} rows share n-grams with ${result.testItemsMatched} test item(s)\n`;
  for (const hit of result.hits) {
    const where = hit.line === null ? `row ${hit.row}` : `row ${hit.row} (line ${hit.line})`;
    out += `\n${where}: ${hit.matchedNgrams}/${hit.totalNgrams} ${result.n}-grams; test item(s) ${hit.testItems.map((t) => t.index).join(', ')}\n`;
    for (const [field, text] of Object.entries(hit.fields)) {
      const pieces = splitMarked(
        text,
        hit.spans.filter((s) => s.field === field),
      );
      out += `  ${safe(field)}: ${safe(pieces.map((p) => (p.mark ? `[[${p.text}]]` : p.text)).join(''))}\n`;
    }
  }
  if (result.truncated) out += `\n(only the first ${result.hits.length} rows are listed)\n`;
  return out;
}

export function addDataCommands(program: Command, io: HostCliIo, open: ServicesFactory): void {
  const withServices = servicesRunner(io, open);
  const connect = (command: Command): Command =>
    command
      .option('--accept-new-host-key', 'trust an unknown host key and remember it (a changed key is still refused)')
      .option('--passphrase-env <var>', 'read an encrypted key’s passphrase from this environment variable');

  const data = program.command('data').description('Datasets the agent wrote in a run’s workspace (read on the host)');

  connect(
    data
      .command('ls')
      .description('List the datasets in a run’s workspace (JSONL, JSON, CSV, Parquet, HF save_to_disk folders)')
      .argument('<run>', 'run id')
      .option('--json', 'machine-readable output'),
  ).action(async (run: string, opts: ConnectOptions & { json?: boolean }) => {
    const list = await withServices(opts, (s) => s.router.call('datasets.list', { id: run }, cli));
    if (opts.json) return io.out(json(list));
    if (list.datasets.length === 0) return io.out(`No datasets in ${list.workspace} on ${list.host}.\n`);
    io.out(
      table([
        ['PATH', 'FORMAT', 'SIZE', 'ROWS'],
        ...list.datasets.map((d) => [
          safe(d.path),
          d.format,
          formatByteSize(d.size),
          d.rows === null ? '?' : String(d.rows) + (d.problems ? ` (${d.problems} broken)` : ''),
        ]),
      ]),
    );
    if (list.truncated) io.err('The workspace is large: the listing stopped early.\n');
  });

  connect(
    data
      .command('show')
      .description('Print rows of a dataset (PATH relative to the workspace)')
      .argument('<run>', 'run id')
      .argument('<path>', 'dataset path in the workspace, as `ptw data ls` prints it')
      .option('--offset <n>', 'first row (0-based)', nonNegativeInt('--offset'), 0)
      .option(
        '--byte <b>',
        'JSONL and CSV: rows from the first line starting at or after this byte (no need to wait for the row count)',
        nonNegativeInt('--byte'),
      )
      .option('--limit <m>', 'how many rows (at most 500)', nonNegativeInt('--limit'), 20)
      .option('--json', 'machine-readable output'),
  ).action(
    async (
      run: string,
      file: string,
      opts: ConnectOptions & { offset: number; limit: number; byte?: number; json?: boolean },
    ) => {
      const page = await withServices(opts, (s) =>
        s.router.call(
          'datasets.page',
          {
            id: run,
            path: file,
            offset: opts.offset,
            limit: opts.limit,
            ...(opts.byte !== undefined ? { byteOffset: opts.byte } : {}),
          },
          cli,
        ),
      );
      io.out(opts.json ? json(page) : formatPage(page));
    },
  );

  connect(
    data
      .command('overlap')
      .description('Rows sharing word n-grams with the benchmark’s test set (exit 1 when any do)')
      .argument('<run>', 'run id')
      .argument('<path>', 'dataset path in the workspace')
      .requiredOption(
        '--benchmark <name>',
        'benchmark name (e.g. gsm8k) or an absolute path to a test file on the host',
      )
      .option('--n <words>', 'n-gram length in words', nonNegativeInt('--n'), 13)
      .option('--json', 'machine-readable output'),
  ).action(
    async (run: string, file: string, opts: ConnectOptions & { benchmark: string; n: number; json?: boolean }) => {
      const result = await withServices(opts, (s) =>
        s.router.call('datasets.overlap', { id: run, path: file, benchmark: opts.benchmark, n: opts.n }, cli),
      );
      io.out(opts.json ? json(result) : formatOverlap(result));
      if (result.rowsWithOverlap > 0) io.setExitCode(1);
    },
  );
}
