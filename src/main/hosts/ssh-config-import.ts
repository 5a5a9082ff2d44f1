import os from 'node:os';
import path from 'node:path';
import { AppError } from '../../shared/errors';
import type { SshConfigCandidate, SshConfigProblem } from '../../shared/hosts';
import { collectAliases, ConfigEvaluator } from './ssh-config-evaluator';
import { ProblemList } from './ssh-config-lexer';
import { ConfigLoader, describeFsError, readConfigFile } from './ssh-config-loader';

/**
 * Imports host entries from an OpenSSH client config (ssh_config(5)), computing for each concrete `Host` alias
 * what `ssh -G alias` would: first value wins, `IdentityFile` accumulates, `Include` is followed in place.
 *
 * The `ssh-config` package lexes each line (keyword, quoting, multi-value lists). Evaluation is ours because its
 * `compute()` does not follow `Include`, runs `Match exec` commands and `nslookup` by default, lets `?` match zero
 * characters and keeps no line numbers; and a bad line makes its `parse()` throw for the whole file, so each
 * physical line is lexed on its own (ssh_config has no continuation lines) and errors stay on their line.
 *
 * The parts: ssh-config-lexer.ts (lines into statements), ssh-config-loader.ts (files and Include),
 * ssh-config-evaluator.ts (Host and Match blocks, first value wins); this file puts them together.
 */

export interface ImportSshConfigOptions {
  /** Home for `~`, `%d` and relative `Include` paths (`~/.ssh/…`). Default: the current user's home. */
  homeDir?: string;
  /** Local user name for `%u`, `Match localuser` and the default remote user. Default: the current user. */
  localUser?: string;
}

export interface SshConfigImport {
  candidates: SshConfigCandidate[];
  problems: SshConfigProblem[];
  /** Host lines that give no profile, with why: pattern-only blocks, aliases that cannot be a profile name. */
  notImported: SshConfigProblem[];
}

export async function importSshConfig(file: string, options: ImportSshConfigOptions = {}): Promise<SshConfigImport> {
  const homeDir = options.homeDir ?? os.homedir();
  const localUser = options.localUser ?? currentUserName();
  const absolute = path.resolve(file);
  const problems = new ProblemList();
  const loader = new ConfigLoader(homeDir, problems);

  let text: string;
  try {
    text = await readConfigFile(absolute);
  } catch (err) {
    throw new AppError('SSH_CONFIG_INVALID', `Cannot read SSH config ${absolute}: ${describeFsError(err)}`, {
      cause: err,
    });
  }
  const root = await loader.load(absolute, text, []);

  const evaluator = new ConfigEvaluator(root, { homeDir, localUser }, problems);
  const candidates: SshConfigCandidate[] = [];
  const notImported = new ProblemList();
  for (const { alias, file: aliasFile, line } of collectAliases(root, notImported)) {
    const computed = evaluator.candidate(alias);
    candidates.push({ ...computed, source: `${loader.display(aliasFile)}:${line}` });
  }
  const display = (f: string) => loader.display(f);
  return { candidates, problems: problems.toArray(display), notImported: notImported.toArray(display) };
}

function currentUserName(): string {
  try {
    return os.userInfo().username;
  } catch {
    // os.userInfo throws for a uid with no passwd entry (some containers).
    return process.env.USER ?? process.env.USERNAME ?? '';
  }
}
