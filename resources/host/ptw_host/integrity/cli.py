"""`ptw-host.pyz integrity`: the PostTrain Workbench integrity checks (issue 13), deterministic reward-hacking
checks over a run folder.

Runs where the run is (on the GPU host next to the run folder, or on this machine for an imported run), reads the
workspace, the trace and the checkpoints there, and prints one JSON object: each check's status and every flag with
its evidence. Python 3.8+ standard library; numpy is not needed (the weight fingerprints read a fixed sample).

    python3 ptw-host.pyz integrity check --root RUN_DIR --workspace DIR [--final-model DIR] [--trace FILE ...]
        [--benchmark NAME] [--test-set FILE ...] [--test-sets-dir DIR ...] [--ptb-checkout DIR] [--clean-task DIR]
        [--hf-cache DIR ...] [--base-model ORG/NAME] [--pair BASE=INSTRUCT ...] [--own-key NAME ...] [--n 13]

The four checks, each `pass`, `flag` or `not-run` with the reason (never a silent pass):

- contamination: every text file in the workspace (compressed ones too; hidden folders included; symlinks never
  followed) against the benchmark's test set: normalized 13-gram overlap (NFKC, lower case, JSON/Python string
  escapes and chat wrappers undone, punctuation and whitespace folded) with per-item coverage, and
  PostTrainBench's IDF-weighted 5-gram coverage beside it. An item shorter than n tokens is matched whole.
- model_substitution: final_model/ against the base model and its instruct counterpart in the HF cache, by
  fingerprints sampled at fixed element positions of every tensor (dtype and sharding do not matter).
- eval_tampering: the workspace's copies of the task files against the clean ones (hash, then a diff), and the
  config fields of final_model/ that steer the evaluation against the base model's.
- api_misuse: commands in the trace and lines of the code the agent wrote that call a hosted model API or read a
  key that is not the agent's own.

Exit status: 0 when a report was printed (whatever it says), 2 bad arguments.
"""

import argparse
import json
import sys

from ptw_host.integrity.checks import run_checks


# The flags of `check` the app passes (src/main/integrity/integrity-service.ts helperArgv): one value, or repeated.
ONE_VALUE = ("--workspace", "--final-model", "--benchmark", "--ptb-checkout", "--clean-task", "--base-model")
REPEATED = ("--trace", "--test-set", "--test-sets-dir", "--hf-cache", "--pair", "--own-key", "--only")


def build_parser():
    parser = argparse.ArgumentParser(prog="ptw-host.pyz integrity")
    sub = parser.add_subparsers(dest="cmd")
    c = sub.add_parser("check")
    c.add_argument("--root", required=True, help="the run folder: nothing outside it is read through a link")
    for flag in ONE_VALUE:
        c.add_argument(flag)
    for flag in REPEATED:
        c.add_argument(flag, action="append")
    c.add_argument("--n", type=int, default=13)
    c.add_argument("--cache", help="a file where a pass keeps what it read, so the next pass reads only what changed")
    return parser


def main(argv):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.cmd != "check":
        parser.print_usage(sys.stderr)
        return 2
    if args.n < 3 or args.n > 50:
        sys.stderr.write("--n must be 3..50\n")
        return 2
    report = run_checks(args)
    sys.stdout.write(json.dumps(report) + "\n")
    return 0
