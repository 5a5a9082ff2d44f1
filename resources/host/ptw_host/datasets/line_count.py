"""Counting the lines and rows of a JSONL file fast: bulk byte operations over chunks (the rate of `wc -l`), a
checkpoint (byte offset, line, row) at the first line start after every CHECKPOINT_BYTES, and large stretches counted
in windows side by side, one forked process each.

The tunables are module attributes read at each use, so the tests can shrink them (test/host/test_ptw_data_index.py).
"""

import os
import re
import struct

CHECKPOINT = struct.Struct('<QQQ')
CHECKPOINT_BYTES = 64 * 1024
INDEX_CHUNK = 8 * 1024 * 1024
# Lines longer than this are not parsed when checking rows (a file with no newline for gigabytes).
MAX_CHECK_LINE = 64 * 1024 * 1024
WHITESPACE = frozenset(b' \t\r\n\x0b\x0c')
# A newline followed by whitespace or another newline: where a blank line may be (one regex search at ~2 GB/s,
# faster than looking for each pair with bytes.find).
BLANK_HINT = re.compile(b'\n[ \t\n\r\x0b\x0c]')
# A newline followed by a line of whitespace: counts the blank lines after the first line of a range.
BLANK_AFTER_NEWLINE = re.compile(b'\n[ \t\r\x0b\x0c]*(?=\n)')


def blank_hint(buf, a, b):
    """Whether [a, b) may hold a blank line."""
    if a < b and buf[a] in WHITESPACE:
        return True
    return BLANK_HINT.search(buf, a, b) is not None


def blank_lines(buf, a, b):
    """Lines in [a, b) (a a line start, b just after a newline) holding only whitespace: no rows."""
    if a >= b:
        return 0
    n = 0
    if buf[a] in WHITESPACE:
        nl = buf.find(b'\n', a, b)
        if nl >= 0 and buf[a:nl].strip() == b'':
            n = 1
    return n + len(BLANK_AFTER_NEWLINE.findall(buf, a, b))



PARALLEL_MIN = 256 * 1024 * 1024
PARALLEL_WINDOW = 64 * 1024 * 1024
MAX_COUNTING_PROCESSES = 8


def counting_processes():
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    return max(1, min(MAX_COUNTING_PROCESSES, n))


def next_line_start(f, at, size):
    """The first line start at or after byte `at`, or None when no newline follows before the end."""
    if at >= size:
        return None
    f.seek(at - 1)
    pos = at - 1
    while True:
        buf = f.read(1 << 20)
        if not buf:
            return None
        nl = buf.find(b'\n')
        if nl >= 0:
            return pos + nl + 1 if pos + nl + 1 < size else None
        pos += len(buf)


def count_newlines(buf, stop, pos, next_checkpoint):
    """Lines and rows of buf[:stop] (a chunk read at byte `pos` of the file, from a line start to just after a
    newline), with a checkpoint at the first line start from `next_checkpoint` on and every CHECKPOINT_BYTES after
    it: ([(offset, newlines before it, rows before it)], newlines, rows)."""
    found = []
    rows = lines = cur = 0
    blanks = blank_hint(buf, 0, stop)
    while True:
        rel = next_checkpoint - pos
        if rel >= stop:
            break
        if rel <= cur:
            at = cur
        else:
            at = buf.find(b'\n', rel - 1, stop) + 1
            if at >= stop:
                break
        n = buf.count(b'\n', cur, at)
        rows += n - (blank_lines(buf, cur, at) if blanks else 0)
        lines += n
        cur = at
        found.append((pos + at, lines, rows))
        next_checkpoint = pos + at + CHECKPOINT_BYTES
    n = buf.count(b'\n', cur, stop)
    rows += n - (blank_lines(buf, cur, stop) if blanks else 0)
    lines += n
    return found, lines, rows


def count_chunk(f, pos, limit, next_checkpoint):
    """The lines of the file from `pos` (a line start) to the last newline of the next `limit` bytes at most (or to
    the end of a line longer than that): (checkpoints as count_newlines gives them, newlines, rows, where it stopped,
    tail), None at the end of the file. `tail`: whether a last line with no newline is a row (not blank), or None
    when there is none; where it stopped is None when that line is longer than a chunk (it was not counted)."""
    f.seek(pos)
    buf = f.read(min(INDEX_CHUNK, limit))
    if not buf:
        return None
    last = buf.rfind(b'\n')
    if last < 0:
        # No newline in a whole chunk: a long line, scanned to its end without being kept.
        end, nonblank = scan_line(f, pos, buf)
        if end is None:
            return [], 0, 0, None, nonblank
        return ([(pos, 0, 0)] if pos >= next_checkpoint else []), 1, (1 if nonblank else 0), end, None
    stop = last + 1
    found, lines, rows = count_newlines(buf, stop, pos, next_checkpoint)
    tail = buf[stop:].strip() != b'' if stop < len(buf) < INDEX_CHUNK else None
    return found, lines, rows, pos + stop, tail


def count_window(real, start, end):
    """Lines of [start, end) (both line starts) as Builder.index_jsonl counts them, its checkpoint chain started at
    `start`: ([(offset, newlines before it, rows before it)], newlines, rows)."""
    found = []
    rows = lines = 0
    next_ck = pos = start
    with open(real, 'rb') as f:
        while pos < end:
            step = count_chunk(f, pos, end - pos, next_ck)
            if step is None:
                raise ValueError('the file shrank')
            here, n_lines, n_rows, stop, _tail = step
            if stop is None or stop > end:
                raise ValueError('the file changed')
            for offset, before_lines, before_rows in here:
                found.append((offset, lines + before_lines, rows + before_rows))
                next_ck = offset + CHECKPOINT_BYTES
            lines += n_lines
            rows += n_rows
            pos = stop
    return found, lines, rows


def count_windows(real, bounds):
    """count_window over consecutive windows, each in a forked process; None if any failed (counted here then)."""
    children = []
    for a, b in zip(bounds, bounds[1:]):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                os.close(r)
                found, lines, rows = count_window(real, a, b)
                blob = struct.pack('<QQQ', len(found), lines, rows) + b''.join(CHECKPOINT.pack(*c) for c in found)
                with os.fdopen(w, 'wb') as out:
                    out.write(blob)
                code = 0
            finally:
                os._exit(code)
        os.close(w)
        children.append((pid, r))
    results, ok = [], True
    for pid, r in children:
        with os.fdopen(r, 'rb') as inp:
            blob = inp.read()
        _, status = os.waitpid(pid, 0)
        if status != 0 or len(blob) < 24:
            ok = False
            continue
        count, lines, rows = struct.unpack_from('<QQQ', blob)
        if len(blob) != 24 + count * CHECKPOINT.size:
            ok = False
            continue
        found = [CHECKPOINT.unpack_from(blob, 24 + i * CHECKPOINT.size) for i in range(count)]
        results.append((found, lines, rows))
    return results if ok else None


def scan_line(f, pos, first):
    """From a line start whose first bytes (`first`) hold no newline: (offset after its newline or None at the end
    of the file, whether it holds anything but whitespace)."""
    nonblank = first.strip() != b''
    at = pos + len(first)
    f.seek(at)
    while True:
        buf = f.read(INDEX_CHUNK)
        if not buf:
            return None, nonblank
        nl = buf.find(b'\n')
        if nl >= 0:
            return at + nl + 1, nonblank or buf[:nl].strip() != b''
        nonblank = nonblank or buf.strip() != b''
        at += len(buf)
