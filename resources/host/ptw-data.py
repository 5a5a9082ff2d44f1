#!/usr/bin/env python3
"""PostTrain Workbench dataset inspector, host side.

Finds the datasets an agent wrote in its workspace and answers questions about them where they live, so only
summaries and pages of rows travel over SSH: a line index for JSONL and CSV (byte offsets of line starts, cached under
the run folder outside the workspace), pages of JSON arrays, field stats, a length histogram, exact and near
duplicates, search, and n-gram overlap with a benchmark's test set.

Python 3.8+ standard library only (GPU hosts have python3 and nothing may be installed on them). Every command
prints one JSON object on stdout; problems with the input (a broken line, a file outside the workspace) are part of
that object or, when the command cannot answer at all, `{"error": {"code", "message"}}` with exit status 3.

    python3 ptw-data.py list     --workspace W [--cache-dir C]
    python3 ptw-data.py index    --workspace W --file REL --cache-dir C [--background]
    python3 ptw-data.py stat     --workspace W --file REL                          (real path, size)
    python3 ptw-data.py page     --workspace W --file REL --offset N --limit M       (JSON arrays)
    python3 ptw-data.py stats    --workspace W --file REL [--seed 1] [--near-max-rows 50000]
    python3 ptw-data.py search   --workspace W --file REL --query Q [--limit 200] [--stream]
    python3 ptw-data.py overlap  --workspace W --file REL --test PATH [--test PATH] [--n 13] [--max-hits 1000]
    python3 ptw-data.py find-test --dir D [--dir D]

Paths given as --file are relative to the workspace; a path that resolves outside it (`..`, a symlink out) is
refused, so an agent cannot make the app read other files of the host's user.
"""

import argparse
import csv
import fcntl
import hashlib
import io
import json
import math
import os
import random
import re
import struct
import sys
import time

VERSION = 1
INDEX_VERSION = 2
TEXT_FORMATS = ('jsonl', 'csv', 'json')
SKIP_DIRS = {
    '.cache', '.git', 'node_modules', '__pycache__', '.venv', 'venv', 'site-packages', 'wandb', '.ipynb_checkpoints',
    'final_model', '.mypy_cache', '.pytest_cache', '.triton',
}
EXTENSIONS = {'.jsonl': 'jsonl', '.ndjson': 'jsonl', '.json': 'json', '.csv': 'csv', '.parquet': 'parquet'}
MAX_WALK_ENTRIES = 50000
MAX_JSON_BYTES = 512 * 1024 * 1024
MAX_PROBLEMS = 200
# Nesting deeper than this is a broken row, counted here as the app counts it (src/shared/datasets/exact-json.ts).
MAX_DEPTH = 512
# A number JSON.parse would round or turn into Infinity travels as {EXACT_NUMBER: "<as written>"}.
EXACT_NUMBER = '$ptw:number'
WORD = re.compile(r'\w+', re.UNICODE)

csv.field_size_limit(2 ** 31 - 1)


class Refused(Exception):
    def __init__(self, code, message):
        Exception.__init__(self, message)
        self.code = code
        self.message = message


# --- paths ------------------------------------------------------------------------------------------------------


def inside(workspace, rel):
    """The real path of `rel` under the workspace, refused when it leaves it."""
    if rel.startswith('/') or rel == '':
        raise Refused('INVALID_INPUT', 'dataset paths are relative to the workspace, not %r' % rel)
    root = os.path.realpath(workspace)
    if not os.path.isdir(root):
        raise Refused('NOT_FOUND', 'the workspace %s does not exist on the host' % workspace)
    real = os.path.realpath(os.path.join(root, rel))
    if real != root and not real.startswith(root + os.sep):
        raise Refused('INVALID_INPUT', '%s resolves outside the workspace (to %s): refused' % (rel, real))
    if not os.path.exists(real):
        raise Refused('NOT_FOUND', '%s does not exist in the workspace %s' % (rel, workspace))
    return real


def format_of(path):
    return EXTENSIONS.get(os.path.splitext(path)[1].lower())


def json_kind(path):
    """'array' when a .json file holds a list of rows (the first non-blank byte is `[`), else None."""
    try:
        with open(path, 'rb') as f:
            head = f.read(4096).lstrip()
    except OSError:
        return None
    if head.startswith(b'\xef\xbb\xbf'):
        head = head[3:].lstrip()
    return 'array' if head.startswith(b'[') else None


# --- list -------------------------------------------------------------------------------------------------------


def hf_dataset_entry(root, rel, names):
    """A `save_to_disk` folder: dataset_info.json + state.json + *.arrow."""
    base = os.path.join(root, rel) if rel else root
    entry = {'path': rel or '.', 'format': 'hf-dataset', 'size': 0, 'rows': None, 'mtime': 0, 'arrowFiles': [],
             'problem': None}
    arrows = sorted(n for n in names if n.endswith('.arrow'))
    for n in arrows:
        try:
            st = os.stat(os.path.join(base, n))
            entry['size'] += st.st_size
            entry['mtime'] = max(entry['mtime'], int(st.st_mtime * 1000))
            entry['arrowFiles'].append({'name': n, 'size': st.st_size})
        except OSError:
            pass
    try:
        with open(os.path.join(base, 'dataset_info.json'), 'rb') as f:
            info = json.loads(f.read(1 << 20).decode('utf-8', 'replace'))
        splits = info.get('splits') if isinstance(info, dict) else None
        if isinstance(splits, dict):
            total = 0
            for split in splits.values():
                if isinstance(split, dict) and isinstance(split.get('num_examples'), int):
                    total += split['num_examples']
            entry['rows'] = total if splits else None
        features = info.get('features') if isinstance(info, dict) else None
        if isinstance(features, dict):
            entry['columns'] = sorted(features.keys())
    except (OSError, ValueError) as e:
        entry['problem'] = 'dataset_info.json: %s' % e
    try:
        with open(os.path.join(base, 'state.json'), 'rb') as f:
            state = json.loads(f.read(1 << 20).decode('utf-8', 'replace'))
        files = state.get('_data_files') if isinstance(state, dict) else None
        if isinstance(files, list):
            entry['stateFiles'] = [x.get('filename') for x in files if isinstance(x, dict)]
    except (OSError, ValueError) as e:
        entry['problem'] = (entry['problem'] + '; ' if entry['problem'] else '') + 'state.json: %s' % e
    return entry


def cmd_list(args):
    root = os.path.realpath(args.workspace)
    if not os.path.isdir(root):
        raise Refused('NOT_FOUND', 'the workspace %s does not exist on the host' % args.workspace)
    found = []
    seen = 0
    truncated = False
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        rel_dir = os.path.relpath(dirpath, root)
        rel_dir = '' if rel_dir == '.' else rel_dir
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not os.path.islink(os.path.join(dirpath, d)))
        seen += len(dirnames) + len(filenames)
        if seen > MAX_WALK_ENTRIES:
            truncated = True
            break
        names = set(filenames)
        if 'dataset_info.json' in names and 'state.json' in names:
            found.append(hf_dataset_entry(root, rel_dir, names))
            dirnames[:] = []
            continue
        # A Hugging Face checkpoint folder holds JSON configs, not datasets.
        if 'config.json' in names and any(n.endswith('.safetensors') or n.endswith('.bin') for n in names):
            continue
        for name in sorted(filenames):
            fmt = format_of(name)
            if fmt is None:
                continue
            full = os.path.join(dirpath, name)
            if os.path.islink(full):
                continue
            if fmt == 'json' and json_kind(full) != 'array':
                continue
            try:
                st = os.stat(full)
            except OSError:
                continue
            rel = os.path.join(rel_dir, name) if rel_dir else name
            entry = {'path': rel, 'format': fmt, 'size': st.st_size, 'mtime': int(st.st_mtime * 1000), 'rows': None}
            if args.cache_dir and fmt in ('jsonl', 'csv'):
                cached = load_index(index_file(args.cache_dir, index_key(args.workspace, rel)), st)
                if cached is not None:
                    entry['rows'] = cached['totalRows']
                    entry['problems'] = cached['problemCount']
            found.append(entry)
    return {'workspace': root, 'datasets': found, 'truncated': truncated}


# --- line index -------------------------------------------------------------------------------------------------


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


def nesting_depth(text):
    """How deep brackets nest in JSON text, strings skipped; only scanned when the line has that many brackets."""
    if text.count('[') + text.count('{') <= MAX_DEPTH:
        return 0
    depth = deepest = 0
    in_string = escaped = False
    for c in text:
        if in_string:
            if escaped:
                escaped = False
            elif c == '\\':
                escaped = True
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c == '[' or c == '{':
            depth += 1
            if depth > deepest:
                deepest = depth
        elif c == ']' or c == '}':
            depth -= 1
    return deepest


def exact_float(text):
    """1e400 stays 1e400 (float() would make it inf, and json.dumps would write Infinity)."""
    value = float(text)
    return value if math.isfinite(value) else {EXACT_NUMBER: text}


def exact_constant(text):
    return {EXACT_NUMBER: text}


def load_json_text(text, depth_limit=MAX_DEPTH):
    """json.loads with numbers as written and a depth bound; ValueError for anything it cannot read."""
    if nesting_depth(text) > depth_limit:
        raise ValueError('nests deeper than %d levels' % depth_limit)
    try:
        return json.loads(text, parse_float=exact_float, parse_constant=exact_constant)
    except RecursionError:
        raise ValueError('nests deeper than %d levels' % depth_limit)


def load_row(raw):
    """One JSONL row from its bytes (UnicodeDecodeError and ValueError say why it cannot be read)."""
    return load_json_text(raw.decode('utf-8'))


def is_exact_number(value):
    return isinstance(value, dict) and len(value) == 1 and isinstance(value.get(EXACT_NUMBER), str)


# The index of a JSONL or CSV file is built in the background on the host (`index --background` returns at once),
# so the first page never waits for it: the app reads the head directly and pages past the indexed part by byte
# offset. Phase one counts lines with bulk byte operations (no per-line Python: the rate of `wc -l`) and appends a
# checkpoint (byte offset, line, row) at the first line start after every CHECKPOINT_BYTES; phase two (JSONL)
# parses every row to report broken ones by line. Both save their progress several times a second and resume from
# it: a file that grew is extended, a file whose head or last indexed bytes changed is indexed again.

CHECKPOINT = struct.Struct('<QQQ')
CHECKPOINT_BYTES = 64 * 1024
INDEX_CHUNK = 8 * 1024 * 1024
HASH_BYTES = 4096
SAVE_EVERY_S = 0.2
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
        self.ckpt.write(CHECKPOINT.pack(offset, line, row))
        self.state['checkpoints'] += 1
        self.state['nextCheckpoint'] = offset + CHECKPOINT_BYTES

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
                ckpt.truncate(state['checkpoints'] * CHECKPOINT.size)
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
        # A large stretch still to count: windows of it counted side by side, one process per core, in rounds.
        size = os.fstat(f.fileno()).st_size
        procs = counting_processes()
        while procs > 1 and size - pos > PARALLEL_MIN:
            bounds = [pos]
            for k in range(1, procs + 1):
                b = next_line_start(f, pos + k * PARALLEL_WINDOW, size)
                if b is None or b <= bounds[-1]:
                    break
                bounds.append(b)
            results = count_windows(self.real, bounds) if len(bounds) >= 3 else None
            if results is None:
                break
            for a, (found, n_lines, n_rows) in zip(bounds, results):
                for offset, before_lines, before_rows in found:
                    if offset > s['nextCheckpoint'] - CHECKPOINT_BYTES:
                        self.checkpoint(offset, lines + before_lines + 1, rows + before_rows)
                lines += n_lines
                rows += n_rows
            pos = bounds[-1]
            s.update({'indexedBytes': pos, 'rows': rows, 'lines': lines})
            self.save(f)
        while True:
            f.seek(pos)
            buf = f.read(INDEX_CHUNK)
            if not buf:
                break
            last = buf.rfind(b'\n')
            if last < 0:
                # No newline in a whole chunk: a long line, scanned to its end without being kept.
                end, nonblank = scan_line(f, pos, buf)
                if end is None:
                    s['tail'] = {'row': nonblank, 'start': pos, 'line': lines + 1}
                    break
                if pos >= s['nextCheckpoint']:
                    self.checkpoint(pos, lines + 1, rows)
                lines += 1
                rows += 1 if nonblank else 0
                pos = end
                s.update({'indexedBytes': pos, 'rows': rows, 'lines': lines})
                self.save(f)
                continue
            stop = last + 1
            blanks = blank_hint(buf, 0, stop)
            cur = 0
            while True:
                rel = s['nextCheckpoint'] - pos
                if rel >= stop:
                    break
                if rel <= cur:
                    start = cur
                else:
                    start = buf.find(b'\n', rel - 1, stop) + 1
                    if start >= stop:
                        break
                n = buf.count(b'\n', cur, start)
                rows += n - (blank_lines(buf, cur, start) if blanks else 0)
                lines += n
                cur = start
                self.checkpoint(pos + start, lines + 1, rows)
            n = buf.count(b'\n', cur, stop)
            rows += n - (blank_lines(buf, cur, stop) if blanks else 0)
            lines += n
            pos += stop
            s.update({'indexedBytes': pos, 'rows': rows, 'lines': lines})
            if len(buf) > stop and len(buf) < INDEX_CHUNK:
                # The file ends without a newline: the last line is a row (if not blank) but not indexed, since
                # the agent may still be writing it.
                tail = buf[stop:]
                s['tail'] = {'row': tail.strip() != b'', 'start': pos, 'line': lines + 1}
                break
            self.save(f)

    def index_csv(self, f):
        s = self.state
        pos, rows, lines = s['indexedBytes'], s['rows'], s['lines']
        s['tail'] = None
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
        if at > s['indexedBytes'] and (nonblank or quoted) and s['header'] is not None:
            problem = None
            if quoted:
                problem = {'line': record_line, 'row': rows, 'message': 'a quoted field is never closed'}
            s['tail'] = {'row': True, 'start': s['indexedBytes'], 'line': record_line, 'problem': problem}
        elif at > s['indexedBytes'] and nonblank and s['header'] is None:
            s['header'] = parse_csv_record(b''.join(kept))
            s['headerLine'] = record_line

    def check_jsonl(self, f):
        """Phase two: every row parsed, broken ones reported by line (resumes where the last check stopped)."""
        s = self.state
        pos, row, line, end = s['validatedBytes'], s['validatedRows'], s['validatedLines'], s['indexedBytes']
        f.seek(pos)
        while pos < end:
            raw = f.readline(MAX_CHECK_LINE + 1)
            if not raw:
                break
            line += 1
            length = len(raw)
            if not raw.endswith(b'\n') and pos + length < end:
                # Too long to parse: measured, and reported as a problem of its own.
                rest, _ = scan_line(f, pos + length, b'')
                length = (rest if rest is not None else end) - pos
                f.seek(pos + length)
                self.problem(line, row, 'line is %d bytes: longer than %d MiB, not checked'
                             % (length, MAX_CHECK_LINE >> 20))
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
            raw = f.read(MAX_CHECK_LINE + 1)
            try:
                if len(raw) <= MAX_CHECK_LINE:
                    load_row(raw)
            except (UnicodeDecodeError, ValueError) as e:
                tail['problem'] = {'line': tail['line'], 'row': s['rows'], 'message': str(e)}

    def problem(self, line, row, message):
        s = self.state
        s['problemCount'] += 1
        if len(s['problems']) < MAX_PROBLEMS:
            s['problems'].append({'line': line, 'row': row, 'message': message})


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


def count_window(real, start, end):
    """Lines of [start, end) (both line starts) as Builder.index_jsonl counts them, its checkpoint chain started at
    `start`: ([(offset, newlines before it, rows before it)], newlines, rows)."""
    found = []
    rows = lines = 0
    next_ck = pos = start
    with open(real, 'rb') as f:
        while pos < end:
            f.seek(pos)
            buf = f.read(min(INDEX_CHUNK, end - pos))
            if not buf:
                raise ValueError('the file shrank')
            last = buf.rfind(b'\n')
            if last < 0:
                stop, nonblank = scan_line(f, pos, buf)
                if stop is None or stop > end:
                    raise ValueError('the file changed')
                if pos >= next_ck:
                    found.append((pos, lines, rows))
                    next_ck = pos + CHECKPOINT_BYTES
                lines += 1
                rows += 1 if nonblank else 0
                pos = stop
                continue
            stop = last + 1
            blanks = blank_hint(buf, 0, stop)
            cur = 0
            while True:
                rel = next_ck - pos
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
                next_ck = pos + at + CHECKPOINT_BYTES
            n = buf.count(b'\n', cur, stop)
            rows += n - (blank_lines(buf, cur, stop) if blanks else 0)
            lines += n
            pos += stop
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


def parse_csv_record(record):
    text = record.decode('utf-8', 'replace')
    if text.startswith('\ufeff'):
        text = text[1:]
    for fields in csv.reader(io.StringIO(text)):
        return fields
    return []


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


# --- rows -------------------------------------------------------------------------------------------------------


def iter_rows(real, fmt):
    """(row, line, value, error) for every row; broken rows come with value None and the parse error."""
    if fmt == 'jsonl':
        with open(real, 'rb') as f:
            row = 0
            for line_no, raw in enumerate(f, 1):
                if raw.strip() == b'':
                    continue
                try:
                    yield row, line_no, load_row(raw), None
                except (UnicodeDecodeError, ValueError) as e:
                    yield row, line_no, None, str(e)
                row += 1
    elif fmt == 'csv':
        with open(real, 'r', encoding='utf-8', errors='replace', newline='') as f:
            reader = csv.reader(f)
            header = None
            row = 0
            for fields in reader:
                if not fields or (len(fields) == 1 and fields[0].strip() == ''):
                    continue
                if header is None:
                    header = [h.lstrip('\ufeff') for h in fields]
                    continue
                value = {}
                for i, name in enumerate(header):
                    value[name] = fields[i] if i < len(fields) else None
                error = None
                if len(fields) != len(header):
                    error = 'has %d fields, the header has %d' % (len(fields), len(header))
                yield row, reader.line_num, value, error
                row += 1
    elif fmt == 'json':
        for i, value in enumerate(load_json_rows(real)):
            yield i, None, value, None
    else:
        raise Refused('INVALID_INPUT', 'rows of %s files are read by the app, not on the host' % fmt)


def load_json_rows(real):
    size = os.path.getsize(real)
    if size > MAX_JSON_BYTES:
        raise Refused('INVALID_INPUT', '%s is %d bytes: JSON arrays over %d bytes are not opened (use JSONL)'
                      % (real, size, MAX_JSON_BYTES))
    with open(real, 'rb') as f:
        data = f.read()
    try:
        value = load_json_text(data.decode('utf-8-sig'), MAX_DEPTH + 1)
    except (UnicodeDecodeError, ValueError) as e:
        raise Refused('INVALID_INPUT', '%s is not valid JSON: %s' % (real, e))
    if not isinstance(value, list):
        raise Refused('INVALID_INPUT', '%s holds a JSON %s, not a list of rows' % (real, type(value).__name__))
    return value


def cmd_stat(args):
    real = inside(args.workspace, args.file)
    st = os.stat(real)
    return {'realPath': real, 'format': format_of(real), 'size': st.st_size, 'mtimeNs': st.st_mtime_ns,
            'isDir': os.path.isdir(real)}


def cmd_page(args):
    real = inside(args.workspace, args.file)
    fmt = format_of(real)
    if fmt != 'json':
        raise Refused('INVALID_INPUT', 'pages of %s files come from the line index' % fmt)
    rows = load_json_rows(real)
    out = []
    for i in range(args.offset, min(len(rows), args.offset + args.limit)):
        out.append({'row': i, 'value': rows[i]})
    return {'total': len(rows), 'rows': out}


def leaves(value, path=''):
    """(path, text) for every string in the row, in order; numbers count as text too."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, bool) or value is None:
        return
    elif is_exact_number(value):
        yield path, value[EXACT_NUMBER]
    elif isinstance(value, (int, float)):
        yield path, repr(value)
    elif isinstance(value, dict):
        for k, v in value.items():
            for item in leaves(v, k if not path else path + '.' + str(k)):
                yield item
    elif isinstance(value, list):
        for i, v in enumerate(value):
            for item in leaves(v, str(i) if not path else path + '.' + str(i)):
                yield item


def row_text(value):
    return '\n'.join(text for _, text in leaves(value))


def type_name(value):
    if value is None:
        return 'null'
    if isinstance(value, bool):
        return 'boolean'
    if isinstance(value, (int, float)) or is_exact_number(value):
        return 'number'
    if isinstance(value, str):
        return 'string'
    if isinstance(value, list):
        return 'array'
    return 'object'


def normalized(value):
    """The row with strings lower-cased and whitespace collapsed, keys sorted: what exact duplicates compare."""
    if isinstance(value, str):
        return ' '.join(value.lower().split())
    if isinstance(value, dict):
        return {str(k): normalized(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalized(v) for v in value]
    return value


# --- stats ------------------------------------------------------------------------------------------------------


class Lengths(object):
    def __init__(self):
        self.n = 0
        self.total = 0
        self.min = None
        self.max = None

    def add(self, n):
        self.n += 1
        self.total += n
        self.min = n if self.min is None else min(self.min, n)
        self.max = n if self.max is None else max(self.max, n)

    def out(self):
        if not self.n:
            return None
        return {'min': self.min, 'max': self.max, 'mean': self.total / float(self.n)}


def histogram(values, bins=20):
    if not values:
        return {'edges': [], 'counts': []}
    lo, hi = min(values), max(values)
    if lo == hi:
        return {'edges': [lo, hi + 1], 'counts': [len(values)]}
    width = (hi - lo) / float(bins)
    counts = [0] * bins
    for v in values:
        i = int((v - lo) / width)
        counts[min(i, bins - 1)] += 1
    return {'edges': [lo + width * i for i in range(bins + 1)], 'counts': counts}


def percentile(sorted_values, p):
    if not sorted_values:
        return None
    i = min(len(sorted_values) - 1, int(math.ceil(p / 100.0 * len(sorted_values))) - 1)
    return sorted_values[max(0, i)]


MASK64 = (1 << 64) - 1


def shingle_hashes(text, k=5):
    words = WORD.findall(text.lower())
    if len(words) < k:
        grams = [' '.join(words)] if words else []
    else:
        grams = [' '.join(words[i:i + k]) for i in range(len(words) - k + 1)]
    return {int.from_bytes(hashlib.blake2b(g.encode('utf-8'), digest_size=8).digest(), 'little') for g in grams}


def minhash(hashes, masks):
    # XOR with seeded 64-bit masks, then the minimum: one cheap pseudo-permutation per mask (C-level loops).
    return tuple(min(map(m.__xor__, hashes)) for m in masks)


def near_duplicates(signatures, bands, rows_per_band, threshold):
    buckets = {}
    for row, sig in signatures:
        for b in range(bands):
            key = (b,) + sig[b * rows_per_band:(b + 1) * rows_per_band]
            buckets.setdefault(key, []).append(row)
    by_row = dict(signatures)
    parent = {}

    def find(x):
        while parent.get(x, x) != x:
            parent[x] = parent.get(parent[x], parent[x])
            x = parent[x]
        return x

    pairs = []
    checked = set()
    for members in buckets.values():
        if len(members) < 2:
            continue
        first = members[0]
        for other in members[1:]:
            pair = (first, other)
            if pair in checked:
                continue
            checked.add(pair)
            a, b = by_row[first], by_row[other]
            similarity = sum(1 for x, y in zip(a, b) if x == y) / float(len(a))
            if similarity >= threshold:
                pairs.append((first, other, similarity))
                ra, rb = find(first), find(other)
                if ra != rb:
                    parent[max(ra, rb)] = min(ra, rb)
    groups = {}
    best = {}
    for a, b, s in pairs:
        root = find(a)
        groups.setdefault(root, set()).update((a, b))
        best[root] = min(best.get(root, 1.0), s)
    out = [{'rows': sorted(g), 'similarity': round(best[r], 4)} for r, g in groups.items()]
    out.sort(key=lambda g: (-len(g['rows']), g['rows'][0]))
    return out


def cmd_stats(args):
    real = inside(args.workspace, args.file)
    fmt = format_of(real)
    t0 = time.time()
    fields = {}
    lengths = []
    problems = []
    problem_count = 0
    rows = 0
    object_rows = 0
    chat_rows = 0
    roles = {}
    exact = {}
    rng = random.Random(args.seed)
    masks = [rng.getrandbits(64) for _ in range(args.num_perm)]
    signatures = []
    near_considered = 0
    for row, line, value, error in iter_rows(real, fmt):
        if error is not None and value is None:
            problem_count += 1
            if len(problems) < MAX_PROBLEMS:
                problems.append({'line': line, 'row': row, 'message': error})
            continue
        if error is not None:
            problem_count += 1
            if len(problems) < MAX_PROBLEMS:
                problems.append({'line': line, 'row': row, 'message': error})
        rows += 1
        if isinstance(value, dict):
            object_rows += 1
            for key, v in value.items():
                f = fields.get(key)
                if f is None:
                    f = fields[key] = {'present': 0, 'types': {}, 'lengths': Lengths(), 'firstRow': row}
                f['present'] += 1
                t = type_name(v)
                f['types'][t] = f['types'].get(t, 0) + 1
                if isinstance(v, (str, list)):
                    f['lengths'].add(len(v))
            messages = value.get('messages') or value.get('conversations')
            if isinstance(messages, list) and messages and all(isinstance(m, dict) for m in messages):
                chat_rows += 1
                for m in messages:
                    r = m.get('role', m.get('from'))
                    if isinstance(r, str):
                        roles[r] = roles.get(r, 0) + 1
        text = row_text(value)
        lengths.append(len(text))
        digest = hashlib.sha1(json.dumps(normalized(value), sort_keys=True, ensure_ascii=False,
                                         separators=(',', ':')).encode('utf-8', 'surrogatepass')).hexdigest()
        exact.setdefault(digest, []).append(row)
        if near_considered < args.near_max_rows:
            near_considered += 1
            hashes = shingle_hashes(text)
            if hashes:
                signatures.append((row, minhash(hashes, masks)))
    exact_groups = [sorted(g) for g in exact.values() if len(g) > 1]
    exact_groups.sort(key=lambda g: (-len(g), g[0]))
    # Near duplicates that are exact duplicates of each other are reported once, as exact.
    first_of = {}
    for g in exact_groups:
        for r in g[1:]:
            first_of[r] = g[0]
    signatures = [(r, s) for r, s in signatures if r not in first_of]
    bands = args.bands
    near = near_duplicates(signatures, bands, args.num_perm // bands, args.threshold)
    sorted_lengths = sorted(lengths)
    field_out = []
    for name, f in fields.items():
        field_out.append({'name': name, 'present': f['present'], 'missing': object_rows - f['present'],
                          'types': f['types'], 'lengths': f['lengths'].out()})
    return {
        'format': fmt,
        'rows': rows,
        'objectRows': object_rows,
        'problems': problems,
        'problemCount': problem_count,
        'fields': field_out,
        'chat': {'rows': chat_rows, 'roles': roles},
        'lengths': {
            'unit': 'characters',
            'min': sorted_lengths[0] if sorted_lengths else None,
            'max': sorted_lengths[-1] if sorted_lengths else None,
            'mean': (sum(lengths) / float(len(lengths))) if lengths else None,
            'p50': percentile(sorted_lengths, 50),
            'p90': percentile(sorted_lengths, 90),
            'p99': percentile(sorted_lengths, 99),
            'histogram': histogram(lengths),
        },
        'exactDuplicates': {'groups': exact_groups[:args.max_groups], 'groupCount': len(exact_groups),
                            'duplicateRows': sum(len(g) - 1 for g in exact_groups)},
        'nearDuplicates': {'groups': near[:args.max_groups], 'groupCount': len(near),
                           'rowsConsidered': near_considered, 'rowsTotal': rows, 'threshold': args.threshold,
                           'method': 'MinHash over 5-word shingles, %d hashes, %d bands, seed %d'
                                     % (args.num_perm, bands, args.seed)},
        'elapsedMs': int((time.time() - t0) * 1000),
    }


# --- search -----------------------------------------------------------------------------------------------------


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
        out = getattr(sys.stdout, 'buffer', sys.stdout)
        out.write(json.dumps(obj, ensure_ascii=False, separators=(',', ':')).encode('utf-8', 'replace') + b'\n')
        out.flush()

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


def search_jsonl(real, needle, out):
    """Streams over the file in chunks, counting rows as the index does; with an ASCII query only lines whose
    lower-cased bytes hold it are parsed (a C-speed search), else every line is."""
    raw_needle = needle.encode('ascii') if prefilterable(needle) else None
    pos, row, line = 0, 0, 0
    with open(real, 'rb') as f:
        while True:
            f.seek(pos)
            buf = f.read(INDEX_CHUNK)
            if not buf:
                break
            last = buf.rfind(b'\n')
            if last < 0 and len(buf) == INDEX_CHUNK:
                # A line longer than a chunk: read whole when it is not too long, else passed over.
                end, nonblank = scan_line(f, pos, buf)
                stop = (end if end is not None else os.fstat(f.fileno()).st_size) - pos
                if nonblank and stop <= MAX_CHECK_LINE:
                    f.seek(pos)
                    check_line(f.read(stop), needle, row, line + 1, out)
                row += 1 if nonblank else 0
                line += 1
                pos += stop
                out.progress(pos)
                continue
            stop = last + 1 if last >= 0 else len(buf)
            if len(buf) < INDEX_CHUNK:
                stop = len(buf)
            blanks = blank_hint(buf, 0, stop)
            cur = 0
            if raw_needle is not None:
                low = buf.lower()
                at = low.find(raw_needle, 0, stop)
                while at >= 0:
                    start = buf.rfind(b'\n', 0, at) + 1
                    end = buf.find(b'\n', at, stop)
                    end = stop if end < 0 else end + 1
                    n = buf.count(b'\n', cur, start)
                    row += n - (blank_lines(buf, cur, start) if blanks else 0)
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
            row += n - (blank_lines(buf, cur, stop) if blanks else 0)
            line += n
            pos += stop
            out.progress(pos)


def cmd_search(args):
    real = inside(args.workspace, args.file)
    fmt = format_of(real)
    needle = args.query.lower()
    out = SearchOutput(args.query, args.limit, os.path.getsize(real), args.stream)
    if fmt == 'jsonl':
        search_jsonl(real, needle, out)
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


# --- overlap ----------------------------------------------------------------------------------------------------


def tokens(value):
    """(word, field, start, end) for every word of every string in the row, lower-cased."""
    out = []
    for path, text in leaves(value):
        for m in WORD.finditer(text):
            out.append((m.group(0).lower(), path, m.start(), m.end()))
    return out


def read_test_rows(path):
    fmt = format_of(path)
    if fmt is None:
        raise Refused('INVALID_INPUT', 'the test set %s is not JSONL, JSON or CSV' % path)
    if not os.path.isfile(path):
        raise Refused('NOT_FOUND', 'the test set %s does not exist on the host' % path)
    rows = []
    for row, line, value, error in iter_rows(path, fmt):
        if value is not None:
            rows.append(value)
    return rows


def cmd_overlap(args):
    real = inside(args.workspace, args.file)
    fmt = format_of(real)
    n = args.n
    t0 = time.time()
    grams = {}
    test_rows = []
    for test_path in args.test:
        for value in read_test_rows(test_path):
            index = len(test_rows)
            test_rows.append((test_path, value))
            words = [w for w, _, _, _ in tokens(value)]
            for i in range(len(words) - n + 1):
                grams.setdefault(' '.join(words[i:i + n]), index)
    hits = []
    hit_rows = 0
    scanned = 0
    matched_test = set()
    for row, line, value, error in iter_rows(real, fmt):
        if value is None:
            continue
        scanned += 1
        toks = tokens(value)
        if len(toks) < n:
            continue
        words = [t[0] for t in toks]
        covered = [False] * len(toks)
        test_hits = {}
        matched = 0
        for i in range(len(words) - n + 1):
            t = grams.get(' '.join(words[i:i + n]))
            if t is None:
                continue
            matched += 1
            test_hits[t] = test_hits.get(t, 0) + 1
            for j in range(i, i + n):
                covered[j] = True
        if not matched:
            continue
        hit_rows += 1
        matched_test.update(test_hits)
        if len(hits) >= args.max_hits:
            continue
        spans = []
        for j, (_, field, start, end) in enumerate(toks):
            if not covered[j]:
                continue
            last = spans[-1] if spans else None
            # Adjacent covered words of one field become one span (the text between them included).
            if last is not None and last['field'] == field and covered[j - 1] and toks[j - 1][1] == field:
                last['end'] = end
            else:
                spans.append({'field': field, 'start': start, 'end': end})
        texts = {}
        for path, text in leaves(value):
            if any(s['field'] == path for s in spans):
                texts[path] = text
        best = sorted(test_hits.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
        hits.append({
            'row': row, 'line': line, 'matchedNgrams': matched, 'totalNgrams': len(words) - n + 1,
            'spans': spans, 'fields': texts,
            'testItems': [{'index': t, 'file': test_rows[t][0], 'ngrams': c,
                           'preview': row_text(test_rows[t][1])[:300]} for t, c in best],
        })
    return {'n': n, 'testFiles': args.test, 'testRows': len(test_rows), 'testNgrams': len(grams),
            'rowsScanned': scanned, 'rowsWithOverlap': hit_rows, 'testItemsMatched': len(matched_test),
            'hits': hits, 'truncated': hit_rows > len(hits), 'elapsedMs': int((time.time() - t0) * 1000)}


def cmd_find_test(args):
    found = []
    for d in args.dir:
        d = os.path.expanduser(d)
        if not os.path.isdir(d):
            continue
        for dirpath, dirnames, filenames in os.walk(d):
            dirnames[:] = sorted(x for x in dirnames if x not in SKIP_DIRS)
            if dirpath[len(d):].count(os.sep) > 3:
                dirnames[:] = []
            for name in sorted(filenames):
                if 'test' in name.lower() and format_of(name) in TEXT_FORMATS:
                    found.append(os.path.join(dirpath, name))
        if found:
            break
    return {'files': found}


def main(argv):
    p = argparse.ArgumentParser(prog='ptw-data.py')
    sub = p.add_subparsers(dest='command')
    s = sub.add_parser('list')
    s.add_argument('--workspace', required=True)
    s.add_argument('--cache-dir')
    for name in ('index', 'stat', 'page', 'stats', 'search', 'overlap'):
        s = sub.add_parser(name)
        s.add_argument('--workspace', required=True)
        s.add_argument('--file', required=True)
        if name == 'index':
            s.add_argument('--cache-dir', required=True)
            s.add_argument('--background', action='store_true')
        if name == 'page':
            s.add_argument('--offset', type=int, default=0)
            s.add_argument('--limit', type=int, default=100)
        if name == 'stats':
            s.add_argument('--seed', type=int, default=1)
            s.add_argument('--num-perm', type=int, default=64)
            s.add_argument('--bands', type=int, default=16)
            s.add_argument('--threshold', type=float, default=0.8)
            s.add_argument('--near-max-rows', type=int, default=50000)
            s.add_argument('--max-groups', type=int, default=100)
        if name == 'search':
            s.add_argument('--query', required=True)
            s.add_argument('--limit', type=int, default=200)
            s.add_argument('--stream', action='store_true')
        if name == 'overlap':
            s.add_argument('--test', action='append', required=True)
            s.add_argument('--n', type=int, default=13)
            s.add_argument('--max-hits', type=int, default=1000)
    s = sub.add_parser('find-test')
    s.add_argument('--dir', action='append', required=True)
    args = p.parse_args(argv)
    handlers = {'list': cmd_list, 'index': cmd_index, 'stat': cmd_stat, 'page': cmd_page, 'stats': cmd_stats, 'search': cmd_search,
                'overlap': cmd_overlap, 'find-test': cmd_find_test}
    if args.command not in handlers:
        p.print_usage(sys.stderr)
        return 2
    try:
        result = handlers[args.command](args)
        status = 0
    except BrokenPipeError:
        # The app stopped reading (a cancelled search): nothing left to say.
        return 0
    except Refused as e:
        result = {'error': {'code': e.code, 'message': e.message}}
        status = 3
    except MemoryError:
        result = {'error': {'code': 'INTERNAL', 'message': 'the host ran out of memory answering %s' % args.command}}
        status = 3
    except RecursionError:
        result = {'error': {'code': 'INVALID_INPUT',
                            'message': '%s: a value nests too deeply to answer %s' % (getattr(args, 'file', ''), args.command)}}
        status = 3
    out = getattr(sys.stdout, 'buffer', sys.stdout)
    try:
        text = json.dumps(result, ensure_ascii=False, separators=(',', ':'))
    except (RecursionError, ValueError):
        text = json.dumps({'error': {'code': 'INVALID_INPUT',
                                     'message': 'the answer to %s nests too deeply to send' % args.command}})
        status = 3
    out.write(text.encode('utf-8', 'replace'))
    out.write(b'\n')
    return status


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
