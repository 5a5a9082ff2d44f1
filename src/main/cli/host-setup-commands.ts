import type { Command } from 'commander';
import type { EventPayload } from '../../shared/contract';
import { SETUP_STEPS, type SetupReport, type SetupStep } from '../../shared/contract-host-setup';
import { json, terminalSafe, usage } from './cli-output';
import { callWatching, servicesRunner, type ServicesFactory } from './cli-services';
import type { HostCliIo } from './cli-prompts';

interface SetupOptions {
  steps?: string;
  ptbCheckout?: string;
  ptbRepo?: string;
  ptbRev?: string;
  def?: string;
  hfEndpoint?: string;
  json?: boolean;
  acceptNewHostKey?: boolean;
  passphraseEnv?: string;
}

const mark: Record<string, string> = { done: 'DONE', skipped: 'SKIP', failed: 'FAIL', 'not-run': '----' };

/** The report as text: one line per step, and the failing step's log (the host's words, escaped). */
export function formatSetupReport(report: SetupReport): string {
  const lines = report.steps.map((s) => `${mark[s.status]}  ${s.step.padEnd(8)} ${s.summary}`);
  const failed = report.steps.find((s) => s.status === 'failed');
  if (failed && failed.log.length > 0)
    lines.push('', `${failed.step} log (last lines):`, ...failed.log.slice(-30).map((l) => `  ${l}`));
  lines.push('', `checkout: ${report.ptbCheckout ?? 'none'}`, `image:    ${report.image ?? 'none'}`);
  return terminalSafe(`${lines.join('\n')}\n`);
}

/** `ptw host setup NAME`: the Set up steps through the router (docs/host-setup.md). Exit 0 when all are done. */
export function addHostSetupCommand(host: Command, io: HostCliIo, open: ServicesFactory): void {
  host
    .command('setup')
    .description(
      'Set a GPU host up for PostTrainBench runs: checkout, run image, model and data caches, ready check (exit 0 when every step is done)',
    )
    .argument('<name>')
    .option('--steps <list>', `steps to run, comma-separated (${SETUP_STEPS.join(',')}; default all)`)
    .option(
      '--ptb-checkout <path>',
      'an existing PostTrainBench checkout on the host (with --ptb-repo: where to clone it)',
    )
    .option('--ptb-repo <url>', 'clone (or update) PostTrainBench from this repository on the host')
    .option('--ptb-rev <rev>', 'the revision to check out (with --ptb-repo)')
    .option('--def <name|path>', "the container definition: a name in the checkout's containers/ (default standard)")
    .option('--hf-endpoint <url>', "a Hugging Face mirror for the caches step (default the host's HF_ENDPOINT)")
    .option('--json', 'machine-readable output')
    .option('--accept-new-host-key', 'trust an unknown host key and remember it (a changed key is still refused)')
    .option('--passphrase-env <var>', 'read an encrypted key’s passphrase from this environment variable')
    .action(async (name: string, opts: SetupOptions) => {
      if (opts.ptbRev && !opts.ptbRepo) throw usage('--ptb-rev needs --ptb-repo');
      let steps: SetupStep[] | undefined;
      if (opts.steps) {
        const list = opts.steps.split(',').map((s) => s.trim());
        const unknown = list.filter((s) => !(SETUP_STEPS as readonly string[]).includes(s));
        if (unknown.length > 0)
          throw usage(`--steps: unknown ${unknown.join(', ')} (known: ${SETUP_STEPS.join(', ')})`);
        steps = list as SetupStep[];
      }
      const report = await servicesRunner(io, open)(opts, (services) =>
        callWatching(
          services,
          'hosts.setup',
          {
            name,
            ...(steps ? { steps } : {}),
            ...(opts.ptbCheckout ? { ptbCheckout: opts.ptbCheckout } : {}),
            ...(opts.ptbRepo ? { ptbRepo: opts.ptbRepo } : {}),
            ...(opts.ptbRev ? { ptbRev: opts.ptbRev } : {}),
            ...(opts.def ? { def: opts.def } : {}),
            ...(opts.hfEndpoint ? { hfEndpoint: opts.hfEndpoint } : {}),
          },
          (event, payload) => {
            if (event !== 'hosts.setupProgress' || opts.json) return;
            const p = payload as EventPayload<'hosts.setupProgress'>;
            if (p.status === 'running' && p.line) {
              const counts = p.done !== null && p.total !== null ? `[${p.done}/${p.total}] ` : '';
              io.err(terminalSafe(`${p.step}: ${counts}${p.line}\n`));
            }
          },
        ),
      );
      io.out(opts.json ? json(report) : formatSetupReport(report));
      io.setExitCode(report.ok ? 0 : 1);
    });
}
