import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** Runs git with a fixed identity; throws with its stderr when it fails. */
export function git(cwd: string, ...args: string[]): string {
  const result = spawnSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'ptw test',
      GIT_AUTHOR_EMAIL: 'test@example.invalid',
      GIT_COMMITTER_NAME: 'ptw test',
      GIT_COMMITTER_EMAIL: 'test@example.invalid',
    },
  });
  if (result.status !== 0) throw new Error(`git ${args.join(' ')}: ${result.stderr}`);
  return result.stdout.trim();
}

export interface PtbRepo {
  /** The bare repository a host clones from. */
  origin: string;
  /** Its two commits, oldest first (the second adds gsm8k/benchmark.txt). */
  revisions: [string, string];
}

/**
 * A minimal PostTrainBench (one task, the prompt, a template) in a bare repository under `work`, with the
 * container definitions given (`containers/<name>.def`) and `containers/requirements-direct.txt` for their %files.
 * The requirements file holds a fresh nonce, so a definition that copies it is built anew by a dockerd whose layer
 * cache outlived an earlier test run (a cached %post prints nothing).
 */
export async function makePtbRepo(work: string, defs: Record<string, string>): Promise<PtbRepo> {
  const source = path.join(work, 'ptb-source');
  for (const dir of ['src/eval/tasks/gsm8k', 'src/eval/templates', 'src/eval/general', 'containers']) {
    await mkdir(path.join(source, dir), { recursive: true });
  }
  await writeFile(path.join(source, 'src/eval/tasks/gsm8k/evaluate.py'), 'print("gsm8k")\n');
  await writeFile(path.join(source, 'src/eval/templates/qwen3.jinja'), '{{ messages }}\n');
  await writeFile(path.join(source, 'src/eval/general/prompt.txt'), 'Train {model} for {benchmark}.\n');
  await writeFile(path.join(source, 'containers/requirements-direct.txt'), `numpy  # ${randomUUID()}\n`);
  // What PostTrainBench pre-fetches, in its own format: one model and one data set here.
  await mkdir(path.join(source, 'containers/download_hf_cache'), { recursive: true });
  await writeFile(
    path.join(source, 'containers/download_hf_cache/resources.json'),
    JSON.stringify({ models: ['test-org/tiny-base'], datasets: [{ dataset: 'test-org/math', splits: ['test'] }] }),
  );
  for (const [name, text] of Object.entries(defs))
    await writeFile(path.join(source, 'containers', `${name}.def`), text);
  git(source, 'init', '--quiet', '-b', 'main');
  git(source, 'add', '.');
  git(source, 'commit', '--quiet', '-m', 'first');
  const first = git(source, 'rev-parse', 'HEAD');
  await writeFile(path.join(source, 'src/eval/tasks/gsm8k/benchmark.txt'), 'GSM8K\n');
  git(source, 'add', '.');
  git(source, 'commit', '--quiet', '-m', 'second');
  const second = git(source, 'rev-parse', 'HEAD');
  const origin = path.join(work, 'ptb.git');
  git(work, 'clone', '--quiet', '--bare', source, origin);
  return { origin, revisions: [first, second] };
}

/** A definition that builds on `image` offline: %files, %post, %environment, %runscript, %labels. */
export const goodDef = (image: string): string => `Bootstrap: docker
From: ${image}

%files
    containers/requirements-direct.txt /opt/requirements-direct.txt

%post
    chmod 1777 /tmp
    echo "post ran" > /opt/post-ran
    cat /opt/requirements-direct.txt > /opt/copied

%environment
    export PATH="/opt/bin:$PATH"
    export PTB_FLAVOUR=test

%runscript
    exec python3 "$@"

%labels
    Version v1.0
`;

/** A definition whose %post fails at `ls /definitely/not/here`. */
export const brokenDef = (image: string): string => `Bootstrap: docker
From: ${image}

%post
    echo "step one"
    ls /definitely/not/here
    echo "never reached"
`;
