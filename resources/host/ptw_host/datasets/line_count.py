"""Counting the lines and rows of a JSONL file fast (the rate of `wc -l`): a checkpoint (byte offset, line, row) at
the first line start after every CHECKPOINT_BYTES, and all but the file's last line counted in windows side by side,
one forked process each, over a memory map of the file: `mmap.find` of each newline (memchr, no copy) where lines are
long, bulk `bytes.count` over copied segments where they are short (one Python step per line costs more than
counting the bytes then). A child that dies (the file cut under the map: SIGBUS) makes the parent count that stretch
itself with plain reads.

The tunables are module attributes read at each use, so the tests can shrink them (test/host/test_ptw_data_index.py).
"""

import mmap
import os
import re
import struct
import sys
from array import array

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



# Windows are counted in forked processes once this much is left (below it, plain reads are as quick); each window
# at most PARALLEL_WINDOW bytes, so progress is saved between rounds.
PARALLEL_MIN = 16 * 1024 * 1024
PARALLEL_WINDOW = 1024 * 1024 * 1024
# In a mapped window: lines shorter than this on average are counted with bytes.count over SEGMENT-byte copies, longer
# ones one mmap.find each.
DENSE_LINE = 320
SEGMENT = 4 * 1024 * 1024
MAX_COUNTING_PROCESSES = 8
# How far back from the end the last newline is looked for (past it, windows end where the next newline is).
TAIL_LOOK = 8 * 1024 * 1024


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


def last_line_end(f, lo, size):
    """Just after the last newline of the file past byte `lo`, looked for in its last TAIL_LOOK bytes; None when
    there is none there."""
    at = max(lo, size - TAIL_LOOK)
    f.seek(at)
    buf = f.read(size - at)
    nl = buf.rfind(b'\n')
    return at + nl + 1 if nl >= 0 else None


def window_bounds(f, pos, size, procs):
    """Line starts cutting [pos, end of the last newline) into at most `procs` windows of PARALLEL_WINDOW bytes at
    most, for one round of count_windows: [pos, b1, ...], or [pos] when there is nothing to cut."""
    width = min(PARALLEL_WINDOW, -(-(size - pos) // procs))
    bounds = [pos]
    for k in range(1, procs + 1):
        target = pos + k * width
        b = next_line_start(f, target, size) if target < size else None
        last = b is None
        if last:
            b = last_line_end(f, bounds[-1], size)
        if b is None or b <= bounds[-1]:
            break
        bounds.append(b)
        if last:
            break
    return bounds


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
    with open(real, 'rb') as f:
        if os.fstat(f.fileno()).st_size < end:
            raise ValueError('the file shrank')
        try:
            m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError):
            m = None
        if m is not None:
            try:
                return count_mapped(m, start, end)
            finally:
                m.close()
    return count_read(real, start, end)


def count_mapped(m, start, end, ck_bytes=None):
    """count_window over the file's map `m` (end - 1 is a newline, so every find from a line start before it stops
    there at the latest); `ck_bytes`: the checkpoint spacing (CHECKPOINT_BYTES unless given)."""
    ck_bytes = ck_bytes or CHECKPOINT_BYTES
    found = []
    lines = blanks = 0
    ck = cur = start
    dense = False
    find = m.find
    while cur < end:
        seg_end = min(end, cur + SEGMENT)
        if dense:
            last = m.rfind(b'\n', cur, seg_end)
            if last < 0:
                dense = False
                continue
            buf = m[cur:last + 1]
            here, n, n_rows = count_newlines(buf, len(buf), cur, ck)
            for offset, before_lines, before_rows in here:
                found.append((offset, lines + before_lines, lines - blanks + before_rows))
                ck = offset + ck_bytes
            lines += n
            blanks += n - n_rows
            dense = n * DENSE_LINE > len(buf)
            cur = last + 1
            continue
        lines_then, cur_then = lines, cur
        while cur < seg_end:
            if cur >= ck:
                found.append((cur, lines, lines - blanks))
                ck = cur + ck_bytes
            limit = ck if ck < seg_end else seg_end
            while cur < limit:
                nl = find(b'\n', cur)
                lines += 1
                # A line starting with a byte up to a space may hold only whitespace: a blank line, no row.
                if m[cur] < 33 and not m[cur:nl].strip():
                    blanks += 1
                cur = nl + 1
        dense = (lines - lines_then) * DENSE_LINE > cur - cur_then
    return found, lines, lines - blanks


def count_read(real, start, end):
    """count_window with plain reads (a file that cannot be mapped)."""
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
    """count_window over consecutive windows, each in a forked process: for each, (its checkpoints as one flat
    array of offset, newlines before, rows before, ..., newlines, rows); None if any failed (counted here then)."""
    children = []
    for a, b in zip(bounds, bounds[1:]):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                os.close(r)
                found, lines, rows = count_window(real, a, b)
                flat = array('Q', [v for c in found for v in c])
                if sys.byteorder != 'little':
                    flat.byteswap()
                blob = struct.pack('<QQQ', len(found), lines, rows) + flat.tobytes()
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
        found = array('Q')
        found.frombytes(blob[24:])
        if sys.byteorder != 'little':
            found.byteswap()
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
