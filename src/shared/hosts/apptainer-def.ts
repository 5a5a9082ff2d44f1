/**
 * PostTrainBench's container definitions (`containers/*.def`, Apptainer format) translated into a Dockerfile plus the
 * files its build context needs, so the run image is built by the host's Docker from the checkout's own recipe
 * (docs/host-setup.md). Pure: the caller reads the definition and the `%files` sources and streams the context.
 *
 * Translated: the `Bootstrap: docker` / `From:` header, `%files` (before `%post`, as Apptainer does), `%post` (one
 * script, run with `sh -e -x` or the `-c` shell it names, so the build log shows each command and stops at the first
 * failure), `%environment` (`export NAME=value` lines become ENV, applied after `%post` as at run time), `%labels`,
 * `%runscript` (kept as /.ptw/runscript, not the entrypoint: the app gives each container its own command) and
 * `%help` (kept as a label). Anything else is refused with the line it is on.
 */

export interface DefTranslation {
  dockerfile: string;
  /** Files the build context must hold: `context` path in the tar ← `source` relative to the checkout root. */
  files: { context: string; source: string }[];
  /** Generated files for the context (the %post script, the runscript), by context path. */
  generated: Record<string, string>;
  /** The base image (`From:`). */
  from: string;
  /** How many Dockerfile instructions the build has ("step n of m" in the classic builder's log). */
  steps: number;
  /** What was kept but changed in meaning (a %runscript that is no entrypoint, %help as a label). */
  notes: string[];
}

export class DefTranslationError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    why: string,
  ) {
    super(`${file}${line > 0 ? ` line ${line}` : ''}: ${why}`);
    this.name = 'DefTranslationError';
  }
}

const SUPPORTED_SECTIONS = new Set(['post', 'files', 'environment', 'runscript', 'labels', 'help']);
const REFUSED_SECTIONS: Record<string, string> = {
  setup: 'it runs on the build host as root, outside the container; a Docker build cannot (and must not) do that',
  test: 'Apptainer runs it after the build; run its commands in %post or as a separate check',
  startscript: 'it is for Apptainer instances (services), which runs here do not use',
  arguments: 'build arguments are not supported; write the values into the definition',
};
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

interface Section {
  name: string;
  args: string;
  line: number;
  body: { text: string; line: number }[];
}

/** Double-quoted for a Dockerfile: `\` and `"` escaped; `$` kept for Docker's own substitution when `expand`. */
function dockerQuote(value: string, expand: boolean): string {
  let out = value.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  if (!expand) out = out.replace(/\$/g, '\\$');
  return `"${out}"`;
}

/** A shell value as `export` gives it: `"a $B"` (expands), `'a $B'` (literal), or bare. */
function shellValue(raw: string, file: string, line: number): { value: string; expand: boolean } {
  const text = raw.trim();
  if (text.startsWith('"')) {
    if (!text.endsWith('"') || text.length < 2)
      throw new DefTranslationError(file, line, 'an unclosed " in %environment');
    const inner = text.slice(1, -1);
    if (/(^|[^\\])"/.test(inner)) throw new DefTranslationError(file, line, 'more than one quoted value on the line');
    if (/`|\$\(/.test(inner)) {
      throw new DefTranslationError(file, line, 'a command substitution in %environment cannot become a Docker ENV');
    }
    return { value: inner.replace(/\\(["\\$`])/g, '$1'), expand: true };
  }
  if (text.startsWith("'")) {
    if (!text.endsWith("'") || text.length < 2)
      throw new DefTranslationError(file, line, "an unclosed ' in %environment");
    return { value: text.slice(1, -1), expand: false };
  }
  if (/\s/.test(text)) throw new DefTranslationError(file, line, 'one NAME=value per line, please (found more)');
  if (/`|\$\(/.test(text)) {
    throw new DefTranslationError(file, line, 'a command substitution in %environment cannot become a Docker ENV');
  }
  return { value: text, expand: true };
}

/** Splits a definition into its header (`Key: value`) and `%sections`. */
function parse(
  text: string,
  file: string,
): { header: Map<string, { value: string; line: number }>; sections: Section[] } {
  const header = new Map<string, { value: string; line: number }>();
  const sections: Section[] = [];
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  lines.forEach((raw, index) => {
    const line = index + 1;
    const section = /^%([A-Za-z]+)\b\s*(.*)$/.exec(raw);
    if (section) {
      sections.push({ name: section[1]!.toLowerCase(), args: section[2]!.trim(), line, body: [] });
      return;
    }
    const current = sections.at(-1);
    if (current) {
      current.body.push({ text: raw, line });
      return;
    }
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const kv = /^([A-Za-z][A-Za-z0-9_-]*)\s*:\s*(.*)$/.exec(trimmed);
    if (!kv) throw new DefTranslationError(file, line, `"${trimmed}" is neither a Key: value header nor a %section`);
    const key = kv[1]!.toLowerCase();
    if (header.has(key)) throw new DefTranslationError(file, line, `the header ${kv[1]} appears twice`);
    header.set(key, { value: kv[2]!.trim(), line });
  });
  return { header, sections };
}

/** Trims the common indentation of a section's body and its blank edges. */
function dedent(body: { text: string; line: number }[]): { text: string; line: number }[] {
  const lines = [...body];
  while (lines.length > 0 && lines[0]!.text.trim() === '') lines.shift();
  while (lines.length > 0 && lines.at(-1)!.text.trim() === '') lines.pop();
  const indents = lines.filter((l) => l.text.trim() !== '').map((l) => /^[ \t]*/.exec(l.text)![0].length);
  const cut = indents.length > 0 ? Math.min(...indents) : 0;
  return lines.map((l) => ({ text: l.text.slice(cut).replace(/[ \t]+$/, ''), line: l.line }));
}

/**
 * Translates one definition. `file` names it in errors (`containers/standard.def`); `name` is used for the image's
 * labels. Throws {@link DefTranslationError} naming the line of anything it cannot translate faithfully.
 */
export function translateDef(text: string, file: string): DefTranslation {
  const { header, sections } = parse(text, file);
  const bootstrap = header.get('bootstrap');
  if (!bootstrap) throw new DefTranslationError(file, 0, 'no Bootstrap: header (it must be Bootstrap: docker)');
  if (bootstrap.value.toLowerCase() !== 'docker') {
    throw new DefTranslationError(
      file,
      bootstrap.line,
      `Bootstrap: ${bootstrap.value} cannot be built by Docker; only Bootstrap: docker definitions translate`,
    );
  }
  const from = header.get('from');
  if (!from || from.value === '') throw new DefTranslationError(file, bootstrap.line, 'no From: image to start from');
  if (/\s/.test(from.value))
    throw new DefTranslationError(file, from.line, `From: "${from.value}" is not an image name`);
  for (const [key, { line }] of header) {
    if (key === 'bootstrap' || key === 'from') continue;
    const why =
      key === 'stage'
        ? 'multi-stage definitions (Stage:) are not supported'
        : `the header ${key} is not supported (only Bootstrap: docker and From:)`;
    throw new DefTranslationError(file, line, why);
  }
  const seen = new Set<string>();
  for (const section of sections) {
    if (REFUSED_SECTIONS[section.name]) {
      throw new DefTranslationError(
        file,
        section.line,
        `%${section.name} cannot be translated: ${REFUSED_SECTIONS[section.name]}`,
      );
    }
    if (section.name.startsWith('app')) {
      throw new DefTranslationError(file, section.line, `%${section.name}: SCIF apps are not supported`);
    }
    if (!SUPPORTED_SECTIONS.has(section.name)) {
      throw new DefTranslationError(file, section.line, `%${section.name} is not an Apptainer section this app knows`);
    }
    if (seen.has(section.name)) throw new DefTranslationError(file, section.line, `%${section.name} appears twice`);
    seen.add(section.name);
  }
  const get = (name: string): Section | undefined => sections.find((s) => s.name === name);

  const lines: string[] = [`# Translated by PostTrain Workbench from ${file}; do not edit, edit the definition.`];
  const instructions: string[] = [`FROM ${from.value}`];
  const generated: Record<string, string> = {};
  const files: DefTranslation['files'] = [];
  const notes: string[] = [];

  const labels: string[] = [];
  const labelSection = get('labels');
  if (labelSection) {
    for (const { text: l, line } of dedent(labelSection.body)) {
      if (l === '' || l.startsWith('#')) continue;
      const match = /^(\S+)\s+(.*)$/.exec(l);
      if (!match) throw new DefTranslationError(file, line, `a label needs a name and a value: "${l}"`);
      labels.push(`${dockerQuote(match[1]!, false)}=${dockerQuote(match[2]!, false)}`);
    }
  }
  const help = get('help');
  if (help) {
    const textOfHelp = dedent(help.body)
      .map((l) => l.text)
      .join('\n');
    if (textOfHelp) {
      labels.push(`"org.posttrain.help"=${dockerQuote(textOfHelp.replace(/\n/g, ' '), false)}`);
      notes.push('%help is kept as the label org.posttrain.help');
    }
  }
  if (labels.length > 0) instructions.push(`LABEL ${labels.join(' ')}`);

  const fileSection = get('files');
  if (fileSection) {
    if (fileSection.args) {
      throw new DefTranslationError(
        file,
        fileSection.line,
        `%files ${fileSection.args}: copying from another stage is not supported`,
      );
    }
    for (const { text: l, line } of dedent(fileSection.body)) {
      if (l === '' || l.startsWith('#')) continue;
      const parts = l.split(/\s+/);
      if (parts.length > 2)
        throw new DefTranslationError(file, line, `"${l}": %files takes a source and a destination`);
      const [source, dest = parts[0]!] = parts as [string, string?];
      if (source.startsWith('/')) {
        throw new DefTranslationError(
          file,
          line,
          `${source} is a path on the build host; %files sources must be in the checkout`,
        );
      }
      if (source.split('/').includes('..')) throw new DefTranslationError(file, line, `${source} leaves the checkout`);
      if (/[*?[]/.test(source))
        throw new DefTranslationError(file, line, `${source}: wildcards in %files are not supported`);
      const context = `files/${files.length}/${source.split('/').pop()}`;
      files.push({ context, source });
      instructions.push(`COPY ${JSON.stringify([context, dest.startsWith('/') ? dest : `/${dest}`])}`);
    }
  }

  const post = get('post');
  if (post) {
    const shell = /^-c\s+(\S+)$/.exec(post.args)?.[1] ?? (post.args === '' ? '/bin/sh' : null);
    if (!shell) throw new DefTranslationError(file, post.line, `%post ${post.args}: only "-c SHELL" is understood`);
    generated['ptw/post.sh'] = `${dedent(post.body)
      .map((l) => l.text)
      .join('\n')}\n`;
    instructions.push('COPY ["ptw/post.sh", "/.ptw/post.sh"]');
    // -e: stop at the first failing command, as Apptainer does; -x: each command in the log, so a failure names it.
    instructions.push(`RUN ${JSON.stringify([shell, '-e', '-x', '/.ptw/post.sh'])}`);
  }

  const environment = get('environment');
  if (environment) {
    const env: string[] = [];
    for (const { text: l, line } of dedent(environment.body)) {
      if (l === '' || l.startsWith('#')) continue;
      const match = /^(?:export\s+)?([^=\s]+)=(.*)$/.exec(l);
      if (!match || !ENV_NAME.test(match[1]!)) {
        throw new DefTranslationError(
          file,
          line,
          `"${l}" is not an export NAME=value line; it cannot become a Docker ENV`,
        );
      }
      const { value, expand } = shellValue(match[2]!, file, line);
      env.push(`${match[1]}=${dockerQuote(value, expand)}`);
    }
    if (env.length > 0) instructions.push(`ENV ${env.join(' ')}`);
  }

  const runscript = get('runscript');
  if (runscript) {
    const body = dedent(runscript.body)
      .map((l) => l.text)
      .join('\n');
    generated['ptw/runscript'] = `#!/bin/sh\n${body}\n`;
    instructions.push('COPY ["ptw/runscript", "/.ptw/runscript"]', 'RUN ["chmod", "755", "/.ptw/runscript"]');
    notes.push('%runscript is kept as /.ptw/runscript, not the entrypoint: the app gives each container its command');
  }

  lines.push(...instructions);
  return { dockerfile: `${lines.join('\n')}\n`, files, generated, from: from.value, steps: instructions.length, notes };
}
