"""The test set's n-grams and the matching of a workspace's text against them (numpy when the host has it)."""

import bisect
import collections
import itertools
import math
import os

from ptw_host.integrity.files import CHUNK, Skip, looks_binary
from ptw_host.integrity.test_sets import string_leaves
from ptw_host.integrity.text import WORD, normalize, words

try:  # optional: with numpy the n-gram windows are hashed and looked up vectorized (several times faster)
    import numpy as np
except ImportError:  # pragma: no cover - depends on the host
    np = None
if os.environ.get("PTW_INTEGRITY_ENGINE") == "python":  # the standard-library path, on a host that has numpy too
    np = None

GRAM_MULT = 0x100000001B3  # FNV prime: windows hashed as sum(hash(word_i) * MULT^(n-1-i)) mod 2^64
FILTER_BITS = 1 << 26


def windows(toks, n):
    """Every n-token window of `toks` as a tuple, built in C (zip over shifted views): no Python loop per token."""
    return zip(*[itertools.islice(toks, i, None) for i in range(n)])


class TestIndex:
    """The test set's n-grams: 13-grams (common ones dropped) for the hits, IDF-weighted 5-grams beside them."""

    def __init__(self, items, n):
        self.n = n
        self.items = items  # [{"q": [words], "a": [words], "id": ..., "text": original question}]
        self.grams = {}  # n-gram tuple -> [(item, part, position)]
        self.short = {}  # tuple of a short item's words -> [item], for items shorter than n
        self.short_heads = set()  # the first 3 words of every short item (a C-level filter before the exact check)
        df = collections.Counter()
        for i, item in enumerate(items):
            for part in ("q", "a"):
                toks = item[part]
                if part == "a" and len(toks) < n:
                    continue  # a short answer ("18") is everywhere; it counts only with its question
                if len(toks) < n:
                    if len(toks) >= 3:
                        self.short.setdefault(tuple(toks), []).append(i)
                        self.short_heads.add(tuple(toks[:3]))
                    continue
                code = i * 2 + (0 if part == "q" else 1)
                grams = self.grams
                for p, g in enumerate(windows(toks, n)):
                    # One packed int per gram; a gram several items share goes to a list (rare).
                    if g in grams:
                        prev = grams[g]
                        if isinstance(prev, list):
                            prev.append((code << 20) | p)
                        else:
                            grams[g] = [prev, (code << 20) | p]
                    else:
                        grams[g] = (code << 20) | p
                df.update(set(windows(toks, n)))
        # A 13-gram shared by many items is the benchmark's boilerplate ("how much money does she make every"...).
        common = max(3, len(items) // 200)
        for g, count in df.items():
            if count > common:
                del self.grams[g]
        self.keys = set(self.grams)
        # numpy: a 2^26-bit filter of the windows' hashes (8 MiB; ~1 % false positives at a million grams, each
        # then checked exactly against `keys`).
        self.bits = None
        if np is not None and self.keys:
            bits = np.zeros(FILTER_BITS >> 3, dtype=np.uint8)
            for item in items:
                for part in (item["q"], item["a"]):
                    if len(part) >= n:
                        slot = window_hashes(part, n) & np.uint64(FILTER_BITS - 1)
                        np.bitwise_or.at(bits, (slot >> np.uint64(3)).astype(np.intp), np.left_shift(1, (slot & np.uint64(7)).astype(np.uint8)).astype(np.uint8))
            self.bits = bits
        self.short_lengths = sorted({len(k) for k in self.short})
        # IDF over 5-grams of the test items (PostTrainBench's measure).
        df5 = collections.Counter()
        for item in items:
            df5.update(set(windows(item["q"] + item["a"], 5)))
        self.df5 = df5
        self.total = max(1, len(items))

    def idf5(self, gram):
        """PostTrainBench-style IDF of a 5-gram over the test items (computed when a hit needs it)."""
        return math.log((1 + self.total) / (1 + self.df5.get(gram, 0))) + 1.0

    def postings(self, gram):
        """(item, part, position) of every place the gram occurs in the test set."""
        value = self.grams[gram]
        for code in value if isinstance(value, list) else (value,):
            yield code >> 21, "q" if ((code >> 20) & 1) == 0 else "a", code & 0xFFFFF


def ngrams(toks, n):
    return list(windows(toks, n))


class Coverage:
    """Per (file, item): token positions of the question and answer covered by matched n-grams."""

    def __init__(self):
        self.q = set()
        self.a = set()
        self.first_line = None
        self.span = None
        self.short = False


def window_hashes(toks, n):
    """numpy: one 64-bit hash per n-word window (sum of word hashes times powers of a prime, wrapping)."""
    count = len(toks) - n + 1
    words_h = np.fromiter(map(hash, toks), dtype=np.int64, count=len(toks)).view(np.uint64)
    acc = np.zeros(count, dtype=np.uint64)
    mult = np.uint64(GRAM_MULT)
    for i in range(n):
        acc *= mult
        acc += words_h[i : i + count]
    return acc


def candidate_positions(index, toks):
    """numpy: positions whose window passes the test set's filter (a superset of the matches; checked exactly)."""
    slot = window_hashes(toks, index.n) & np.uint64(FILTER_BITS - 1)
    byte = index.bits[(slot >> np.uint64(3)).astype(np.intp)]
    hit = np.right_shift(byte, (slot & np.uint64(7)).astype(np.uint8)) & 1
    return np.nonzero(hit)[0].tolist()


def scan_tokens(index, toks, lines, label, hits):
    """Matches a window of (word, line) pairs against the index; coverage per item accumulates in `hits`.

    With numpy the windows are hashed and looked up vectorized, else intersected with the test set's n-grams in C;
    either way Python only visits the positions of a (candidate) match, and every match is checked exactly."""
    n = index.n
    if len(toks) >= n:
        if index.bits is not None:
            positions = [(p, tuple(toks[p : p + n])) for p in candidate_positions(index, toks)]
            matches = [(p, g) for p, g in positions if g in index.keys]
        else:
            found = index.keys.intersection(windows(toks, n))
            matches = [(p, g) for p, g in enumerate(windows(toks, n)) if g in found] if found else []
        for p, g in matches:
            for item, part, pos in index.postings(g):
                cov = hits.setdefault(item, Coverage())
                target = cov.q if part == "q" else cov.a
                target.update(range(pos, pos + n))
                if cov.first_line is None:
                    cov.first_line = lines[p]
                    cov.span = " ".join(toks[max(0, p - 2) : p + n + 8])
    if index.short and len(toks) >= 3:
        heads = index.short_heads.intersection(windows(toks, 3))
        if heads:
            for p, g in enumerate(windows(toks, 3)):
                if g not in heads:
                    continue
                for length in index.short_lengths:
                    found = index.short.get(tuple(toks[p : p + length]))
                    if not found:
                        continue
                    for item in found:
                        cov = hits.setdefault(item, Coverage())
                        cov.short = True
                        cov.q.update(range(length))
                        if cov.first_line is None:
                            cov.first_line = lines[p]
                            cov.span = " ".join(toks[p : p + length])


class ChunkLines:
    """Token position → line number for one chunk, worked out only when a match asks (most chunks have none): the
    carried-over words of the previous chunk keep their own lines, the chunk's words are counted line by line."""

    def __init__(self, carry_lines, text, first_line):
        self.carry = carry_lines
        self.text = text
        self.first_line = first_line
        self.ends = None

    def __getitem__(self, position):
        if position < len(self.carry):
            return self.carry[position]
        if self.ends is None:
            self.ends, self.numbers = [], []
            total = len(self.carry)
            for number, piece in enumerate(self.text.split("\n")):
                count = len(WORD.findall(piece))
                if count:
                    total += count
                    self.ends.append(total)
                    self.numbers.append(self.first_line + number)
        return self.numbers[bisect.bisect_right(self.ends, position)]


def scan_stream(index, stream, hits, stats, start=None):
    """Reads a binary stream in chunks (bounded memory, any line length); words keep their line numbers.

    `start` resumes a scan where an earlier one ended (a file that grew): the stream is positioned at the end of what
    that scan read, and its carried words, line number and `hits` are as it left them, so the new bytes are read as
    the next chunk would have been. Returns the same kind of state for the next resume, with `bytes` read in all and
    `endsWithSpace` (a resume is exact only when the scan ended at whitespace: no word was cut)."""
    keep = max([index.n] + index.short_lengths)
    carry_toks, carry_lines = [], []
    line = 1
    total = 0
    last_byte = b""
    if start:
        carry_toks, carry_lines, line, total = list(start["carry"]), list(start["carryLines"]), start["line"], start["bytes"]
    pending = b""
    first = start is None
    while True:
        block = stream.read(CHUNK)
        if block:
            total += len(block)
            last_byte = block[-1:]
        if first:
            first = False
            if looks_binary(block[:8192]):
                raise Skip("binary content, not text")
        if not block and not pending:
            break
        data = pending + block
        if block:
            # Cut at the last whitespace so no word (or escape) is split between chunks.
            cut = max(data.rfind(b"\n"), data.rfind(b" "))
            if cut <= 0:
                cut = len(data) if len(data) > 4 * CHUNK else -1
            if cut < 0:
                pending = data
                continue
            pending = data[cut:]
            data = data[:cut]
        else:
            pending = b""
        stats["bytes"] += len(data)
        text = normalize(data.decode("utf-8", errors="replace"))
        toks = carry_toks + WORD.findall(text)
        lines = ChunkLines(carry_lines, text, line)
        newlines = text.count("\n")
        scan_tokens(index, toks, lines, None, hits)
        carry_toks = toks[-(keep - 1) :] if keep > 1 else []
        # The carried words end the chunk: they are on its last line.
        carry_lines = [line + newlines] * len(carry_toks)
        line += newlines
        if not block:
            break
    return {
        "carry": carry_toks,
        "carryLines": carry_lines,
        "line": line,
        "bytes": total,
        "endsWithSpace": last_byte in (b"\n", b" ", b"\t", b"\r") if last_byte else bool(start and start.get("endsWithSpace")),
    }


def scan_rows(index, rows, hits):
    """Parquet rows (pyarrow): each row's text, numbered by row."""
    for r, row in enumerate(rows):
        toks = [w for s in string_leaves(row, []) for w in words(s)]
        scan_tokens(index, toks, [r + 1] * len(toks), None, hits)
