import path from 'node:path';
import { HOST_PACKAGE_FILE } from '../host-package/host-package';

/**
 * Where things are in a run folder on the host (docs/run-folder.md) and in its local mirror under
 * `PTW_HOME/runs/<id>/`. Host paths are POSIX whatever this machine is; local ones use the platform's separator.
 */

export interface HostRunPaths {
  dir: string;
  runJson: string;
  state: string;
  task: string;
  workspace: string;
  finalModel: string;
  ptw: string;
  prompt: string;
  timer: string;
  deadline: string;
  record: string;
  supervisorLog: string;
  control: string;
  eval: string;
  supervisorDir: string;
  /** The host package (`ptw-host.pyz`) the supervisor runs from; runs from before it have `ptw-supervisor.py`. */
  supervisorPackage: string;
  pidFile: string;
}

export function hostRunPaths(dir: string): HostRunPaths {
  const p = (...parts: string[]): string => path.posix.join(dir, ...parts);
  return {
    dir,
    runJson: p('run.json'),
    state: p('state.json'),
    task: p('task'),
    workspace: p('workspace'),
    finalModel: p('workspace', 'final_model'),
    ptw: p('ptw'),
    prompt: p('ptw', 'prompt.txt'),
    timer: p('ptw', 'timer'),
    deadline: p('ptw', 'deadline'),
    record: p('record'),
    supervisorLog: p('record', 'supervisor.log'),
    control: p('control'),
    eval: p('eval'),
    supervisorDir: p('.supervisor'),
    supervisorPackage: p('.supervisor', HOST_PACKAGE_FILE),
    pidFile: p('.supervisor', 'supervisor.pid'),
  };
}

/** How a host file is mirrored. */
export type MirrorKind =
  /** Append-only text: complete lines are copied as they appear (redacted line by line). */
  | 'lines'
  /** terminal.cast: like `lines`, but redaction sees the terminal text across events. */
  | 'cast'
  /** Replaced whole by the supervisor (atomic rename): copied again when its size or mtime changes. */
  | 'whole';

export interface MirroredFile {
  /** Relative to the host run folder. */
  host: string;
  /** Relative to the local run folder (POSIX separators; joined with the platform's). */
  local: string;
  kind: MirrorKind;
}

/** Where the integrity verdict and its record are, in the host's run folder and in the local mirror alike. */
export const INTEGRITY_VERDICT_FILE = 'integrity/verdict.json';
export const INTEGRITY_RECORD_FILE = 'integrity/record.json';

/** The fixed files of a run bundle; evaluation attempt logs are added as they appear ({@link attemptLogFile}). */
export const MIRRORED_FILES: readonly MirroredFile[] = [
  { host: 'record/events.jsonl', local: 'events.jsonl', kind: 'lines' },
  { host: 'record/terminal.cast', local: 'terminal.cast', kind: 'cast' },
  { host: 'record/agent-stream.jsonl', local: 'agent-stream.jsonl', kind: 'lines' },
  { host: 'record/gpu.csv', local: 'gpu.csv', kind: 'lines' },
  { host: 'record/supervisor.log', local: 'supervisor.log', kind: 'lines' },
  { host: 'eval/eval.json', local: 'eval/eval.json', kind: 'whole' },
  { host: 'eval/metrics.json', local: 'eval/metrics.json', kind: 'whole' },
  // The prompt the agent got (rendered by the launcher; no secret): a comparison of two runs shows it.
  { host: 'ptw/prompt.txt', local: 'prompt.txt', kind: 'whole' },
  // The supervisor's integrity passes (ptw_host/integrity_watch.py): the verdict and its record, rewritten each pass.
  { host: INTEGRITY_RECORD_FILE, local: INTEGRITY_RECORD_FILE, kind: 'whole' },
  { host: INTEGRITY_VERDICT_FILE, local: INTEGRITY_VERDICT_FILE, kind: 'whole' },
];

const ATTEMPT_LOG = /^eval\/attempt-(\d{1,4})\.log$/;

/** `eval/attempt-<n>.log` (the only host files mirrored that are not in {@link MIRRORED_FILES}). */
export function attemptLogFile(hostRel: string): MirroredFile | undefined {
  return ATTEMPT_LOG.test(hostRel) ? { host: hostRel, local: hostRel, kind: 'lines' } : undefined;
}

/** The local bundle's own files, next to the mirrored ones. */
export const LOCAL_FILES = {
  runJson: 'run.json',
  state: 'state.json',
  sync: 'sync.json',
  manifest: 'final-model-manifest.json',
  lock: 'sync.lock',
} as const;

export function localPath(localDir: string, rel: string): string {
  return path.join(localDir, ...rel.split('/'));
}

/** Run ids are folder names on both ends: `r-20261123-120000-ab12`. Anything else is never used as a path. */
export const RUN_ID_PATTERN = /^r-\d{8}-\d{6}-[a-z0-9]{3,16}$/;

export function isRunId(value: string): boolean {
  return RUN_ID_PATTERN.test(value);
}
