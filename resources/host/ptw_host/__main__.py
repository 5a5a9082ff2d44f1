"""Entry point of ptw-host.pyz: ``python3 ptw-host.pyz <subcommand> [args...]``.

Each subcommand is a module of this package with a ``main(argv)``; it is imported only when asked for, so a
subcommand's start-up cost is its own.
"""

import importlib
import sys

# subcommand -> (module, one line for --help). Keep in step with src/main/host-package/host-package.ts.
SUBCOMMANDS = {
    "version": ("ptw_host.version", "print the package's content hash"),
    "supervise": ("ptw_host.supervisor", "supervise one run folder: the agent, its budget, its record, its evaluation"),
    "manifest": ("ptw_host.manifest", "list a run's final_model with sizes and SHA-256"),
    "discover": ("ptw_host.discovery", "list the run folders under a run root and their supervisors"),
    "dispatch": ("ptw_host.dispatcher", "drain the run queue of a run root onto free GPUs (experiments)"),
    "inspect": ("ptw_host.checkpoints.cli", "find checkpoints of a run and diff two of them"),
    "data": ("ptw_host.datasets.cli", "datasets in a workspace: list, line index, pages, stats, search, overlap"),
    "integrity": ("ptw_host.integrity.cli", "the integrity checks over a run folder"),
    "hf-fetch": ("ptw_host.hf_fetch", "fetch Hugging Face models and data sets into the host's hub cache"),
    "slurm-job": ("ptw_host.slurm_job", "a run as a SLURM job: create its container on the node, stop it on TERM"),
    "model-endpoint": ("ptw_host.model_endpoint", "serve a scripted model to one run's agent (streaming APIs)"),
}


def usage(out):
    out.write("usage: ptw-host.pyz <subcommand> [args...]\n\nsubcommands:\n")
    for name, (_module, text) in sorted(SUBCOMMANDS.items()):
        out.write("  %-12s %s\n" % (name, text))


def main(argv):
    if not argv or argv[0] in ("-h", "--help"):
        usage(sys.stdout)
        return 0
    entry = SUBCOMMANDS.get(argv[0])
    if entry is None:
        sys.stderr.write("ptw-host: unknown subcommand %r\n" % argv[0])
        usage(sys.stderr)
        return 2
    module = importlib.import_module(entry[0])
    return module.main(argv[1:]) or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
