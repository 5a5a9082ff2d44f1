#!/usr/bin/env python3
"""`npm run bench:integrity` (issue 13): the integrity helper's speed on this machine, as it runs on a host.

- contaminationMBps: the host package's integrity checks' (resources/host/ptw_host/integrity/) contamination check over PTW_BENCH_MB (default 1024) MB of
  agent-written chat JSONL against a 10,000-item test set, on one core (taskset where present); MB = 10^6 bytes,
  the scan alone (the test set's index is timed apart).
- fingerprintRatioToSha256: fingerprinting a pair of PTW_BENCH_GB (default 4) GB bf16 checkpoints, divided by
  `sha256sum` over the same files (both with the files in the page cache).
- incrementalPassMs: a whole pass (all four checks) over the unchanged workspace, with the cache the first pass left.

Writes bench/results/integrity.json with the machine's description. Not a test: it prints what it measured.
"""

import json
import os
import platform
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
HOST = os.path.join(ROOT, "resources", "host")
# The subcommand as the app runs it, from the package's sources (the app ships them as one zipapp).
HELPER = [sys.executable, "-m", "ptw_host", "integrity"]
RESULTS = os.path.join(HERE, "results", "integrity.json")


def load_helper():
    """The substitution check's module (its fingerprints are timed in this process)."""
    sys.path.insert(0, HOST)
    from ptw_host.integrity import substitution  # noqa: PLC0415

    return substitution


WORDS = (
    "the a of to and in is was for on that with as by at from it an be this are or which has had were one all "
    "their there been if more when will would who so no she he they her his them what how many much each every "
    "apples pencils dollars hours minutes books marbles friends school store week day farm eggs cookies boxes "
    "buys sells gives takes makes needs wants spends earns saves reads runs walks drives bakes plants picks "
    "twice half third quarter total remaining left more fewer than after before during per each dozen"
).split()


def sentence(rng, n):
    return " ".join(rng.choice(WORDS) if rng.random() < 0.8 else str(rng.randrange(1000)) for _ in range(n))


def make_test_set(path, rng, count=10000):
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(count):
            handle.write(json.dumps({"question": sentence(rng, 45), "answer": sentence(rng, 60) + " #### %d" % i}) + "\n")


def make_jsonl(path, rng, megabytes):
    target = megabytes * 1000 * 1000
    written = 0
    with open(path, "w", encoding="utf-8") as handle:
        while written < target:
            row = json.dumps({"messages": [{"role": "user", "content": sentence(rng, 50)}, {"role": "assistant", "content": sentence(rng, 80)}]}) + "\n"
            handle.write(row)
            written += len(row)
    return written


def make_checkpoint(folder, gigabytes, seed):
    """bf16 tensors of 16 M elements (32 MB each) up to the size, as safetensors shards of about 2 GB."""
    os.makedirs(folder, exist_ok=True)
    per_tensor = 16 * 1024 * 1024
    tensors = max(1, int(gigabytes * 1e9) // (per_tensor * 2))
    block = os.urandom(per_tensor * 2) if seed == 0 else bytes(b ^ seed for b in os.urandom(per_tensor * 2))
    per_shard = 64
    files = []
    for start in range(0, tensors, per_shard):
        names = ["model.layers.%d.mlp.weight" % i for i in range(start, min(tensors, start + per_shard))]
        header, offset = {}, 0
        for name in names:
            header[name] = {"dtype": "BF16", "shape": [4096, 4096], "data_offsets": [offset, offset + per_tensor * 2]}
            offset += per_tensor * 2
        raw = json.dumps(header).encode()
        raw += b" " * ((8 - len(raw) % 8) % 8)
        path = os.path.join(folder, "model-%05d.safetensors" % (start // per_shard))
        with open(path, "wb") as handle:
            handle.write(struct.pack("<Q", len(raw)) + raw)
            for _ in names:
                handle.write(block)
        files.append(path)
    return files


def one_core():
    return ["taskset", "-c", "0"] if shutil.which("taskset") else []


def machine():
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        import numpy  # noqa: PLC0415 (the helper's fast path when present)

        numpy_version = numpy.__version__
    except ImportError:
        numpy_version = None
    return {"platform": platform.platform(), "cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "numpy": numpy_version}


def main():
    megabytes = int(os.environ.get("PTW_BENCH_MB", "1024"))
    gigabytes = float(os.environ.get("PTW_BENCH_GB", "4"))
    rng = random.Random(7)
    work = tempfile.mkdtemp(prefix="ptw-bench-integrity-")
    try:
        run = os.path.join(work, "run")
        ws = os.path.join(run, "workspace")
        os.makedirs(os.path.join(ws, "data"))
        make_test_set(os.path.join(work, "gsm8k.jsonl"), rng)
        written = make_jsonl(os.path.join(ws, "data", "train.jsonl"), rng, megabytes)
        cache = os.path.join(run, "cache.json")
        args = [*HELPER, "check", "--root", run, "--workspace", ws, "--test-set", os.path.join(work, "gsm8k.jsonl"), "--cache", cache]
        started = time.time()
        first = json.loads(subprocess.run(one_core() + args, capture_output=True, text=True, check=True, env=dict(os.environ, PYTHONPATH=HOST)).stdout)
        first_seconds = time.time() - started
        check = next(c for c in first["checks"] if c["kind"] == "contamination")
        contamination = check["bytesScanned"] / 1e6 / max(check["scanSeconds"], 1e-9)
        started = time.time()
        second = json.loads(subprocess.run(one_core() + args, capture_output=True, text=True, check=True, env=dict(os.environ, PYTHONPATH=HOST)).stdout)
        incremental_ms = (time.time() - started) * 1000
        assert next(c for c in second["checks"] if c["kind"] == "contamination")["bytesScanned"] == 0
        os.remove(os.path.join(ws, "data", "train.jsonl"))

        helper = load_helper()
        a = make_checkpoint(os.path.join(work, "a"), gigabytes, 0)
        b = make_checkpoint(os.path.join(work, "b"), gigabytes, 1)
        files = a + b
        size = sum(os.path.getsize(f) for f in files)
        subprocess.run(["cat"] + files, stdout=subprocess.DEVNULL, check=True)  # both timings start from the page cache
        started = time.time()
        subprocess.run(["sha256sum"] + files, stdout=subprocess.DEVNULL, check=True)
        sha_seconds = time.time() - started
        started = time.time()
        fa = helper.fingerprint(helper.model_tensors(os.path.join(work, "a")))
        fb = helper.fingerprint(helper.model_tensors(os.path.join(work, "b")))
        fingerprint_seconds = time.time() - started
        assert len(fa) == len(fb) > 0

        result = {
            "contaminationMBps": round(contamination, 2),
            "fingerprintRatioToSha256": round(fingerprint_seconds / sha_seconds, 5),
            "incrementalPassMs": round(incremental_ms, 1),
            "details": {
                "jsonlBytes": written,
                "testItems": check["items"],
                "indexSeconds": check["indexSeconds"],
                "scanSeconds": check["scanSeconds"],
                "firstPassSeconds": round(first_seconds, 2),
                "oneCore": bool(one_core()),
                "checkpointBytes": size,
                "sha256sumSeconds": round(sha_seconds, 3),
                "fingerprintSeconds": round(fingerprint_seconds, 4),
            },
            "targets": {"contaminationMBps": ">= 20", "fingerprintRatioToSha256": "<= 0.1", "incrementalPassMs": "< 1000"},
            "machine": machine(),
            "measuredAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
        with open(RESULTS, "w", encoding="utf-8") as handle:
            json.dump(result, handle, indent=2)
            handle.write("\n")
        print("contamination     %8.2f MB/s   (%d MB against %d items, one core: %s; index %.1f s apart)" % (contamination, written // 1000000, check["items"], bool(one_core()), check["indexSeconds"]))
        print("fingerprint       %8.4f x sha256sum  (%.2f s vs %.2f s over %.1f GB)" % (fingerprint_seconds / sha_seconds, fingerprint_seconds, sha_seconds, size / 1e9))
        print("incremental pass  %8.1f ms" % incremental_ms)
        print("written to %s" % os.path.relpath(RESULTS, ROOT))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
