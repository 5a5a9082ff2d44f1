import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A fake `nvidia-smi` for the test host (this machine, reached over SSH), so preflight's GPU checks run against
 * what a real H100 printed. It replays a real capture (test/fixtures/nvidia-smi/captures/, see PROVENANCE.md) and
 * never invents a value:
 *
 * - an invocation recorded in the capture (`nvidia-smi`, `-L`, `--version`, `-q`, `topo -m`, …) prints that
 *   section's body verbatim, from the chosen state (`idle` / `load`) or the state-free capabilities;
 * - `--query-gpu=FIELDS` and `--query-compute-apps=FIELDS` with `--format=csv[,noheader][,nounits]` project the
 *   requested columns out of the CSV the capture recorded for every field (as the capture's own upstream fake does);
 *   `nounits` drops the unit after a number, `noheader` the header line. The capture's idle compute-apps section is
 *   a header alone, so the idle state lists no processes;
 * - anything else prints nvidia-smi's own complaint and exits 2 ("a supplied argument or flag is invalid" in the
 *   nvidia-smi man page's RETURN VALUE list; 6 there means "a query to find an object was unsuccessful").
 *
 * The script is POSIX sh + awk, since it runs in the SSH session's shell like the real binary would.
 */

const here = path.dirname(fileURLToPath(import.meta.url));
export const NVIDIA_SMI_FIXTURES = path.resolve(here, '../fixtures/nvidia-smi');
export const H100_CAPTURE = path.join(
  NVIDIA_SMI_FIXTURES,
  'captures',
  'linux-x86_64__nvidia-h100-80gb-hbm3__590.48.01.txt',
);

export type CaptureState = 'idle' | 'load';

export interface CaptureSection {
  /** `capabilities`, `idle` or `load`. */
  state: string;
  label: string;
  /** The recorded command line, e.g. `nvidia-smi -L`; '' when the section has none. */
  command: string;
  /** The output, trailing separator blank lines dropped, ending in one newline (as the extracted fixtures are). */
  body: string;
}

const RULE = '#'.repeat(80);
const SECTION_TITLE = /^# (\S+) :: (.*)$/;

/**
 * Splits a nvidia_gpu_exporter capture into its sections: a rule, `# state :: label`, `# $ command`, a rule, then
 * the body up to the next rule that opens a section (bodies may themselves hold `#` lines, e.g. pmon's header).
 */
export function parseCapture(text: string): CaptureSection[] {
  const lines = text.split('\n');
  const starts: number[] = [];
  lines.forEach((line, i) => {
    if (line === RULE && SECTION_TITLE.test(lines[i + 1] ?? '')) starts.push(i);
  });
  return starts.map((start, k) => {
    const title = SECTION_TITLE.exec(lines[start + 1] ?? '');
    let headerEnd = start + 2;
    let command = '';
    while (headerEnd < lines.length && lines[headerEnd] !== RULE) {
      const recorded = /^# \$ (.*)$/.exec(lines[headerEnd] ?? '');
      if (recorded) command = recorded[1] ?? '';
      headerEnd++;
    }
    const end = starts[k + 1] ?? lines.length;
    const body = lines.slice(headerEnd + 1, end);
    while (body.length > 0 && body[body.length - 1] === '') body.pop();
    return {
      state: title?.[1] ?? '',
      label: title?.[2] ?? '',
      command,
      body: body.length > 0 ? `${body.join('\n')}\n` : '',
    };
  });
}

/** `"process_name" or "name"` lines of a `--help-query-*` section → alias → canonical name. */
export function parseFieldAliases(helpBody: string): Map<string, string> {
  const aliases = new Map<string, string>();
  for (const line of helpBody.split('\n')) {
    if (!/^"[^"]+"( or "[^"]+")+\s*$/.test(line)) continue;
    const [canonical, ...others] = [...line.matchAll(/"([^"]+)"/g)].map((m) => m[1] ?? '');
    for (const other of others) if (canonical) aliases.set(other, canonical);
  }
  return aliases;
}

/** The field list of a recorded `--query-…=a,b,c --format=csv` command. */
function recordedFields(command: string): string[] {
  const match = /--query-[\w-]+=(\S+)/.exec(command);
  if (!match?.[1]) throw new Error(`no field list in recorded command: ${command}`);
  return match[1].split(',');
}

function shQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** `--query-compute-apps` names a process's memory `used_gpu_memory` in its header; both names are accepted. */
export const COMPUTE_APPS_ALIASES: Record<string, string> = { used_memory: 'used_gpu_memory', name: 'process_name' };

/**
 * What `nvidia-smi --query-…=FIELDS --format=csv[,noheader][,nounits]` prints, cut from a captured CSV that has a
 * header: the projection the fake's awk makes, in TypeScript for unit tests (the integration test checks that the
 * two agree). Like nvidia-smi, `nounits` keeps the units in the header and drops them from values; placeholders
 * such as `[N/A]` stay.
 */
export function projectQueryCsv(
  csv: string,
  fields: readonly string[],
  format: { header: boolean; units: boolean },
  aliases: Record<string, string> = {},
): string {
  const [headerLine = '', ...rows] = csv.trimEnd().split('\n');
  const header = headerLine.split(',').map((cell) => cell.trim());
  const names = header.map((cell) => cell.replace(/\s*\[.*\]$/, ''));
  const columns = fields.map((field) => {
    const column = names.indexOf(aliases[field] ?? field);
    if (column < 0) throw new Error(`the captured CSV has no ${field} column`);
    return column;
  });
  const out = rows.map((row) => {
    const cells = row.split(',').map((cell) => cell.trim());
    return columns
      .map((c) => cells[c] ?? '')
      .map((value) => (format.units ? value : value.replace(/^(-?\d+(?:\.\d+)?) [A-Za-z%]+$/, '$1')))
      .join(', ');
  });
  if (format.header) out.unshift(columns.map((c) => header[c]).join(', '));
  return out.length > 0 ? `${out.join('\n')}\n` : '';
}

/** Projects requested CSV columns; run by the fake with the recorded field list and the request. */
const PROJECT_AWK = String.raw`
function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t\r]+$/, "", s); return s }
BEGIN {
  nrec = split(recorded, rec, ",")
  for (i = 1; i <= nrec; i++) col[rec[i]] = i
  na = split(aliases, al, ",")
  for (i = 1; i <= na; i++) { eq = index(al[i], "="); if (eq) canon[substr(al[i], 1, eq - 1)] = substr(al[i], eq + 1) }
  no = split(format, fo, ",")
  for (i = 1; i <= no; i++) { o = trim(fo[i]); if (o == "noheader") noheader = 1; else if (o == "nounits") nounits = 1 }
  nw = split(want, w, ",")
  for (j = 1; j <= nw; j++) {
    f = trim(w[j]); if (f in canon) f = canon[f]
    if (!(f in col)) { printf "Field \"%s\" is not a valid field to query.\n\n", trim(w[j]); exit 2 }
    pick[j] = col[f]
  }
  free = (freetext in col) ? col[freetext] : 0
}
{
  n = split($0, raw, ",")
  if (n == nrec) { for (i = 1; i <= n; i++) cell[i] = raw[i] }
  else if (NR > 1 && n > nrec && free > 0) {
    # The free-text column (a process name) may hold commas: keep them in that cell.
    extra = n - nrec
    for (i = 1; i < free; i++) cell[i] = raw[i]
    v = raw[free]; for (k = 1; k <= extra; k++) v = v "," raw[free + k]; cell[free] = v
    for (i = free + 1; i <= nrec; i++) cell[i] = raw[i + extra]
  } else { printf "fake nvidia-smi: %s line %d has %d cells, expected %d\n", FILENAME, NR, n, nrec > "/dev/stderr"; exit 70 }
  if (NR == 1 && noheader) next
  out = ""
  for (j = 1; j <= nw; j++) {
    v = trim(cell[pick[j]])
    if (NR > 1 && nounits && v ~ /^-?[0-9]+(\.[0-9]+)? [A-Za-z%]+$/) sub(/ [A-Za-z%]+$/, "", v)
    out = out (j > 1 ? ", " : "") v
  }
  print out
}
`;

export interface FakeNvidiaSmi {
  /** The folder holding `nvidia-smi`: put it first on the SSH session's PATH. */
  binDir: string;
  scriptPath: string;
  /** Section bodies and CSV sources the script reads (`<binDir>/nvidia-smi.d`). */
  dataDir: string;
  state: CaptureState;
  capturePath: string;
  /** The parsed capture, for tests to compare what the fake printed with what was recorded. */
  sections: CaptureSection[];
}

/**
 * Writes `<binDir>/nvidia-smi` and its data next to it. Nothing runs; the caller removes `binDir` when done.
 * `state` picks the idle or the under-load half of the capture (load: 3 processes hold the one H100).
 */
export async function writeFakeNvidiaSmi(opts: {
  binDir: string;
  state?: CaptureState;
  capturePath?: string;
}): Promise<FakeNvidiaSmi> {
  const state = opts.state ?? 'load';
  const capturePath = opts.capturePath ?? H100_CAPTURE;
  const sections = parseCapture(await readFile(capturePath, 'utf8'));
  const binDir = path.resolve(opts.binDir);
  const dataDir = path.join(binDir, 'nvidia-smi.d');
  await mkdir(dataDir, { recursive: true });

  const find = (wantedState: string, labelPrefix: string): CaptureSection => {
    const section = sections.find((s) => s.state === wantedState && s.label.startsWith(labelPrefix));
    if (!section) throw new Error(`${capturePath} has no "${wantedState} :: ${labelPrefix}…" section`);
    return section;
  };
  // The two CSV queries, answered by projecting columns; `kind` names their files in dataDir.
  const queries = [
    { kind: 'gpu', csv: find(state, 'query-gpu (csv'), help: find('capabilities', 'help-query-gpu') },
    { kind: 'apps', csv: find(state, 'query-compute-apps'), help: find('capabilities', 'help-query-compute-apps') },
  ];

  // Verbatim sections: every nvidia-smi invocation of this state or of the capabilities, the projected ones aside.
  const verbatim: { args: string; file: string }[] = [];
  for (const [i, section] of sections.entries()) {
    if (section.state !== state && section.state !== 'capabilities') continue;
    if (!/^nvidia-smi(\s|$)/.test(section.command)) continue;
    if (queries.some((q) => q.csv === section)) continue;
    const args = section.command
      .replace(/^nvidia-smi/, '')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .join(' ');
    if (verbatim.some((v) => v.args === args)) continue;
    const file = `section-${i}.txt`;
    await writeFile(path.join(dataDir, file), section.body);
    verbatim.push({ args, file });
  }
  for (const q of queries) await writeFile(path.join(dataDir, `${q.kind}.csv`), q.csv.body);
  await writeFile(path.join(dataDir, 'project.awk'), PROJECT_AWK);

  // The recorded field list and the alias table go next to the CSV, read back by the script.
  for (const q of queries) {
    const aliases = [...parseFieldAliases(q.help.body)].map(([alias, canonical]) => `${alias}=${canonical}`);
    await writeFile(path.join(dataDir, `${q.kind}.fields`), `${recordedFields(q.csv.command).join(',')}\n`);
    await writeFile(path.join(dataDir, `${q.kind}.aliases`), `${aliases.join(',')}\n`);
  }

  const script = `#!/bin/sh
# Fake nvidia-smi written by test/support/fake-nvidia-smi.ts. It replays ${path.basename(capturePath)}
# (state: ${state}), a real capture; see that file for what each answer is and where it comes from.
data=${shQuote(dataDir)}

invalid() {
  echo "Invalid combination of input arguments. Please run 'nvidia-smi -h' for help."
  exit 2
}

kind=''
query=''
format=''
if [ $# -eq 2 ]; then
  for arg in "$1" "$2"; do
    case $arg in
      --query-gpu=*) kind=gpu; query=\${arg#--query-gpu=} ;;
      --query-compute-apps=*) kind=apps; query=\${arg#--query-compute-apps=} ;;
      --format=*) format=\${arg#--format=} ;;
    esac
  done
fi
if [ -n "$kind" ] && [ -n "$format" ]; then
  case ",$format," in *,csv,*) ;; *) invalid ;; esac
  for option in $(printf '%s' "$format" | tr ',' ' '); do
    case $option in csv|noheader|nounits) ;; *) invalid ;; esac
  done
  # A process name is the one value that may itself hold commas.
  case $kind in apps) freetext=process_name ;; *) freetext='' ;; esac
  exec awk -v recorded="$(cat "$data/$kind.fields")" -v aliases="$(cat "$data/$kind.aliases")" \\
    -v want="$query" -v format="$format" -v freetext="$freetext" -f "$data/project.awk" "$data/$kind.csv"
fi

case "$*" in
${verbatim.map((v) => `  ${shQuote(v.args)}) cat "$data/${v.file}" ;;`).join('\n')}
  *) invalid ;;
esac
`;
  const scriptPath = path.join(binDir, 'nvidia-smi');
  await writeFile(scriptPath, script);
  await chmod(scriptPath, 0o755);
  return { binDir, scriptPath, dataDir, state, capturePath, sections };
}
