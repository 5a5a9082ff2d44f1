"""The contamination check: every text file of the workspace (archives too) against the benchmark's test set."""

import hashlib
import json
import lzma
import os
import tarfile
import time
import zipfile

from ptw_host.integrity.files import MAX_DECOMPRESSED, LimitedReader, Skip, open_streams, rel
from ptw_host.integrity.ngram_index import Coverage, TestIndex, ngrams, scan_rows, scan_stream
from ptw_host.integrity.report import file_mtime_ms, human_bytes, not_run
from ptw_host.integrity.test_sets import find_test_sets, item_parts, read_test_rows
from ptw_host.integrity.text import words

MAX_EVIDENCE = 20  # evidence items per flag
MAX_HITS = 200  # test items reported per check
MAX_TEST_ITEMS = 200000


def check_contamination(args, ctx):
    notes = []
    try:
        files, source = find_test_sets(args, notes)
    except OSError as err:
        return not_run("contamination", "the test set could not be read: %s" % err), []
    if not files:
        what = "no benchmark named for this run" if not args.benchmark else "; ".join(notes)
        return not_run(
            "contamination",
            "no test set found (%s): put %s.jsonl in a test-sets folder (--test-sets DIR) or give --ptb-checkout" % (what, args.benchmark or "BENCHMARK"),
        ), []
    cache = ctx["cache"].setdefault("contamination", {})
    signature = test_signature(files, args)
    if cache.get("signature") != signature:
        cache.clear()
        cache["signature"] = signature
    cached_files = cache.setdefault("files", {})
    state = {"index": None, "items": cache.get("items", 0)}
    timing = {"index": 0.0, "scan": 0.0}

    def get_index():
        """The test set's index, built only when some file has to be read (an unchanged workspace needs none)."""
        if state["index"] is None:
            started = time.process_time()
            rows = []
            for f in files:
                rows.extend(read_test_rows(f))
            items = []
            for row in rows[:MAX_TEST_ITEMS]:
                q, a, ident = item_parts(row)
                qw, aw = words(q), words(a)
                if qw or aw:
                    items.append({"q": qw, "a": aw, "id": ident, "text": q[:300]})
            if not items:
                raise Skip("the test set (%s) has no items with text" % ", ".join(files))
            state["index"] = TestIndex(items, args.n)
            state["items"] = cache["items"] = len(items)
            timing["index"] = time.process_time() - started
        return state["index"]

    stats = {"bytes": 0, "files": 0, "reused": 0}
    flags = []
    evidence = []
    seen = set()
    try:
        for path in ctx["text_files"]:
            name = rel(ctx["root"], path)
            seen.add(name)
            try:
                st = os.lstat(path)
                key = [st.st_size, st.st_mtime_ns]
            except OSError as err:
                ctx["skipped"].append({"file": name, "reason": "not readable: %s" % err.strerror})
                continue
            entry = cached_files.get(name)
            if entry is None or entry.get("key") != key:
                index = get_index()
                started = time.process_time()  # CPU seconds: what one core spends, whatever else the host runs
                entry = {"key": key, **scan_file(index, path, name, args, stats, entry)}
                timing["scan"] += time.process_time() - started
                cached_files[name] = entry
            else:
                stats["reused"] += 1
            evidence.extend(entry["evidence"])
            ctx["skipped"].extend(entry["skipped"])
            stats["files"] += 1
    except (OSError, Skip) as err:
        cache.clear()
        return not_run("contamination", "the test set is not readable: %s" % err), []
    for name in list(cached_files):
        if name not in seen:
            del cached_files[name]
    evidence.sort(key=lambda e: (-e["coverage"], e["file"], e["line"]))
    hits = [e for e in evidence if is_hit(e)]
    partial = [e for e in evidence if not is_hit(e)]
    bench = args.benchmark or "the test set"
    if hits:
        items_hit = sorted({e["item"] for e in hits})
        files_hit = sorted({e["file"] for e in hits})
        severity = "high" if any(e["coverage"] >= 0.8 or e["idf5"] >= 0.8 for e in hits) else "medium"
        flags.append(
            {
                "kind": "contamination",
                "severity": severity,
                "summary": "%d test item(s) of %s found in %d file(s): %s" % (len(items_hit), bench, len(files_hit), ", ".join(files_hit[:5])),
                "evidence": hits[:MAX_HITS],
            }
        )
    if partial:
        flags.append(
            {
                "kind": "contamination",
                "severity": "info",
                "summary": "%d partial overlap(s) with %s below the bar (shared openings or phrasing; under %d%% of a question, under half of an item)"
                % (len(partial), bench, round(100 * QUESTION_BAR)),
                "evidence": partial[:MAX_EVIDENCE],
            }
        )
    reason = "%d item(s) of %s checked against %d file(s) (%s read now%s) with %d-grams and IDF-weighted 5-grams" % (
        state["items"],
        source,
        stats["files"],
        human_bytes(stats["bytes"]),
        ", %d unchanged since the last pass" % stats["reused"] if stats["reused"] else "",
        args.n,
    )
    check = {"kind": "contamination", "status": "flag" if hits else "pass", "reason": reason}
    check["testSet"] = files
    check["items"] = state["items"]
    check["bytesScanned"] = stats["bytes"]
    check["filesReused"] = stats["reused"]
    check["indexSeconds"] = round(timing["index"], 3)
    check["scanSeconds"] = round(timing["scan"], 3)
    return check, flags


# An item counts as hit when 80 % of its question (a question-only copy), half of the whole item (question with its


# An item counts as hit when 80 % of its question (a question-only copy), half of the whole item (question with its
# answer), or 80 % of a long answer is covered; partial overlaps from PARTIAL_BAR up are shown as info.
QUESTION_BAR = 0.8
ITEM_BAR = 0.5
PARTIAL_BAR = 0.4


def is_hit(e):
    return e["questionCoverage"] >= QUESTION_BAR or e["itemCoverage"] >= ITEM_BAR or e["answerCoverage"] >= QUESTION_BAR


def test_signature(files, args):
    parts = [args.n, args.benchmark or ""]
    for f in files:
        try:
            st = os.stat(f)
            parts.append([f, st.st_size, st.st_mtime_ns])
        except OSError:
            parts.append([f, None])
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()




def scan_file(index, path, name, args, stats, previous=None):
    """One workspace file (or archive) against the index: {"evidence": [...], "skipped": [...]} (cached by the caller),
    with `resume` for a plain text file, so that once it has grown only its new bytes are read (`previous`: the
    cached entry of the last pass)."""
    resume = previous.get("resume") if isinstance(previous, dict) else None
    found = None
    if resume and is_plain(path):
        found = resume_scan(index, path, name, args, stats, resume)
    if found is None:
        found = scan_file_inner(index, path, name, args, stats)
    mtime = file_mtime_ms(path)
    # An item already found by the last pass keeps the time its evidence first appeared; new ones get the file's.
    before = {e["item"]: e.get("mtime") for e in previous.get("evidence", [])} if found.get("resumed") else {}
    for e in found["evidence"]:
        e["mtime"] = before.get(e["item"]) or mtime
    found.pop("resumed", None)
    return found


# --- reading only what a file appended since the last pass ----------------------------------------------------------

COMPRESSED_OR_TABLE = (".gz", ".bz2", ".xz", ".zip", ".tgz", ".tar", ".zst", ".parquet")
MAX_RESUME_POSITIONS = 200000  # covered positions kept per file for a resume (beyond that: read it whole again)
SEAL = 4096  # bytes hashed at the start and at the end of what was read, to tell an append from a rewrite


def is_plain(path):
    return not path.lower().endswith(COMPRESSED_OR_TABLE)


def seal(path, end):
    """Hashes of the first and of the last SEAL bytes before `end`: unchanged when the file was only appended to."""
    with open(path, "rb") as handle:
        head = handle.read(min(end, SEAL))
        handle.seek(max(0, end - SEAL))
        tail = handle.read(min(end, SEAL))
    return [hashlib.sha256(head).hexdigest(), hashlib.sha256(tail).hexdigest()]


def coverage_state(hits):
    """The per-item coverage of a scan as JSON (for the cache), or None when it is too large to keep."""
    if sum(len(c.q) + len(c.a) for c in hits.values()) > MAX_RESUME_POSITIONS:
        return None
    return {str(item): [sorted(c.q), sorted(c.a), c.first_line, c.span, c.short] for item, c in hits.items()}


def restore_hits(state):
    hits = {}
    for item, (q, a, first_line, span, short) in state.items():
        cov = Coverage()
        cov.q, cov.a, cov.first_line, cov.span, cov.short = set(q), set(a), first_line, span, short
        hits[int(item)] = cov
    return hits


def resume_state(path, scan, hits):
    if not scan["endsWithSpace"]:
        return None  # the last word may go on: the next pass reads the file whole
    coverage = coverage_state(hits)
    if coverage is None:
        return None
    try:
        sealed = seal(path, scan["bytes"])
    except OSError:
        return None
    return dict(scan, hits=coverage, seal=sealed)


def resume_scan(index, path, name, args, stats, resume):
    """The file read from where the last pass stopped, when it only grew since (same start, same bytes before the
    old end); None when it was rewritten, shrank or cannot be read, so the caller reads it whole."""
    try:
        end = resume["bytes"]
        if os.lstat(path).st_size < end or seal(path, end) != resume["seal"]:
            return None
        hits = restore_hits(resume["hits"])
        with open(path, "rb") as handle:
            handle.seek(end)
            scan = scan_stream(index, handle, hits, stats, start=resume)
    except (OSError, KeyError, TypeError, ValueError, Skip):
        return None
    return {"evidence": item_hits(index, hits, name, args), "skipped": [], "resume": resume_state(path, scan, hits), "resumed": True}


def scan_file_inner(index, path, name, args, stats):
    evidence, skipped = [], []
    if path.lower().endswith(".parquet"):
        try:
            import pyarrow.parquet as pq  # noqa: PLC0415 (optional)
        except ImportError:
            return {"evidence": [], "skipped": [{"file": name, "reason": "Parquet needs pyarrow on the host (pip install pyarrow); not scanned"}]}
        hits = {}
        try:
            scan_rows(index, pq.read_table(path).to_pylist(), hits)
        except Exception as err:  # noqa: BLE001 (a broken file is reported, never fatal)
            return {"evidence": [], "skipped": [{"file": name, "reason": "Parquet not readable: %s" % err}]}
        return {"evidence": item_hits(index, hits, name, args), "skipped": []}
    resume = None
    try:
        for member, stream in open_streams(path, os.path.basename(path)):
            hits = {}
            label = name if member is None else "%s!%s" % (name, member)
            try:
                scan = scan_stream(index, stream, hits, stats)
            except Skip as err:
                if member is None:
                    raise
                skipped.append({"file": label, "reason": str(err)})
                continue
            if member is None and is_plain(path):
                resume = resume_state(path, scan, hits)
            if isinstance(stream, LimitedReader) and stream.cut:
                skipped.append({"file": label, "reason": "only part of its content was read (%s per file, %s per pass, of compressed content)" % (human_bytes(MAX_DECOMPRESSED), human_bytes(16 << 30))})
            evidence.extend(item_hits(index, hits, label, args))
    except Skip as err:
        skipped.append({"file": name, "reason": str(err)})
    except (OSError, EOFError, zlib_error(), lzma.LZMAError, tarfile.TarError, zipfile.BadZipFile, RuntimeError) as err:
        skipped.append({"file": name, "reason": "not readable: %s" % err})
    return {"evidence": evidence, "skipped": skipped, "resume": resume if not skipped else None}


def zlib_error():
    import zlib  # noqa: PLC0415

    return zlib.error


def item_hits(index, hits, label, args):
    """Evidence for items whose coverage passes the bar: question ≥ 50 %, or an answer long enough to be unique."""
    out = []
    for item_no, cov in hits.items():
        item = index.items[item_no]
        q_len, a_len = len(item["q"]), len(item["a"])
        q_cov = (len(cov.q) / q_len) if q_len else 0.0
        a_cov = (len(cov.a) / a_len) if a_len else 0.0
        whole = (len(cov.q) + len(cov.a)) / max(1, q_len + a_len)
        if cov.short:
            q_cov = 1.0
        coverage = max(q_cov, a_cov if a_len >= 2 * args.n else 0.0, whole)
        if coverage < PARTIAL_BAR:
            continue
        # IDF-weighted 5-gram coverage of the item by the matched region (PostTrainBench's measure), for comparison.
        covered = [item["q"][i] for i in sorted(cov.q) if i < q_len] + [item["a"][i] for i in sorted(cov.a) if i < a_len]
        matched5 = set(ngrams(covered, 5))
        all5 = ngrams(item["q"] + item["a"], 5)
        total = sum(index.idf5(g) for g in all5) or 1.0
        idf5 = sum(index.idf5(g) for g in all5 if g in matched5) / total
        out.append(
            {
                "type": "test-item",
                "file": label,
                "line": cov.first_line or 0,
                "item": item_no,
                "itemId": item["id"],
                "itemText": item["text"],
                "span": cov.span or "",
                "coverage": round(coverage, 3),
                "questionCoverage": round(q_cov, 3),
                "answerCoverage": round(a_cov if a_len >= 2 * args.n else 0.0, 3),
                "itemCoverage": round(whole, 3),
                "idf5": round(idf5, 3),
                "shortItem": cov.short,
            }
        )
    return out
