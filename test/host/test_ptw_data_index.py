"""The dataset inspector's line index (resources/host/ptw_host/datasets/line_index.py and line_count.py) (issue 21) against a line-by-line reference.

The index counts lines with bulk byte operations in chunks; these tests shrink the chunk and the checkpoint spacing
so blank lines, whitespace-only lines, CRLF, a last line without a newline and lines longer than a chunk all fall on
chunk and checkpoint edges, and check every checkpoint (a line start, its line, the row there) and the totals
against a plain reading of the file. Then: a file that grows is extended (only the new bytes counted), one
rewritten is indexed again, and the streaming search numbers rows as the index does.

Run by test/unit/host/python-unittest.test.ts with the machine's python3."""

import io
import json
import os
import random
import shutil
import struct
import sys
import tempfile
import unittest
from contextlib import redirect_stdout

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "resources", "host"))
from ptw_host.datasets import line_count, line_index, search  # noqa: E402
from ptw_host.datasets.paths import format_of  # noqa: E402


def reference(content):
    """(line starts, for each line whether it is a row, rows, newline-terminated line count) by plain reading."""
    starts, is_row = [], []
    at = 0
    for raw in content.splitlines(keepends=True):
        starts.append(at)
        is_row.append(raw.strip() != b"")
        at += len(raw)
    return starts, is_row


def pieces(seed, count, kinds, rest):
    """`count` pieces of a file: with kinds = [k0, k1, ...] piece i is kinds[r] for a random r < len(kinds) + rest
    (`rest` more chances of the last one); a kind is bytes, or a function of i and the generator giving bytes."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        kind = kinds[min(rng.randrange(len(kinds) + rest), len(kinds) - 1)]
        out.append(kind(i, rng) if callable(kind) else kind)
    return out


def read_checkpoints(path):
    with open(path, "rb") as f:
        blob = f.read()
    return [struct.unpack_from("<QQQ", blob, i) for i in range(0, len(blob), 24)]


class IndexTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ptw-data-index-")
        self.ws = os.path.join(self.dir, "ws")
        os.makedirs(self.ws)
        self.cache = os.path.join(self.dir, "cache")
        self.saved = (line_count.INDEX_CHUNK, line_count.CHECKPOINT_BYTES, line_count.PARALLEL_MIN, line_count.PARALLEL_WINDOW,
                      line_count.counting_processes, line_count.SEGMENT, line_count.DENSE_LINE, line_count.TAIL_LOOK)
        line_count.INDEX_CHUNK = 257
        line_count.CHECKPOINT_BYTES = 100
        # One process unless a test asks for windows counted side by side.
        line_count.PARALLEL_MIN = 1 << 60

    def tearDown(self):
        (line_count.INDEX_CHUNK, line_count.CHECKPOINT_BYTES, line_count.PARALLEL_MIN, line_count.PARALLEL_WINDOW,
         line_count.counting_processes, line_count.SEGMENT, line_count.DENSE_LINE, line_count.TAIL_LOOK) = self.saved
        shutil.rmtree(self.dir)

    def build(self, name):
        real = os.path.realpath(os.path.join(self.ws, name))
        paths = line_index.index_paths(self.cache, line_index.index_key(self.ws, name))
        return line_index.Builder(real, format_of(real), paths).run(), paths

    def check(self, name, content, spacing=True):
        starts, is_row = reference(content)
        state, paths = self.build(name)
        rows_before = [sum(is_row[:i]) for i in range(len(starts) + 1)]
        self.assertEqual(state["totalRows"], sum(is_row))
        checkpoints = read_checkpoints(paths["checkpoints"])
        self.assertEqual(len(checkpoints), state["checkpoints"])
        self.assertEqual(checkpoints[0], (0, 1, 0))
        for offset, line, row in checkpoints:
            self.assertEqual(starts[line - 1], offset, (offset, line))
            self.assertEqual(rows_before[line - 1], row, (offset, line))
        # One checkpoint at the first line start after every CHECKPOINT_BYTES, at most one per line.
        indexed = state["indexedBytes"]
        self.assertEqual([c[0] for c in checkpoints], sorted(set(c[0] for c in checkpoints)))
        for a, b in zip(checkpoints, checkpoints[1:]) if spacing else []:
            self.assertGreaterEqual(b[0], a[0] + line_count.CHECKPOINT_BYTES)
            first_after = min(s for s in starts if s >= a[0] + line_count.CHECKPOINT_BYTES)
            self.assertEqual(b[0], first_after)
        ends_with_newline = content.endswith(b"\n")
        self.assertEqual(indexed, len(content) if ends_with_newline else starts[-1] if starts else 0)
        return state

    def test_blank_and_whitespace_lines_crlf_and_a_last_line_without_newline(self):
        body = b"".join(pieces(7, 400, [
            b"\n",
            b"  \t \r\n",
            lambda i, rng: b'{"id": %d, "crlf": true}\r\n' % i,
            lambda i, rng: b'{"id": %d, "long": "%s"}\n' % (i, b"y" * rng.randrange(200, 900)),
            lambda i, rng: b'{"id": %d}\n' % i,
        ], 5))
        for tail in (b"", b'{"id": "tail"}', b"   "):
            content = b"\n\n" + body + tail
            name = "mixed%d.jsonl" % len(tail)
            with open(os.path.join(self.ws, name), "wb") as f:
                f.write(content)
            state = self.check(name, content)
            self.assertEqual(bool(state["tail"] and state["tail"]["row"]), tail.strip() != b"")

    def test_windows_counted_side_by_side_give_the_same_index(self):
        content = b"".join(pieces(11, 600, [
            b"\n \n",
            lambda i, rng: b'{"id": %d, "long": "%s"}\n' % (i, b"z" * rng.randrange(300, 1500)),
            lambda i, rng: b'{"id": %d}\r\n' % i,
        ], 5)) + b'{"last": 1}'
        with open(os.path.join(self.ws, "par.jsonl"), "wb") as f:
            f.write(content)
        forks = []
        real_fork = os.fork

        def counting_fork():
            forks.append(1)
            return real_fork()

        line_count.PARALLEL_MIN = 0
        line_count.PARALLEL_WINDOW = 1000
        line_count.counting_processes = lambda: 3
        os.fork = counting_fork
        try:
            state = self.check("par.jsonl", content, spacing=False)
        finally:
            os.fork = real_fork
        self.assertGreater(len(forks), 10)
        starts, is_row = reference(content)
        self.assertEqual(state["totalRows"], sum(is_row))
        self.assertEqual(state["lines"], content.count(b"\n"))

    def test_mapped_windows_switch_between_long_and_short_lines(self):
        # Stretches of long lines (one find per line) and of short ones (bytes.count over copied segments), blank
        # and whitespace-only lines in both, segments and windows far smaller than the stretches.
        short = lambda i, rng: b'{"n": %d}\n' % i  # noqa: E731
        long = lambda i, rng: b'{"n": %d, "s": "%s"}\r\n' % (i, b"w" * rng.randrange(100, 400))  # noqa: E731
        content = b"".join(
            b"".join(pieces(stretch, 80, [b"\n", b" \t\r\n", b"\x01{}\n", short if stretch % 2 else long], 8))
            for stretch in range(12)) + b'{"tail": true}'
        with open(os.path.join(self.ws, "mixed.jsonl"), "wb") as f:
            f.write(content)
        line_count.PARALLEL_MIN = 0
        line_count.PARALLEL_WINDOW = 4000
        line_count.SEGMENT = 300
        line_count.DENSE_LINE = 40
        line_count.TAIL_LOOK = 64
        line_count.counting_processes = lambda: 2
        state = self.check("mixed.jsonl", content, spacing=False)
        self.assertEqual(state["lines"], content.count(b"\n"))
        self.assertTrue(state["tail"]["row"])

    def test_a_file_with_no_newline_at_all_is_one_row(self):
        content = b"x" * 5000
        with open(os.path.join(self.ws, "one.jsonl"), "wb") as f:
            f.write(content)
        state, _ = self.build("one.jsonl")
        self.assertEqual(state["totalRows"], 1)
        self.assertEqual(state["indexedBytes"], 0)
        self.assertEqual(state["problemCount"], 1)

    def test_growth_is_extended_and_a_rewrite_starts_over(self):
        path = os.path.join(self.ws, "grow.jsonl")
        first = b"".join(b'{"n": %d}\n' % i for i in range(300))
        with open(path, "wb") as f:
            f.write(first + b'{"n": "half')
        state = self.check("grow.jsonl", first + b'{"n": "half')
        generation = state["generation"]
        more = b'"}\n' + b"".join(b'{"n": %d}\n\n' % i for i in range(300, 500))
        with open(path, "ab") as f:
            f.write(more)
        state = self.check("grow.jsonl", first + b'{"n": "half' + more)
        self.assertEqual(state["generation"], generation)
        self.assertEqual(state["indexBytes"], len(b'{"n": "half') + len(more))
        self.assertEqual(state["problemCount"], 0)
        rewritten = b"".join(b'{"m": %d}\n' % i for i in range(50))
        with open(path, "wb") as f:
            f.write(rewritten)
        state = self.check("grow.jsonl", rewritten)
        self.assertNotEqual(state["generation"], generation)

    def test_csv_records_with_quoted_newlines(self):
        content = b'q,a\n"two\nlines",1\n' + b"".join(b"x%d,%d\n" % (i, i) for i in range(100)) + b'"open,2\n'
        with open(os.path.join(self.ws, "t.csv"), "wb") as f:
            f.write(content)
        state, paths = self.build("t.csv")
        self.assertEqual(state["header"], ["q", "a"])
        self.assertEqual(state["totalRows"], 102)
        self.assertEqual(state["problems"][-1]["message"], "a quoted field is never closed")
        for offset, line, row in read_checkpoints(paths["checkpoints"]):
            # Each checkpoint starts a record: the header is row -1, "two\\nlines" row 0 on lines 2-3.
            self.assertEqual(content[:offset].count(b"\n") + 1, line)
            self.assertEqual(row, max(0, line - 3))

    def test_csv_counted_in_bulk_where_no_quote_and_line_by_line_where_quoted(self):
        # Stretches with no quote (counted like JSONL) and with quoted newlines, blank lines between records; each
        # line start noted with its line and the data rows before it, each checkpoint checked against them.
        rng = random.Random(9)
        content = b"name,note\n"
        starts = {}
        rows = 0
        for stretch in range(10):
            for i in range(60):
                starts[len(content)] = (content.count(b"\n") + 1, rows)
                if rng.randrange(8) == 0:
                    content += b"\n"
                    continue
                if stretch % 3 == 1 and rng.randrange(3) == 0:
                    content += b'"multi\nline %d",x\n' % i
                else:
                    content += b"n%d,%s\n" % (i, b"v" * rng.randrange(0, 60))
                rows += 1
        with open(os.path.join(self.ws, "bulk.csv"), "wb") as f:
            f.write(content)
        state, paths = self.build("bulk.csv")
        self.assertEqual(state["header"], ["name", "note"])
        self.assertEqual(state["totalRows"], rows)
        self.assertEqual(state["indexedBytes"], len(content))
        checkpoints = read_checkpoints(paths["checkpoints"])
        self.assertGreater(len(checkpoints), 20)
        for offset, line, row in checkpoints:
            self.assertEqual(starts.get(offset), (line, row), offset)

    def test_search_finds_hits_across_steps_and_numbers_them_from_the_index(self):
        # A broken line holding most of the query: no hit.
        lines = pieces(3, 400, [
            b"",
            b" \t\r",
            lambda i, rng: b'{"t": "a ZeBrA and a zebra %d"}' % i,
            b'{"t": "zebr',
            lambda i, rng: b'{"t": "%s %d"}' % (b"q" * rng.randrange(0, 300), i),
        ], 5)
        lines.append(b'{"t": "the last zebra, no newline"}')
        content = b"\n".join(lines)
        with open(os.path.join(self.ws, "z.jsonl"), "wb") as f:
            f.write(content)
        expected, row = [], 0
        for number, raw in enumerate(lines, 1):
            if raw.strip() == b"":
                continue
            if b"zebra" in raw.lower() and raw.endswith(b'"}'):
                expected.append((row, number))
            row += 1
        self.build("z.jsonl")
        saved = search.SEARCH_CHUNK, search.MAX_PROBES
        search.SEARCH_CHUNK = 7
        try:
            # Each place of the query's rarest byte checked, or (no probes allowed) every step lower-cased whole.
            for search.MAX_PROBES, cache_dir in ((16, None), (16, self.cache), (-1, None)):
                args = type("A", (), {"workspace": self.ws, "file": "z.jsonl", "query": "ZEBRA", "limit": 1000,
                                      "stream": False, "cache_dir": cache_dir})
                result = search.cmd_search(args)
                self.assertEqual([(h["row"], h["line"]) for h in result["hits"]], expected, (search.MAX_PROBES, cache_dir))
                self.assertEqual(result["scannedBytes"], len(content))
        finally:
            search.SEARCH_CHUNK, search.MAX_PROBES = saved

    def test_search_numbers_rows_as_the_index_does(self):
        rows = [b'{"t": "plain %d"}' % i for i in range(200)]
        rows[150] = b'{"t": "the Needle here"}'
        content = b"\n  \n".join(rows) + b"\n"
        with open(os.path.join(self.ws, "s.jsonl"), "wb") as f:
            f.write(content)
        for query in ("NEEDLE", "needle here"):
            args = type("A", (), {"workspace": self.ws, "file": "s.jsonl", "query": query, "limit": 10,
                                  "stream": False})
            result = search.cmd_search(args)
            self.assertEqual(result["total"], 1)
            self.assertEqual((result["hits"][0]["row"], result["hits"][0]["line"]), (150, 301))
        # Streamed: each hit printed as found, then the same result.
        args = type("A", (), {"workspace": self.ws, "file": "s.jsonl", "query": "plain 19", "limit": 100,
                              "stream": True})
        out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
        with redirect_stdout(out):
            result = search.cmd_search(args)["done"]
        self.assertEqual([h["row"] for h in result["hits"]], [19] + list(range(190, 200)))
        streamed = [json.loads(line) for line in out.buffer.getvalue().decode("utf-8").splitlines()]
        self.assertEqual([s["hit"]["row"] for s in streamed if "hit" in s], [19] + list(range(190, 200)))


if __name__ == "__main__":
    unittest.main()
