"""`data search`: rows holding a text, streamed as they are found (`--stream`)."""

import bisect
import mmap
import os
import time

from ptw_host.datasets import line_count
from ptw_host.datasets.exact_json import load_row
from ptw_host.datasets.line_index import SAVE_EVERY_S, index_key, index_paths, load_index
from ptw_host.datasets.output import encode, write_answer
from ptw_host.datasets.paths import format_of, inside
from ptw_host.datasets.rows import iter_rows, row_text


def prefilterable(query):
    """Whether matching the lower-cased raw bytes can rule lines out: an ASCII query with nothing JSON escapes (a
    quote, a backslash, a control character), which appears in a line's bytes as it appears in its text."""
    return all(32 <= ord(c) < 127 and c not in '"\\' for c in query)


class SearchOutput(object):
    """Hits as they are found and progress a few times a second (`--stream`: one JSON line each), then the result."""

    def __init__(self, query, limit, size, stream):
        self.query, self.limit, self.size, self.stream = query, limit, size, stream
        self.hits, self.total, self.scanned, self.t0, self.shown_at = [], 0, 0, time.time(), 0.0
        self.first_hit_ms = None

    def emit(self, obj):
        write_answer(encode(obj), flush=True)

    def hit(self, row, line, text, at, needle):
        self.total += 1
        if len(self.hits) >= self.limit:
            return
        if self.first_hit_ms is None:
            self.first_hit_ms = int((time.time() - self.t0) * 1000)
        start = max(0, at - 60)
        hit = {'row': row, 'line': line, 'snippet': text[start:at + len(needle) + 60],
               'matchStart': at - start, 'matchEnd': at - start + len(needle)}
        self.hits.append(hit)
        if self.stream:
            self.emit({'hit': hit, 'total': self.total, 'scannedBytes': self.scanned})

    def progress(self, scanned):
        self.scanned = scanned
        now = time.time()
        if self.stream and now - self.shown_at >= SAVE_EVERY_S:
            self.shown_at = now
            # A write to a closed channel (the search was cancelled) ends the process here.
            self.emit({'progress': {'scannedBytes': scanned, 'size': self.size, 'total': self.total}})

    def result(self):
        return {'query': self.query, 'total': self.total, 'hits': self.hits, 'scannedBytes': self.scanned,
                'size': self.size, 'elapsedMs': int((time.time() - self.t0) * 1000), 'firstHitMs': self.first_hit_ms}


def check_line(raw, needle, row, line, out):
    try:
        value = load_row(raw)
    except (UnicodeDecodeError, ValueError):
        return
    text = row_text(value)
    at = text.lower().find(needle)
    if at >= 0:
        out.hit(row, line, text, at, needle)


# The lower-cased bytes looked through per step: small enough to stay in the CPU's cache (lower() then find() over
# it run several times faster than over megabytes).
SEARCH_CHUNK = 64 * 1024


class RowCounter(object):
    """Line and row numbers of line starts met in file order: counted from the last one (or from the nearest
    checkpoint of the file's finished index when there is one further on), so stretches with no hit cost a count
    over a map (or nothing, with an index) instead of a parse."""

    def __init__(self, m, checkpoints):
        self.m, self.pos, self.line, self.row = m, 0, 1, 0
        self.offsets = [c[0] for c in checkpoints]
        self.checkpoints = checkpoints

    def at(self, start):
        """(line, rows before it) of the line starting at `start` (>= the last one asked for)."""
        i = bisect.bisect_right(self.offsets, start) - 1
        if i >= 0 and self.offsets[i] > self.pos:
            self.pos, self.line, self.row = self.checkpoints[i]
        if start > self.pos:
            _, lines, rows = line_count.count_mapped(self.m, self.pos, start, ck_bytes=1 << 62)
            self.pos, self.line, self.row = start, self.line + lines, self.row + rows
        return self.line, self.row

    def passed(self, end, is_row):
        """Moves past the line that starts where the last `at` was and ends (just after its newline) at `end`."""
        self.pos, self.line, self.row = end, self.line + 1, self.row + (1 if is_row else 0)


def finished_checkpoints(args, real):
    """The checkpoints of the file's index when it is finished and describes the file as it is now, else []."""
    cache_dir = getattr(args, 'cache_dir', None)
    if not cache_dir:
        return []
    paths = index_paths(cache_dir, index_key(args.workspace, args.file))
    if load_index(paths['state'], os.stat(real)) is None:
        return []
    try:
        with open(paths['checkpoints'], 'rb') as f:
            blob = f.read()
    except OSError:
        return []
    return [line_count.CHECKPOINT.unpack_from(blob, i) for i in range(0, len(blob) - 23, line_count.CHECKPOINT.size)]


def search_jsonl(real, needle, out, checkpoints=()):
    """An ASCII query is looked for in the lower-cased raw bytes first, in small steps over a map of the file; only
    the lines that hold it are parsed, and rows are numbered only where a hit is (from the index when it is
    finished). Anything else (or a file that cannot be mapped): every line parsed."""
    raw_needle = needle.encode('ascii') if prefilterable(needle) else None
    if raw_needle is None or not raw_needle:
        return search_jsonl_lines(real, needle, out)
    with open(real, 'rb') as f:
        size = os.fstat(f.fileno()).st_size
        try:
            m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if size else None
        except (OSError, ValueError):
            return search_jsonl_lines(real, needle, out)
        if m is None:
            return None
        try:
            search_mapped(m, size, needle, raw_needle, out, RowCounter(m, list(checkpoints)))
        finally:
            m.close()
    return None


# Letters from the most to the least common in English text; other bytes rank as FREQUENT below.
LETTER_RANK = b'etaoinsrhldcumfpgwybvkxjqz'
FREQUENT = frozenset(b' "\',:{}')
# More places of the probe byte than this in a step: the step is lower-cased and searched whole instead.
MAX_PROBES = 16


def probe_of(raw_needle):
    """The needle's rarest byte (by English letter frequency; quotes, spaces and JSON punctuation count as common),
    its index in the needle, and the bytes it may appear as (both cases of a letter)."""
    def rarity(c):
        if c in FREQUENT:
            return -1
        low = bytes([c]).lower()[0]
        return LETTER_RANK.find(bytes([low])) if low in LETTER_RANK else len(LETTER_RANK) // 2
    k = max(range(len(raw_needle)), key=lambda i: rarity(raw_needle[i]))
    c = raw_needle[k:k + 1]
    return k, sorted({c, c.upper()})


def first_hit(m, pos, end, size, raw_needle, probe):
    """Where the first case-insensitive match starting in [pos, end) is, or -1: checked at each place of the
    needle's rarest byte when there are few (memchr over the map, no copy), else by lower-casing the step."""
    k, probes = probe
    places = []
    for b in probes:
        at = m.find(b, pos + k, min(size, end + k))
        while at >= 0 and len(places) <= MAX_PROBES:
            places.append(at - k)
            at = m.find(b, at + 1, min(size, end + k))
    if len(places) <= MAX_PROBES:
        n = len(raw_needle)
        for start in sorted(places):
            if m[start:start + n].lower() == raw_needle:
                return start
        return -1
    at = m[pos:min(size, end + len(raw_needle) - 1)].lower().find(raw_needle)
    return pos + at if at >= 0 else -1


def search_mapped(m, size, needle, raw_needle, out, counter):
    probe = probe_of(raw_needle)
    pos = 0
    while pos < size:
        end = min(size, pos + SEARCH_CHUNK)
        hit = first_hit(m, pos, end, size, raw_needle, probe)
        if hit < 0:
            pos = end
            out.progress(pos)
            continue
        start = m.rfind(b'\n', counter.pos, hit) + 1 or counter.pos
        nl = m.find(b'\n', hit)
        stop = size if nl < 0 else nl + 1
        line, row = counter.at(start)
        if stop - start <= line_count.MAX_CHECK_LINE:
            check_line(m[start:stop], needle, row, line, out)
        counter.passed(stop, True)
        pos = stop
        out.progress(pos)


def search_jsonl_lines(real, needle, out):
    """Streams over the file in chunks, counting rows as the index does; with an ASCII query only lines whose
    lower-cased bytes hold it are parsed (a C-speed search), else every line is."""
    raw_needle = needle.encode('ascii') if prefilterable(needle) else None
    pos, row, line = 0, 0, 0
    with open(real, 'rb') as f:
        while True:
            f.seek(pos)
            buf = f.read(line_count.INDEX_CHUNK)
            if not buf:
                break
            last = buf.rfind(b'\n')
            if last < 0 and len(buf) == line_count.INDEX_CHUNK:
                # A line longer than a chunk: read whole when it is not too long, else passed over.
                end, nonblank = line_count.scan_line(f, pos, buf)
                stop = (end if end is not None else os.fstat(f.fileno()).st_size) - pos
                if nonblank and stop <= line_count.MAX_CHECK_LINE:
                    f.seek(pos)
                    check_line(f.read(stop), needle, row, line + 1, out)
                row += 1 if nonblank else 0
                line += 1
                pos += stop
                out.progress(pos)
                continue
            stop = last + 1 if last >= 0 else len(buf)
            if len(buf) < line_count.INDEX_CHUNK:
                stop = len(buf)
            blanks = line_count.blank_hint(buf, 0, stop)
            cur = 0
            if raw_needle is not None:
                low = buf.lower()
                at = low.find(raw_needle, 0, stop)
                while at >= 0:
                    start = buf.rfind(b'\n', 0, at) + 1
                    end = buf.find(b'\n', at, stop)
                    end = stop if end < 0 else end + 1
                    n = buf.count(b'\n', cur, start)
                    row += n - (line_count.blank_lines(buf, cur, start) if blanks else 0)
                    line += n
                    cur = start
                    check_line(buf[start:end], needle, row, line + 1, out)
                    at = low.find(raw_needle, end, stop)
            else:
                while cur < stop:
                    end = buf.find(b'\n', cur, stop)
                    end = stop if end < 0 else end + 1
                    raw = buf[cur:end]
                    if raw.strip() != b'':
                        check_line(raw, needle, row, line + 1, out)
                    cur = end
                    line += 1
                    row += 1 if raw.strip() != b'' else 0
                    if (line & 1023) == 0:
                        out.progress(pos + cur)
            n = buf.count(b'\n', cur, stop)
            row += n - (line_count.blank_lines(buf, cur, stop) if blanks else 0)
            line += n
            pos += stop
            out.progress(pos)


def cmd_search(args):
    real = inside(args.workspace, args.file)
    fmt = format_of(real)
    needle = args.query.lower()
    out = SearchOutput(args.query, args.limit, os.path.getsize(real), args.stream)
    if fmt == 'jsonl':
        search_jsonl(real, needle, out, finished_checkpoints(args, real))
    else:
        for row, line, value, error in iter_rows(real, fmt):
            if value is None:
                continue
            text = row_text(value)
            at = text.lower().find(needle)
            if at >= 0:
                out.hit(row, line, text, at, needle)
            if (row & 1023) == 0:
                out.progress(0)
        out.progress(out.size)
    result = out.result()
    if args.stream:
        return {'done': result}
    return result
