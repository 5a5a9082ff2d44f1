"""`data index`: the line index of a JSONL or CSV file, cached under the run folder (outside the workspace).

The index of a JSONL or CSV file is built in the background on the host (`index --background` returns at once),
so the first page never waits for it: the app reads the head directly and pages past the indexed part by byte
offset. Phase one counts lines with bulk byte operations (no per-line Python: the rate of `wc -l`) and appends a
checkpoint (byte offset, line, row) at the first line start after every CHECKPOINT_BYTES; phase two (JSONL)
parses every row to report broken ones by line. Both save their progress several times a second and resume from
it: a file that grew is extended, a file whose head or last indexed bytes changed is indexed again.
"""

import fcntl
import hashlib
import json
import os
import sys
import time
from array import array

from ptw_host.datasets import line_count
from ptw_host.datasets.exact_json import load_row
from ptw_host.datasets.paths import MAX_PROBLEMS, Refused, format_of, inside
from ptw_host.datasets.rows import parse_csv_record

INDEX_VERSION = 2
SAVE_EVERY_S = 0.2
HASH_BYTES = 4096


def index_key(workspace, rel):
    """What names a file's index: the path as the app asks for it, so the app can find the index without a lookup."""
    return workspace.rstrip('/') + '/' + rel


def index_file(cache_dir, key):
    digest = hashlib.sha1(key.encode('utf-8', 'surrogateescape')).hexdigest()[:20]
    return os.path.join(cache_dir, 'index', digest + '.json')


def index_paths(cache_dir, key):
    """The index of one file: its state (small JSON, replaced as it grows), its checkpoints (fixed-size records,
    appended) and the lock its one builder holds."""
    state = index_file(cache_dir, key)
    base = state[:-len('.json')]
    return {'state': state, 'checkpoints': base + '.ckpt', 'lock': base + '.lock'}


def read_state(path):
    try:
        with open(path, 'r', encoding='utf-8') as f:
            state = json.load(f)
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) and state.get('version') == INDEX_VERSION else None


def load_index(path, st):
    """A finished index of the file as it is now (same size and mtime), else None."""
    state = read_state(path)
    if state is None or not state.get('complete') or state.get('size') != st.st_size or \
            state.get('mtimeNs') != st.st_mtime_ns:
        return None
    return public_state(state)


def public_state(state):
    """What the app gets: the state with the total row count (the tail row of a file without a final newline)."""
    out = dict(state)
    tail = state.get('tail') or {}
    out['totalRows'] = state['rows'] + (1 if tail.get('row') else 0)
    problems = list(state.get('problems') or [])
    if tail.get('problem') and len(problems) < MAX_PROBLEMS:
        problems.append(tail['problem'])
    out['problems'] = problems
    out['problemCount'] = state.get('problemCount', 0) + (1 if tail.get('problem') else 0)
    return out


def new_state(real, fmt):
    return {'version': INDEX_VERSION, 'file': real, 'format': fmt, 'generation': '%x-%x' % (time.time_ns(), os.getpid()),
            'size': 0, 'mtimeNs': 0, 'indexedBytes': 0, 'rows': 0, 'lines': 0, 'checkpoints': 0,
            'nextCheckpoint': 0, 'headLen': 0, 'headHash': '', 'tailHash': hashlib.sha1(b'').hexdigest(),
            'complete': False, 'checked': False, 'validatedBytes': 0, 'validatedRows': 0, 'validatedLines': 0,
            'problems': [], 'problemCount': 0, 'tail': None, 'header': None, 'headerLine': None,
            'dataStart': None, 'dataLine': None, 'indexMs': 0, 'indexBytes': 0, 'error': None}


def sha1_range(f, start, length):
    f.seek(start)
    return hashlib.sha1(f.read(length)).hexdigest()


def resumable(state, real, fmt, st, f):
    """Whether the saved index still describes the start of the file: the same head, and the same bytes just
    before where it stopped (an agent appending to its file). Anything else (smaller, rewritten) starts over."""
    if state is None or state.get('file') != real or state.get('format') != fmt:
        return False
    indexed = state.get('indexedBytes', 0)
    head = state.get('headLen', 0)
    if st.st_size < indexed or st.st_size < head:
        return False
    if sha1_range(f, 0, head) != state.get('headHash'):
        return False
    back = min(HASH_BYTES, indexed)
    return sha1_range(f, indexed - back, back) == state.get('tailHash')


def current(state, st):
    return (state is not None and state.get('complete') and state.get('checked') and
            state.get('size') == st.st_size and state.get('mtimeNs') == st.st_mtime_ns)


class Builder(object):
    """Builds or extends one file's index, saving its state as it goes (a reader sees it grow)."""

    def __init__(self, real, fmt, paths, check=True):
        self.real, self.fmt, self.paths, self.check = real, fmt, paths, check
        self.saved_at = 0.0

    def save(self, f, force=False):
        now = time.time()
        if not force and now - self.saved_at < SAVE_EVERY_S:
            return
        self.saved_at = now
        s = self.state
        self.ckpt.flush()
        head = min(HASH_BYTES, max(s['size'], s['indexedBytes']))
        back = min(HASH_BYTES, s['indexedBytes'])
        # Its own descriptor: the phases read `f` line by line from where they are.
        with open(self.real, 'rb') as h:
            s['headLen'] = head
            s['headHash'] = sha1_range(h, 0, head)
            s['tailHash'] = sha1_range(h, s['indexedBytes'] - back, back)
        s['updatedAt'] = int(now * 1000)
        tmp = self.paths['state'] + '.%d.tmp' % os.getpid()
        with open(tmp, 'w', encoding='utf-8') as out:
            json.dump(s, out, separators=(',', ':'))
        os.replace(tmp, self.paths['state'])

    def checkpoint(self, offset, line, row):
        self.ckpt.write(line_count.CHECKPOINT.pack(offset, line, row))
        self.state['checkpoints'] += 1
        self.state['nextCheckpoint'] = offset + line_count.CHECKPOINT_BYTES

    def checkpoints(self, found, lines, rows, first):
        """Appends a window's checkpoints (a flat array: offset, newlines before, rows before, ...) counted from
        `lines` newlines and `rows` rows; the first window's first one is dropped when it is the last saved."""
        if first and len(found) >= 3 and found[0] <= self.state['nextCheckpoint'] - line_count.CHECKPOINT_BYTES:
            found = found[3:]
        if not found:
            return
        out = array('Q', found)
        out[1::3] = array('Q', map((lines + 1).__add__, found[1::3]))
        out[2::3] = array('Q', map(rows.__add__, found[2::3]))
        if sys.byteorder != 'little':
            out.byteswap()
        self.ckpt.write(out.tobytes())
        self.state['checkpoints'] += len(found) // 3
        self.state['nextCheckpoint'] = found[-3] + line_count.CHECKPOINT_BYTES

    def run(self):
        os.makedirs(os.path.dirname(self.paths['state']), exist_ok=True)
        with open(self.real, 'rb') as f:
            st = os.fstat(f.fileno())
            state = read_state(self.paths['state'])
            if current(state, st):
                return public_state(state)
            if not resumable(state, self.real, self.fmt, st, f):
                state = new_state(self.real, self.fmt)
            self.state = state
            state.update({'size': st.st_size, 'mtimeNs': st.st_mtime_ns, 'complete': False, 'checked': False,
                          'error': None})
            mode = 'r+b' if os.path.exists(self.paths['checkpoints']) else 'w+b'
            with open(self.paths['checkpoints'], mode) as ckpt:
                self.ckpt = ckpt
                # A builder killed between appending checkpoints and saving the state left records past the count.
                ckpt.truncate(state['checkpoints'] * line_count.CHECKPOINT.size)
                ckpt.seek(0, os.SEEK_END)
                started, from_bytes = time.time(), state['indexedBytes']
                while True:
                    if self.fmt == 'jsonl':
                        self.index_jsonl(f)
                    else:
                        self.index_csv(f)
                    # The agent may still be writing: catch up before calling it complete.
                    st = os.fstat(f.fileno())
                    if st.st_size <= state['size']:
                        break
                    state.update({'size': st.st_size, 'mtimeNs': st.st_mtime_ns})
                state['indexMs'] = int((time.time() - started) * 1000)
                state['indexBytes'] = state['indexedBytes'] - from_bytes
                state['mtimeNs'] = st.st_mtime_ns
                state['complete'] = True
                self.save(f, force=True)
                if self.fmt == 'jsonl' and self.check:
                    self.check_jsonl(f)
                state['checked'] = True
                self.save(f, force=True)
        return public_state(state)

    def index_jsonl(self, f):
        s = self.state
        pos, rows, lines = s['indexedBytes'], s['rows'], s['lines']
        if s['checkpoints'] == 0:
            self.checkpoint(0, 1, 0)
        s['tail'] = None
        # All but the last line counted in windows side by side, one process per core, in rounds (progress saved
        # between them).
        size = os.fstat(f.fileno()).st_size
        procs = line_count.counting_processes()
        while size - pos > line_count.PARALLEL_MIN:
            bounds = line_count.window_bounds(f, pos, size, procs)
            results = line_count.count_windows(self.real, bounds) if len(bounds) >= 2 else None
            if results is None:
                break
            for k, (found, n_lines, n_rows) in enumerate(results):
                self.checkpoints(found, lines, rows, first=k == 0)
                lines += n_lines
                rows += n_rows
            pos = bounds[-1]
            s.update({'indexedBytes': pos, 'rows': rows, 'lines': lines})
            self.save(f)
        while True:
            step = line_count.count_chunk(f, pos, line_count.INDEX_CHUNK, s['nextCheckpoint'])
            if step is None:
                break
            found, n_lines, n_rows, end, tail = step
            for offset, before_lines, before_rows in found:
                self.checkpoint(offset, lines + before_lines + 1, rows + before_rows)
            lines += n_lines
            rows += n_rows
            if end is None:
                # A last line without a newline, longer than a chunk: a row (if not blank) but not indexed.
                s['tail'] = {'row': tail, 'start': pos, 'line': lines + 1}
                break
            pos = end
            s.update({'indexedBytes': pos, 'rows': rows, 'lines': lines})
            if tail is not None:
                # The file ends without a newline: the last line is a row (if not blank) but not indexed, since
                # the agent may still be writing it.
                s['tail'] = {'row': tail, 'start': pos, 'line': lines + 1}
                break
            self.save(f)

    def index_csv(self, f):
        """Records counted in bulk where a chunk holds no quote (every newline then ends a record, as in JSONL),
        line by line (quotes may hide newlines) from a chunk with one to a record end past it."""
        s = self.state
        s['tail'] = None
        pos = s['indexedBytes']
        while True:
            if s['header'] is not None:
                f.seek(pos)
                buf = f.read(line_count.INDEX_CHUNK)
                last = buf.rfind(b'\n')
                if last >= 0 and buf.find(b'"', 0, last + 1) < 0:
                    found, n_lines, n_rows = line_count.count_newlines(buf, last + 1, pos, s['nextCheckpoint'])
                    for offset, before_lines, before_rows in found:
                        self.checkpoint(offset, s['lines'] + before_lines + 1, s['rows'] + before_rows)
                    pos += last + 1
                    s.update({'indexedBytes': pos, 'rows': s['rows'] + n_rows, 'lines': s['lines'] + n_lines})
                    self.save(f)
                    continue
            pos = self.index_csv_lines(f, pos, pos + line_count.INDEX_CHUNK)
            if pos is None:
                return

    def index_csv_lines(self, f, pos, limit):
        """Records line by line from `pos` (a record start) to the first record end at or past `limit`: where it
        stopped, or None at the end of the file (a last record without a newline kept as the tail)."""
        s = self.state
        rows, lines = s['rows'], s['lines']
        f.seek(pos)
        record_start, record_line, quoted, nonblank, kept = pos, lines + 1, False, False, []
        at = pos
        while True:
            piece = f.readline(1 << 20)
            if not piece:
                break
            at += len(piece)
            if piece.count(b'"') % 2 == 1:
                quoted = not quoted
            if piece.strip() != b'':
                nonblank = True
            if s['header'] is None and sum(len(k) for k in kept) < (1 << 20):
                kept.append(piece)
            if not piece.endswith(b'\n'):
                continue
            lines += 1
            if quoted:
                continue
            if nonblank:
                if s['header'] is None:
                    s['header'] = parse_csv_record(b''.join(kept))
                    s['headerLine'] = record_line
                    s['dataStart'], s['dataLine'] = at, lines + 1
                else:
                    if record_start >= s['nextCheckpoint']:
                        self.checkpoint(record_start, record_line, rows)
                    rows += 1
            kept = []
            record_start, record_line, nonblank = at, lines + 1, False
            s.update({'indexedBytes': at, 'rows': rows, 'lines': lines})
            self.save(f)
            if at >= limit:
                return at
        if at > s['indexedBytes'] and (nonblank or quoted) and s['header'] is not None:
            problem = None
            if quoted:
                problem = {'line': record_line, 'row': rows, 'message': 'a quoted field is never closed'}
            s['tail'] = {'row': True, 'start': s['indexedBytes'], 'line': record_line, 'problem': problem}
        elif at > s['indexedBytes'] and nonblank and s['header'] is None:
            s['header'] = parse_csv_record(b''.join(kept))
            s['headerLine'] = record_line
        return None

    def check_jsonl(self, f):
        """Phase two: every row parsed, broken ones reported by line (resumes where the last check stopped)."""
        s = self.state
        pos, row, line, end = s['validatedBytes'], s['validatedRows'], s['validatedLines'], s['indexedBytes']
        f.seek(pos)
        while pos < end:
            raw = f.readline(line_count.MAX_CHECK_LINE + 1)
            if not raw:
                break
            line += 1
            length = len(raw)
            if not raw.endswith(b'\n') and pos + length < end:
                # Too long to parse: measured, and reported as a problem of its own.
                rest, _ = line_count.scan_line(f, pos + length, b'')
                length = (rest if rest is not None else end) - pos
                f.seek(pos + length)
                self.problem(line, row, 'line is %d bytes: longer than %d MiB, not checked'
                             % (length, line_count.MAX_CHECK_LINE >> 20))
                row += 1
            elif raw.strip() != b'':
                try:
                    load_row(raw)
                except (UnicodeDecodeError, ValueError) as e:
                    self.problem(line, row, str(e))
                row += 1
            pos += length
            s.update({'validatedBytes': pos, 'validatedRows': row, 'validatedLines': line})
            self.save(f)
        tail = s.get('tail')
        if tail and tail.get('row'):
            f.seek(tail['start'])
            raw = f.read(line_count.MAX_CHECK_LINE + 1)
            try:
                if len(raw) <= line_count.MAX_CHECK_LINE:
                    load_row(raw)
            except (UnicodeDecodeError, ValueError) as e:
                tail['problem'] = {'line': tail['line'], 'row': s['rows'], 'message': str(e)}

    def problem(self, line, row, message):
        s = self.state
        s['problemCount'] += 1
        if len(s['problems']) < MAX_PROBLEMS:
            s['problems'].append({'line': line, 'row': row, 'message': message})



def index_target(args):
    real = inside(args.workspace, args.file)
    fmt = format_of(real)
    if fmt not in ('jsonl', 'csv'):
        raise Refused('INVALID_INPUT', '%s is not JSONL or CSV: no line index for it' % args.file)
    return real, fmt, index_paths(args.cache_dir, index_key(args.workspace, args.file))


def cmd_index(args):
    """The index, built or extended now (`--background`: started or found running, answered at once)."""
    real, fmt, paths = index_target(args)
    os.makedirs(os.path.dirname(paths['state']), exist_ok=True)
    lock = os.open(paths['lock'], os.O_RDWR | os.O_CREAT, 0o600)
    if not args.background:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            t0 = time.time()
            state = Builder(real, fmt, paths).run()
        finally:
            os.close(lock)
        state.update({'realPath': real, 'building': False, 'builtMs': int((time.time() - t0) * 1000)})
        return state
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(lock)
        return answer_state(real, fmt, paths, building=True)
    st = os.stat(real)
    if current(read_state(paths['state']), st):
        os.close(lock)
        return answer_state(real, fmt, paths, building=False)
    pid = os.fork()
    if pid == 0:
        # Detached (its own session, no terminal, stdio on /dev/null) so the exec that started it ends at once;
        # the lock stays held through the inherited descriptor for as long as it builds.
        code = 0
        try:
            os.setsid()
            if os.fork() != 0:
                os._exit(0)
            null = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(null, fd)
            try:
                os.nice(5)
            except OSError:
                pass
            builder = Builder(real, fmt, paths)
            try:
                builder.run()
            except Exception as e:  # the app shows why the index stopped
                state = getattr(builder, 'state', None) or new_state(real, fmt)
                state['error'] = '%s: %s' % (type(e).__name__, e)
                with open(builder.paths['state'] + '.err', 'w') as out:
                    json.dump(state, out)
                os.replace(builder.paths['state'] + '.err', builder.paths['state'])
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    os.waitpid(pid, 0)
    os.close(lock)
    return answer_state(real, fmt, paths, building=True)


def answer_state(real, fmt, paths, building):
    st = os.stat(real)
    state = read_state(paths['state'])
    replaces = None
    if state is not None and (state.get('size') != st.st_size or state.get('mtimeNs') != st.st_mtime_ns):
        # Saved for another version of the file: shown as a start to extend, or not at all when it was rewritten
        # (`replaces` names it, so the app does not take it for the new one before the builder saves its own).
        with open(real, 'rb') as f:
            if resumable(state, real, fmt, st, f):
                state = dict(state, complete=False, checked=False)
            else:
                replaces, state = state.get('generation'), None
    if state is None:
        state = dict(new_state(real, fmt), generation='', replaces=replaces)
    out = public_state(state)
    out.update({'realPath': real, 'building': building, 'fileSize': st.st_size, 'fileMtimeNs': st.st_mtime_ns})
    return out
