import { Option, type Command } from 'commander';
import type { EventPayload, HostSummary } from '../../shared/contract';
import { AppError } from '../../shared/errors';
import type { CheckStatus, PreflightCheck, PreflightReport, SlurmRuntime, SlurmScheduler } from '../../shared/hosts';
import { parseJumpHop, parseJumpSpec } from '../hosts/ssh-jump-spec';
import { collect, json, table, usage } from './cli-output';
import type { HostCliIo } from './cli-prompts';
import { callWatching, cli, servicesRunner, type ServicesFactory } from './cli-services';

const statusMark: Record<CheckStatus, string> = {
  pass: 'PASS',
  warn: 'WARN',
  fail: 'FAIL',
  skip: 'SKIP',
  pending: '....',
  running: '....',
};

/** `ptw host …`: the Hosts screen's commands through the same router, with prompts answered by flags or the terminal. */
export function addHostCommand(program: Command, io: HostCliIo, open: ServicesFactory): Command {
  // Created through the parent so it inherits exitOverride and the output settings.
  const host = program.command('host').description('GPU hosts: add, import from ~/.ssh/config, list, check, remove');

  const withServices = servicesRunner(io, open);

  host
    .command('add')
    .description('Add a host (or replace the one with this name)')
    .argument('<name>', 'a short name for the host')
    .option('--ssh <target>', 'SSH target, [user@]host[:port]')
    .option('--local', "this machine's own Docker (no SSH)")
    .option('--identity <file>', 'private key file (repeatable)', collect, [])
    .option('--jump <spec>', 'ProxyJump chain, [user@]host[:port][,…]')
    .option('--docker-socket <path>', 'Docker socket on the host', '/var/run/docker.sock')
    .option('--run-root <path>', 'where run folders go on the host', '~/posttrain-runs')
    .option(
      '--image <name>',
      'an image runs need, checked by preflight (repeatable; the first is the default run image)',
      collect,
      [],
    )
    .option('--ptb-checkout <path>', 'a PostTrainBench checkout on the host (the task catalog)')
    .option('--hf-cache <path>', "the host's Hugging Face cache, mounted read-only into sandboxes")
    .option('--test-sets <path>', 'a folder of <benchmark>.jsonl test sets on the host (the integrity checks)')
    .addOption(
      new Option('--scheduler <kind>', 'runs are batch jobs of this scheduler (docs/slurm.md)').choices(['slurm']),
    )
    .option('--partition <name>', 'SLURM: the partition jobs go to (default: the cluster default)')
    .option('--account <name>', 'SLURM: the account jobs are charged to')
    .option('--qos <name>', 'SLURM: the quality of service of the jobs')
    .addOption(
      new Option('--runtime <runtime>', "SLURM: the container runtime on the cluster's nodes")
        .choices(['docker', 'podman', 'apptainer', 'enroot'])
        .default('docker'),
    )
    .option('--gpu-gres <spec>', 'SLURM: the --gres request for one GPU (default gpu:1, e.g. gpu:h100:1)')
    .option('--json', 'machine-readable output')
    .action(async (name: string, opts: AddOptions) => {
      if (Boolean(opts.ssh) === Boolean(opts.local))
        throw usage('give exactly one of --ssh [user@]host[:port] or --local');
      const target = opts.ssh ? parseSshTarget(opts.ssh) : {};
      const scheduler = schedulerFromOptions(opts);
      const summary = await withServices({}, (s) =>
        s.router.call(
          'hosts.add',
          {
            name,
            kind: opts.local ? 'local' : 'ssh',
            ...target,
            identityFiles: opts.identity,
            proxyJump: opts.jump ? parseJumpSpec(opts.jump) : [],
            dockerSocket: opts.dockerSocket,
            runRoot: opts.runRoot,
            requiredImages: opts.image,
            ...(opts.ptbCheckout ? { ptbCheckout: opts.ptbCheckout } : {}),
            ...(opts.hfCache ? { hfCache: opts.hfCache } : {}),
            ...(opts.testSets ? { testSets: opts.testSets } : {}),
            ...(scheduler ? { scheduler } : {}),
          },
          cli,
        ),
      );
      io.out(
        opts.json
          ? json(summary)
          : `Added ${summary.name} (${summary.address}). Next: ptw host check ${summary.name}\n`,
      );
    });

  host
    .command('import-ssh-config')
    .description('Import Host entries from an ssh_config (all concrete ones, or the aliases given)')
    .argument('[aliases...]', 'which Host aliases to import')
    .option('--file <file>', 'the ssh_config to read (default ~/.ssh/config)')
    .option('--json', 'machine-readable output')
    .action(async (aliases: string[], opts: { file?: string; json?: boolean }) => {
      await withServices({}, async (s) => {
        const file = opts.file ? { file: opts.file } : {};
        const preview = await s.router.call('hosts.previewSshConfig', file, cli);
        for (const p of preview.problems) io.err(`${p.file}:${p.line}: ${p.message}\n`);
        for (const p of preview.notImported) io.err(`${p.file}:${p.line}: not imported: ${p.message}\n`);
        const chosen = aliases.length > 0 ? aliases : preview.candidates.map((c) => c.alias);
        if (chosen.length === 0) {
          io.err(`No concrete Host entries in ${preview.file} (patterns like 'Host *' are not hosts).\n`);
          if (opts.json) io.out(json({ imported: [], problems: preview.problems, notImported: preview.notImported }));
          return;
        }
        const imported = await s.router.call('hosts.importSshConfig', { ...file, aliases: chosen }, cli);
        if (opts.json) io.out(json({ imported, problems: preview.problems, notImported: preview.notImported }));
        else for (const h of imported) io.out(`Imported ${h.name} (${h.address}${h.jump ? ` via ${h.jump}` : ''})\n`);
      });
    });

  host
    .command('ls')
    .description('List hosts')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const hosts = await withServices({}, (s) => s.router.call('hosts.list', {}, cli));
      if (opts.json) io.out(json(hosts));
      else if (hosts.length === 0) io.out('No hosts yet. Add one with: ptw host add NAME --ssh user@host\n');
      else io.out(formatHostTable(hosts));
    });

  host
    .command('check')
    .description(
      'Preflight a host: SSH, Docker, NVIDIA runtime, GPUs, free disk, images (exit 0 pass, 1 a check failed, 2 no connection)',
    )
    .argument('<name>')
    .option('--json', 'machine-readable output')
    .option(
      '--accept-new-host-key',
      'trust an unknown host key and remember it (like StrictHostKeyChecking=accept-new); a changed key is still refused',
    )
    .addOption(
      new Option('--passphrase-env <var>', 'read an encrypted key’s passphrase from this environment variable'),
    )
    .action(async (name: string, opts: { json?: boolean; acceptNewHostKey?: boolean; passphraseEnv?: string }) => {
      const report = await withServices(opts, (s) =>
        callWatching(s, 'hosts.check', { name }, (event, payload) => {
          if (event !== 'hosts.preflightProgress') return;
          const { name: host, check } = payload as EventPayload<'hosts.preflightProgress'>;
          if (host === name && check.status !== 'running' && check.status !== 'pending') io.err(formatCheckLine(check));
        }),
      );
      io.out(opts.json ? json(report) : formatReport(report));
      io.setExitCode(report.overall === 'fail' ? 1 : 0);
    });

  host
    .command('rm')
    .description('Remove a host profile (nothing on the host is touched)')
    .argument('<name>')
    .action(async (name: string) => {
      const { removed } = await withServices({}, (s) => s.router.call('hosts.remove', { name }, cli));
      if (!removed) throw new AppError('NOT_FOUND', `No host named '${name}'.`);
      io.out(`Removed ${name}.\n`);
    });

  return host;
}

interface AddOptions {
  ssh?: string;
  local?: boolean;
  identity: string[];
  jump?: string;
  dockerSocket: string;
  runRoot: string;
  image: string[];
  ptbCheckout?: string;
  hfCache?: string;
  testSets?: string;
  scheduler?: 'slurm';
  partition?: string;
  account?: string;
  qos?: string;
  runtime: SlurmRuntime;
  gpuGres?: string;
  json?: boolean;
}

/** The `scheduler` part of a profile from `host add`'s SLURM flags; those flags without `--scheduler slurm` are refused. */
export function schedulerFromOptions(opts: {
  scheduler?: 'slurm';
  partition?: string;
  account?: string;
  qos?: string;
  runtime?: SlurmRuntime;
  gpuGres?: string;
}): SlurmScheduler | undefined {
  if (opts.scheduler !== 'slurm') {
    const given = (['partition', 'account', 'qos', 'gpuGres'] as const).filter((k) => opts[k] !== undefined);
    if (given.length > 0 || (opts.runtime !== undefined && opts.runtime !== 'docker')) {
      const flags = [
        ...given.map((k) => (k === 'gpuGres' ? '--gpu-gres' : `--${k}`)),
        ...(given.length ? [] : ['--runtime']),
      ];
      throw usage(`${flags.join(', ')} only apply to SLURM hosts: add --scheduler slurm`);
    }
    return undefined;
  }
  return {
    kind: 'slurm',
    ...(opts.partition ? { partition: opts.partition } : {}),
    ...(opts.account ? { account: opts.account } : {}),
    ...(opts.qos ? { qos: opts.qos } : {}),
    runtime: opts.runtime ?? 'docker',
    ...(opts.gpuGres ? { gpuGres: opts.gpuGres } : {}),
  };
}

/** A host name or address as ssh accepts it (letters, digits, `.`, `-`, `_`; `:` and `%zone` inside IPv6). */
const SSH_HOSTNAME =
  /^(?:[A-Za-z0-9_](?:[A-Za-z0-9._-]*[A-Za-z0-9_])?|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(?:%[A-Za-z0-9_.-]+)?)$/;

/** `[user@]host[:port]`, with `[v6addr]:port` for IPv6; a bad value is named as the --ssh value it is. */
export function parseSshTarget(target: string): { hostname: string; user?: string; port?: number } {
  const bad = (why: string): AppError =>
    usage(`Invalid --ssh value "${target}": ${why}. It takes one [user@]host[:port], e.g. ana@gpu-box:2222.`);
  if (target.includes(',')) throw bad('it names more than one host (jump hosts go in --jump)');
  let hop;
  try {
    hop = parseJumpHop(target.trim());
  } catch (err) {
    throw bad((err as Error).message);
  }
  if (!SSH_HOSTNAME.test(hop.host)) throw bad(`"${hop.host}" is not a host name or address`);
  return { hostname: hop.host, ...(hop.user ? { user: hop.user } : {}), ...(hop.port ? { port: hop.port } : {}) };
}

export function formatHostTable(hosts: HostSummary[]): string {
  const rows = hosts.map((h) => [
    h.name,
    h.kind,
    h.address + (h.jump ? ` via ${h.jump}` : ''),
    h.state?.status ?? 'disconnected',
    h.lastCheck ? `${h.lastCheck.overall} (${h.lastCheck.finishedAt})` : 'never checked',
  ]);
  return table([['NAME', 'KIND', 'ADDRESS', 'STATE', 'LAST CHECK'], ...rows]);
}

export function formatCheckLine(check: PreflightCheck): string {
  const time = check.durationMs === undefined ? '' : ` (${Math.round(check.durationMs)} ms)`;
  return `[${statusMark[check.status]}] ${check.title}: ${check.summary}${time}\n`;
}

export function formatReport(report: PreflightReport): string {
  const lines = [`Preflight of ${report.host}: ${report.overall.toUpperCase()}`, ''];
  for (const check of report.checks) {
    lines.push(formatCheckLine(check).trimEnd());
    for (const detail of check.details) lines.push(`       ${detail}`);
    if (check.fix && (check.status === 'fail' || check.status === 'warn')) lines.push(`       fix: ${check.fix}`);
  }
  if (report.gpus.length > 0)
    lines.push('', `Free GPUs: ${report.freeGpus.length > 0 ? report.freeGpus.join(', ') : 'none'}`);
  return lines.join('\n') + '\n';
}
