"""One pass of the integrity checks over a run folder: the files gathered once, each check run (a check that breaks
is not-run with why), and what the last pass read kept in a cache file so the next reads only what changed."""

import hashlib
import json
import os
import time

from ptw_host import hf_cache
from ptw_host.integrity.api_misuse import check_api
from ptw_host.integrity.contamination import check_contamination
from ptw_host.integrity.files import DECOMPRESS_BUDGET, inside, rel, sha256_file, walk_files
from ptw_host.integrity.report import not_run
from ptw_host.integrity.substitution import MODEL_PAIRS, check_substitution
from ptw_host.integrity.tampering import check_tampering

VERSION = 1

# --- files -------------------------------------------------------------------------------------------------------

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".gguf", ".onnx", ".npy", ".npz", ".h5", ".msgpack")
# Vocabulary files hold every word of the language: they would match anything and say nothing about training data.
VOCAB_NAMES = {"tokenizer.json", "vocab.json", "merges.txt", "vocab.txt", "tokenizer.model", "spiece.model"}
COMPRESSED = (".gz", ".bz2", ".xz", ".zip", ".tgz", ".zst")
CODE_SUFFIXES = (".py", ".sh", ".bash", ".ipynb", ".js", ".ts", ".mjs", ".rb", ".pl", ".r", ".jl", ".go")
# Installed libraries inside the workspace: their source mentions API hosts without the agent calling anything.
LIBRARY_DIRS = {"site-packages", "dist-packages", "node_modules", "__pycache__", ".git"}


def gather(args):
    root = os.path.abspath(os.path.expanduser(args.root))
    workspace = os.path.abspath(os.path.expanduser(args.workspace)) if args.workspace else None
    skipped = []
    refused = None
    text_files, code_files = [], []
    clean_hashes = {}
    clean = os.path.expanduser(args.clean_task) if args.clean_task else None
    if args.ptb_checkout and args.benchmark and not (clean and os.path.isdir(clean)):
        clean = os.path.join(os.path.expanduser(args.ptb_checkout), "src", "eval", "tasks", args.benchmark)
    if clean and os.path.isdir(clean):
        for path in walk_files(clean, clean, []):
            try:
                clean_hashes[rel(clean, path)] = os.path.getsize(path)
            except OSError:
                pass
    if workspace and os.path.isdir(workspace):
        if not inside(root, workspace) or os.path.islink(workspace):
            refused = "the workspace %s is a symlink or outside the run folder; not read" % workspace
            skipped.append({"file": workspace, "reason": refused})
        else:
            for path in walk_files(workspace, root, skipped):
                name = rel(workspace, path)
                base = os.path.basename(path).lower()
                if base.endswith(WEIGHT_SUFFIXES) or base in VOCAB_NAMES:
                    continue
                parts = set(name.split("/")[:-1])
                if name in clean_hashes and clean_hashes[name] == os.path.getsize(path):
                    try:
                        if sha256_file(path) == sha256_file(os.path.join(clean, name)):
                            continue  # an unchanged copy of a task file (the evaluator's own data is no contamination)
                    except OSError:
                        pass
                text_files.append(path)
                if base.endswith(CODE_SUFFIXES) and not (parts & LIBRARY_DIRS) and not any(p in ("venv", ".venv", "env") for p in parts):
                    code_files.append(path)
    traces = []
    for trace in args.trace or []:
        trace = os.path.abspath(os.path.expanduser(trace))
        if os.path.islink(trace) or not inside(root, trace):
            skipped.append({"file": trace, "reason": "trace is a symlink or outside the run folder; not read"})
        elif os.path.isfile(trace):
            traces.append(trace)
            if trace not in text_files:
                text_files.append(trace)
    final = os.path.abspath(os.path.expanduser(args.final_model)) if args.final_model else (os.path.join(workspace, "final_model") if workspace else None)
    return {
        "root": root,
        "workspace": workspace or root,
        "text_files": text_files,
        "code_files": code_files,
        "traces": traces,
        "skipped": skipped,
        "final_model": final,
        "clean_task": clean if clean and os.path.isdir(clean) else None,
        "refused": refused,
    }


CHECKS = [("contamination", check_contamination), ("model_substitution", check_substitution), ("eval_tampering", check_tampering), ("api_misuse", check_api)]


def load_cache(path):
    if not path:
        return {}
    try:
        with open(path, "rb") as handle:
            value = json.loads(handle.read().decode("utf-8"))
        return value if isinstance(value, dict) and value.get("version") == VERSION else {}
    except (OSError, ValueError, UnicodeDecodeError):
        return {}


def save_cache(path, cache):
    if not path:
        return
    cache["version"] = VERSION
    tmp = "%s.%d.tmp" % (path, os.getpid())
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(cache, handle)
        os.replace(tmp, path)
    except OSError:
        pass


def model_signature(args, ctx):
    """What the substitution check read: final_model's weight files and the reference snapshots."""
    parts = [args.base_model or "", sorted(args.pair or []), args.hf_cache or []]
    final = ctx["final_model"]
    try:
        for name in sorted(os.listdir(final)) if final and os.path.isdir(final) else []:
            st = os.lstat(os.path.join(final, name))
            parts.append([name, st.st_size, st.st_mtime_ns])
    except OSError:
        return None
    for model in (args.base_model, dict(MODEL_PAIRS).get(args.base_model or "")):
        snap = hf_cache.snapshot(model, args.hf_cache or [])[0] if model else None
        parts.append(snap)
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()


def run_checks(args):
    started = time.time()
    DECOMPRESS_BUDGET["left"] = 16 << 30
    ctx = gather(args)
    ctx["cache"] = load_cache(args.cache)
    checks, flags = [], []
    for kind, fn in CHECKS:
        if args.only and kind not in args.only:
            continue
        try:
            signature = model_signature(args, ctx) if kind == "model_substitution" and args.cache else None
            cached = ctx["cache"].get("model_substitution")
            if signature and isinstance(cached, dict) and cached.get("signature") == signature:
                check, found = cached["check"], cached["flags"]
            else:
                check, found = fn(args, ctx)
                if signature:
                    ctx["cache"]["model_substitution"] = {"signature": signature, "check": check, "flags": found}
        except Exception as err:  # noqa: BLE001 (a check that breaks is not-run with why; the others still run)
            check, found = not_run(kind, "the check failed: %s: %s" % (type(err).__name__, err)), []
        checks.append(check)
        flags.extend(found)
    save_cache(args.cache, ctx["cache"])
    missing = args.workspace and not os.path.isdir(os.path.expanduser(args.workspace))
    if missing or ctx["refused"]:
        for c in checks:
            if c["kind"] == "contamination" and c["status"] == "pass":
                c["status"] = "not-run"
                c["reason"] = ctx["refused"] or "no workspace folder to read (%s)" % args.workspace
    return {
        "version": VERSION,
        "checks": checks,
        "flags": flags,
        "skipped": ctx["skipped"][:500],
        "skippedCount": len(ctx["skipped"]),
        "seconds": round(time.time() - started, 3),
    }
