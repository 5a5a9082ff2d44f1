"""The benchmark's test set: where it is found (given, a test-sets folder, a PostTrainBench checkout, the HF cache)
and what each row's question, answer and id are."""

import io
import json
import os

from ptw_host import hf_cache
from ptw_host.integrity.files import Skip

QUESTION_KEYS = ("question", "prompt", "problem", "input", "instruction", "query", "turns", "messages", "text", "Question")
ANSWER_KEYS = ("answer", "solution", "canonical_solution", "output", "completion", "ideal_completion", "target", "Answer", "Correct Answer")

HF_DATASETS = {
    "gsm8k": ["openai/gsm8k", "gsm8k"],
    "humaneval": ["openai/openai_humaneval", "openai_humaneval"],
    "aime2025": ["math-ai/aime25", "opencompass/AIME2025", "yentinglin/aime_2025"],
    "gpqamain": ["Idavidrein/gpqa"],
    "bfcl": ["gorilla-llm/Berkeley-Function-Calling-Leaderboard"],
    "healthbench": ["openai/healthbench"],
    "arenahardwriting": ["lmarena-ai/arena-hard-auto"],
}


def string_leaves(value, out):
    """Every string in a JSON value, in order, appended to `out`."""
    if isinstance(value, str):
        out.append(value)
        return out
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    for child in children:
        string_leaves(child, out)
    return out


def item_parts(row):
    """(question text, answer text, id) of one test row."""
    if isinstance(row, str):
        return row, "", None
    if not isinstance(row, dict):
        return " ".join(string_leaves(row, [])), "", None
    question = answer = None
    for key in QUESTION_KEYS:
        if key in row:
            question = " ".join(string_leaves(row[key], []))
            break
    for key in ANSWER_KEYS:
        if key in row and key not in QUESTION_KEYS:
            answer = " ".join(string_leaves(row[key], []))
            break
    if question is None:
        leaves = string_leaves(row, [])
        question = max(leaves, key=len) if leaves else ""
    ident = None
    for key in ("id", "task_id", "question_id", "prompt_id", "uid", "ID", "Record ID"):
        if isinstance(row.get(key), (str, int)):
            ident = str(row[key])
            break
    return question, answer or "", ident


def read_test_rows(path):
    lower = path.lower()
    if lower.endswith(".parquet"):
        try:
            import pyarrow.parquet as pq  # noqa: PLC0415 (optional)
        except ImportError:
            raise Skip("a Parquet test set needs pyarrow on this machine (pip install pyarrow), or give a .jsonl copy")
        return pq.read_table(path).to_pylist()
    with open(path, "rb") as handle:
        data = handle.read(512 << 20)
    text = data.decode("utf-8", errors="replace")
    if lower.endswith(".json"):
        try:
            value = json.loads(text)
        except ValueError as err:
            raise Skip("not JSON (%s)" % err)
        if isinstance(value, dict):
            for v in value.values():
                if isinstance(v, list):
                    return v
            return [value]
        return value if isinstance(value, list) else [value]
    if lower.endswith(".csv"):
        import csv  # noqa: PLC0415

        return list(csv.DictReader(io.StringIO(text)))
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            rows.append(json.loads(line))
        except ValueError:
            rows.append(line)
    return rows


def find_test_sets(args, notes):
    """The test set files, from (in order) --test-set, a test-sets folder, the PTB checkout, the HF cache."""
    if args.test_set:
        return [os.path.expanduser(p) for p in args.test_set], "given"
    bench = args.benchmark
    if not bench:
        return [], None
    for folder in args.test_sets_dir or []:
        folder = os.path.expanduser(folder)
        for ext in (".jsonl", ".json", ".parquet", ".csv"):
            candidate = os.path.join(folder, bench + ext)
            if os.path.isfile(candidate):
                return [candidate], "test-sets folder %s" % folder
        sub = os.path.join(folder, bench)
        if os.path.isdir(sub):
            found = sorted(os.path.join(sub, n) for n in os.listdir(sub) if n.endswith((".jsonl", ".json", ".parquet", ".csv")))
            if found:
                return found, "test-sets folder %s" % sub
        notes.append("no %s.jsonl|parquet in %s" % (bench, folder))
    if args.ptb_checkout:
        task = os.path.join(os.path.expanduser(args.ptb_checkout), "src", "eval", "tasks", bench)
        found = []
        for dirpath, dirnames, filenames in os.walk(task):
            dirnames[:] = [d for d in dirnames if d not in ("model_answer", "model_judgment")]
            for name in filenames:
                if name.endswith(".jsonl") and (name.startswith(("question", bench)) or "test" in name):
                    found.append(os.path.join(dirpath, name))
        if found:
            return sorted(found), "PostTrainBench checkout %s" % task
        notes.append("the PostTrainBench checkout has no data file for %s (its evaluate.py downloads it)" % bench)
    for cache in args.hf_cache or []:
        cache = os.path.expanduser(cache)
        for ds in HF_DATASETS.get(bench, []):
            for base in hf_cache.candidates(cache, "dataset", ds):
                snapshots = os.path.join(base, "snapshots")
                if not os.path.isdir(snapshots):
                    continue
                found = []
                for dirpath, _dirs, filenames in os.walk(snapshots, followlinks=True):
                    for name in filenames:
                        if "test" in name.lower() and name.endswith((".jsonl", ".json", ".parquet", ".csv")):
                            found.append(os.path.join(dirpath, name))
                if found:
                    return sorted(found), "HF cache %s" % base
    notes.append("no %s test set in the HF cache (%s)" % (bench, ", ".join(args.hf_cache or []) or "none given"))
    return [], None
