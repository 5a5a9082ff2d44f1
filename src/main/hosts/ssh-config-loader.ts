import { constants } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { matchStars } from './known-hosts';
import { DirectiveLexer, type LoadedFile, type ProblemList, type Statement } from './ssh-config-lexer';

/**
 * Loading an ssh_config: files read safely (regular files of bounded size), `Include` followed in place as OpenSSH
 * does (globs, `~`, relative to ~/.ssh, depth limit, loops stopped), and the permissions ssh would refuse.
 */

/** OpenSSH's READCONF_MAX_DEPTH: ssh refuses deeper Include nesting, and so do we (loops are caught earlier). */
const MAX_INCLUDE_DEPTH = 16;
/** Far beyond any real ssh_config; a bigger file (or an Include of /dev/zero) is refused, not read into memory. */
const MAX_CONFIG_BYTES = 1024 * 1024;

/** Reads a config file and every file its Includes name, in place, into statements (see the lexer). */
export class ConfigLoader {
  private readonly lexer: DirectiveLexer;

  constructor(
    private readonly homeDir: string,
    private readonly problems: ProblemList,
  ) {
    this.lexer = new DirectiveLexer(problems);
  }

  /** `~/…` for paths under the home folder, as the profile's `source` shows them. */
  display(file: string): string {
    const relative = path.relative(this.homeDir, file);
    return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative)
      ? `~/${relative.split(path.sep).join('/')}`
      : file;
  }

  /** `including`: the files whose Include led here, outermost first (to stop loops). */
  async load(file: string, text: string, including: readonly string[]): Promise<LoadedFile> {
    await this.checkPermissions(file);
    const statements: Statement[] = [];
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = (lines[i] ?? '').replace(/\r$/, '');
      const directive = this.lexer.read(file, i + 1, line);
      if (directive?.kind === 'include') {
        const files = await this.readInclude(directive.args, file, directive.line, [...including, file]);
        statements.push({ kind: 'include', file, line: directive.line, files });
      } else if (directive) statements.push(directive);
    }
    return { path: file, statements };
  }

  private async readInclude(
    args: readonly string[],
    file: string,
    line: number,
    including: readonly string[],
  ): Promise<LoadedFile[]> {
    const problem = (message: string) => this.problems.add(file, line, message);
    if (including.length > MAX_INCLUDE_DEPTH) {
      problem(`Include nested more than ${MAX_INCLUDE_DEPTH} levels deep; skipped`);
      return [];
    }
    const loaded: LoadedFile[] = [];
    for (const arg of args) {
      let pattern: string;
      if (arg === '~' || arg.startsWith('~/')) pattern = path.join(this.homeDir, arg.slice(1));
      else if (arg.startsWith('~')) {
        problem(`Include "${arg}": ~user paths are not supported`);
        continue;
      }
      // As OpenSSH does for user configs: relative Include paths live in ~/.ssh, not next to the including file.
      else if (!path.isAbsolute(arg)) pattern = path.join(this.homeDir, '.ssh', arg);
      else pattern = arg;

      const matches = await expandGlob(pattern);
      if (matches.length === 0) {
        problem(`Include "${arg}" matched no files (looked for ${this.display(pattern)})`);
        continue;
      }
      for (const match of matches) {
        // ssh would recurse until its depth limit; a glob that matches its own file would make that exponential.
        if (including.includes(match)) {
          const chain = [...including, match].map((f) => this.display(f)).join(' → ');
          problem(`Include loop (${chain}); ${this.display(match)} is not read again`);
          continue;
        }
        let text: string;
        try {
          text = await readConfigFile(match);
        } catch (err) {
          problem(`cannot read included file ${this.display(match)}: ${describeFsError(err)}`);
          continue;
        }
        loaded.push(await this.load(match, text, including));
      }
    }
    return loaded;
  }

  /** ssh refuses a user config that others may write (readconf.c, SSHCONF_CHECKPERM); say so up front. */
  private async checkPermissions(file: string): Promise<void> {
    if (process.platform === 'win32') return;
    try {
      const { mode } = await stat(file);
      if ((mode & 0o022) !== 0) {
        this.problems.add(
          file,
          0,
          `writable by group or others (mode ${(mode & 0o777).toString(8)}); ssh refuses such a config ` +
            '("Bad owner or permissions"); chmod 600 it',
        );
      }
    } catch {
      // Already read successfully; a failing stat here only means we cannot warn.
    }
  }
}

/**
 * A config file's text: a regular file of at most {@link MAX_CONFIG_BYTES}. Opened without blocking and checked on
 * the open handle, so a FIFO (which would wait for a writer forever), a device such as /dev/zero (endless) or a
 * huge file is refused with why, in bounded time and memory.
 */
export async function readConfigFile(file: string): Promise<string> {
  const info = await stat(file);
  if (info.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
  const handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const opened = await handle.stat();
    if (opened.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    if (!opened.isFile()) {
      const what = opened.isFIFO() ? 'a FIFO' : opened.isSocket() ? 'a socket' : 'a device';
      throw new Error(`is ${what}, not a regular file; not read`);
    }
    if (opened.size > MAX_CONFIG_BYTES) {
      throw new Error(`is ${opened.size} bytes, more than the ${MAX_CONFIG_BYTES / 1024 / 1024} MiB read; not read`);
    }
    const buffer = Buffer.alloc(MAX_CONFIG_BYTES + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > MAX_CONFIG_BYTES)
        throw new Error(`grew past ${MAX_CONFIG_BYTES / 1024 / 1024} MiB while read; not read`);
    }
    return buffer.subarray(0, length).toString('utf8');
  } finally {
    await handle.close();
  }
}

export function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return (err as Error).message;
}

// ---------------------------------------------------------------------------------------------------------------
// Include globs (glob(3) as OpenSSH calls it: *, ? and [...] per path segment; dot files only when named)

async function expandGlob(pattern: string): Promise<string[]> {
  const hasMagic = (segment: string) => /[*?[]/.test(segment);
  const { root } = path.parse(pattern);
  const segments = pattern
    .slice(root.length)
    .split(/[\\/]+/)
    .filter((s) => s !== '');
  let current = [root];
  for (const segment of segments) {
    const next: string[] = [];
    for (const dir of current) {
      if (!hasMagic(segment)) {
        next.push(path.join(dir, segment));
        continue;
      }
      let names: string[];
      try {
        names = await readdir(dir);
      } catch {
        continue;
      }
      const glob = parseGlobSegment(segment);
      for (const name of names) {
        if (name.startsWith('.') && !segment.startsWith('.')) continue;
        if (matchGlobSegment(name, glob)) next.push(path.join(dir, name));
      }
    }
    current = next;
  }
  const existing: string[] = [];
  for (const candidate of current) {
    if (
      await stat(candidate).then(
        () => true,
        () => false,
      )
    )
      existing.push(candidate);
  }
  // glob(3) returns its matches sorted; OpenSSH reads them in that order.
  return existing.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

type GlobToken =
  | { readonly kind: 'star' }
  | { readonly kind: 'one' }
  | { readonly kind: 'char'; readonly c: string }
  | { readonly kind: 'class'; readonly negate: boolean; readonly members: string };

/** One path segment of an Include glob: `*`, `?`, `[...]` (with ranges and `!`), anything else itself. */
function parseGlobSegment(segment: string): GlobToken[] {
  const tokens: GlobToken[] = [];
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i] as string;
    if (c === '*') {
      if (tokens.at(-1)?.kind !== 'star') tokens.push({ kind: 'star' });
    } else if (c === '?') tokens.push({ kind: 'one' });
    else if (c === '[') {
      // A "]" right after "[" or "[!" is a literal member, as in fnmatch(3).
      let j = i + 1;
      if (segment[j] === '!') j++;
      if (segment[j] === ']') j++;
      const close = segment.indexOf(']', j);
      if (close < 0) {
        tokens.push({ kind: 'char', c });
        continue;
      }
      let body = segment.slice(i + 1, close);
      const negate = body.startsWith('!');
      if (negate) body = body.slice(1);
      tokens.push({ kind: 'class', negate, members: body });
      i = close;
    } else tokens.push({ kind: 'char', c });
  }
  return tokens;
}

function inClass(c: string, members: string): boolean {
  for (let i = 0; i < members.length; i++) {
    if (members[i + 1] === '-' && i + 2 < members.length) {
      if (c >= members[i]! && c <= members[i + 2]!) return true;
      i += 2;
    } else if (members[i] === c) return true;
  }
  return false;
}

/** Greedy match with one backtrack point ({@link matchStars}): time bounded by name × pattern length. */
function matchGlobSegment(name: string, tokens: readonly GlobToken[]): boolean {
  return matchStars(
    name.length,
    tokens.length,
    (p) => tokens[p]!.kind === 'star',
    (p, n) => {
      const token = tokens[p]!;
      const c = name[n]!;
      return (
        token.kind === 'one' ||
        (token.kind === 'char' && token.c === c) ||
        (token.kind === 'class' && inClass(c, token.members) !== token.negate)
      );
    },
  );
}
