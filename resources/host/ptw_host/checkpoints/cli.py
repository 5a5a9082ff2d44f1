"""`ptw-host.pyz inspect`: the PostTrain Workbench checkpoint inspector.

Runs on the GPU host, where the checkpoints are (3-16 GB each): it reads safetensors there and prints only
summaries, so the weights never cross SSH. Python 3.8+ standard library; numpy when the host's python3 has it.

    python3 ptw-host.pyz inspect find RUN_DIR [--hf-cache DIR ...] [--base-model ORG/NAME]
        One JSON object: the checkpoints found under RUN_DIR (and the base model in the HF cache).
    python3 ptw-host.pyz inspect diff DIR_A DIR_B [--out FILE] [--jobs N] [--engine auto|numpy|python]
        JSON lines (to FILE, else stdout): start (with the engine used), progress, one per tensor, done (or error).

Per tensor, `diff` reports sums the app turns into the L2 norm of the delta, relative change, cosine similarity
and max absolute change: Σa², Σb², Σ(a-b)² (an identical range of a changed tensor still counts towards Σa² and
Σb²) and max |a-b| (NaN differences left out; a NaN or infinity makes a sum null and sets nonFinite). Byte ranges
that are identical in both files are compared with memcmp and need no float math. Changed ranges are reduced by
one of two engines, which compute the same sums:

- numpy (`--engine auto` picks it when `import numpy` works on a little-endian host): chunks are read with
  readinto into buffers each process reuses, converted exactly to float64 (bf16 is the high half of a float32,
  float8 through 256-entry tables) in cache-sized blocks and reduced with np.dot or np.einsum (whichever is faster
  with this numpy's BLAS). BLAS is held to one thread: the work is already spread over processes. numpy 1.x and 2.x.
- python (the standard library alone): decoded in C (struct, memoryview, bytes slicing) and reduced with
  math.dist, so Python touches each element a handful of times; ~20× slower than numpy.

Work is spread over processes (one per core by default).

Exit status: 0 done, 1 a checkpoint could not be read (the message names the file and offset), 2 bad arguments
(or --engine numpy where numpy cannot be used)."""

import argparse
import json
import os
import sys

from ptw_host.checkpoints import work_size
from ptw_host.checkpoints.checkpoint_files import InspectError
from ptw_host.checkpoints.diff import Emitter, diff
from ptw_host.checkpoints.engine_numpy import choose_engine
from ptw_host.checkpoints.find import find


def main(argv):
    parser = argparse.ArgumentParser(prog="ptw-host.pyz inspect")
    sub = parser.add_subparsers(dest="command")
    p_find = sub.add_parser("find")
    p_find.add_argument("run_dir")
    p_find.add_argument("--hf-cache", action="append", default=[])
    p_find.add_argument("--base-model")
    p_diff = sub.add_parser("diff")
    p_diff.add_argument("a")
    p_diff.add_argument("b")
    p_diff.add_argument("--out")
    p_diff.add_argument("--jobs", type=int, default=0)
    p_diff.add_argument("--engine", choices=("auto", "numpy", "python"), default="auto")
    # For tests: small units of work, so a small tensor spans several (identical and changed ranges in one tensor).
    p_diff.add_argument("--task-bytes", type=int, default=0, help=argparse.SUPPRESS)
    p_diff.add_argument("--chunk-elements", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if getattr(args, "task_bytes", 0) > 0:
        work_size.TASK_BYTES = args.task_bytes
    if getattr(args, "chunk_elements", 0) > 0:
        work_size.CHUNK_ELEMENTS = args.chunk_elements
    if args.command == "find":
        try:
            result = find(args.run_dir, args.hf_cache, args.base_model)
        except InspectError as err:
            sys.stderr.write("%s\n" % err)
            return 1
        sys.stdout.write(json.dumps(result, allow_nan=False) + "\n")
        return 0
    if args.command == "diff":
        out = open(args.out, "a", encoding="utf-8") if args.out else sys.stdout
        emitter = Emitter(out)
        jobs = args.jobs if args.jobs > 0 else max(1, min(os.cpu_count() or 1, 16))
        try:
            engine, numpy_version, engine_note = choose_engine(args.engine)
        except InspectError as err:
            emitter.emit({"type": "error", "message": str(err)})
            if args.out:
                out.close()
            return 2
        try:
            diff(os.path.abspath(args.a), os.path.abspath(args.b), emitter, jobs, engine, numpy_version, engine_note)
        except (InspectError, OSError) as err:
            emitter.emit({"type": "error", "message": str(err)})
            return 1
        except Exception as err:  # the app must hear why, not wait for a line that never comes
            emitter.emit({"type": "error", "message": "internal error: %r" % (err,)})
            return 1
        finally:
            if args.out:
                out.close()
        return 0
    parser.print_usage(sys.stderr)
    return 2
