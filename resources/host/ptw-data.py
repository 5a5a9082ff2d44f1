#!/usr/bin/env python3
"""PostTrain Workbench dataset inspector, host side.

Finds the datasets an agent wrote in its workspace and answers questions about them where they live, so only
summaries and pages of rows travel over SSH: a line index for JSONL and CSV (byte offsets every K rows, cached under
the run folder outside the workspace), pages of JSON arrays, field stats, a length histogram, exact and near
duplicates, search, and n-gram overlap with a benchmark's test set.

Python 3.8+ standard library only (GPU hosts have python3 and nothing may be installed on them). Every command
prints one JSON object on stdout; problems with the input (a broken line, a file outside the workspace) are part of
that object or, when the command cannot answer at all, `{"error": {"code", "message"}}` with exit status 3.

    python3 ptw-data.py list     --workspace W [--cache-dir C]
    python3 ptw-data.py index    --workspace W --file REL --cache-dir C [--every 64]
    python3 ptw-data.py stat     --workspace W --file REL                          (real path, size)
    python3 ptw-data.py page     --workspace W --file REL --offset N --limit M       (JSON arrays)
    python3 ptw-data.py stats    --workspace W --file REL [--seed 1] [--near-max-rows 50000]
    python3 ptw-data.py search   --workspace W --file REL --query Q [--limit 200]
    python3 ptw-data.py overlap  --workspace W --file REL --test PATH [--test PATH] [--n 13] [--max-hits 1000]
    python3 ptw-data.py find-test --dir D [--dir D]

Paths given as --file are relative to the workspace; a path that resolves outside it (`..`, a symlink out) is
refused, so an agent cannot make the app read other files of the host's user.
"""

import argparse
import csv
import hashlib
import io
import json
import math
import os
import random
import re
import sys
import time

VERSION = 1
INDEX_VERSION = 1
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
                    entry['rows'] = cached['rows']
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


def load_index(path, st):
    try:
        with open(path, 'r', encoding='utf-8') as f:
            idx = json.load(f)
    except (OSError, ValueError):
        return None
    if (idx.get('version') != INDEX_VERSION or idx.get('size') != st.st_size or
            idx.get('mtimeNs') != st.st_mtime_ns):
        return None
    return idx


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


def csv_record_ends(line, quoted):
    """Whether the physical line ends a CSV record, given whether a quoted field was open before it."""
    if line.count(b'"') % 2 == 1:
        quoted = not quoted
    return quoted


def build_index(real, fmt, every):
    """Byte offset and line number of every `every`-th row; rows are non-blank lines (JSONL) or records (CSV)."""
    checkpoints = []
    problems = []
    problem_count = 0
    rows = 0
    line_no = 0
    offset = 0
    header = None
    header_line = None
    quoted = False
    record_start = 0
    record_line = 0
    record_parts = []
    with open(real, 'rb') as f:
        for raw in f:
            line_no += 1
            start = offset
            offset += len(raw)
            if fmt == 'csv':
                if not record_parts:
                    record_start, record_line = start, line_no
                record_parts.append(raw)
                quoted = csv_record_ends(raw, quoted)
                if quoted:
                    continue
                record = b''.join(record_parts)
                record_parts = []
                if record.strip() == b'':
                    continue
                if header is None:
                    header = parse_csv_record(record)
                    header_line = record_line
                    continue
                if rows % every == 0:
                    checkpoints.append([record_start, record_line])
                rows += 1
                continue
            if raw.strip() == b'':
                continue
            if rows % every == 0:
                checkpoints.append([start, line_no])
            rows += 1
            try:
                load_row(raw)
            except (UnicodeDecodeError, ValueError) as e:
                problem_count += 1
                if len(problems) < MAX_PROBLEMS:
                    problems.append({'line': line_no, 'row': rows - 1, 'message': str(e)})
    if fmt == 'csv' and record_parts:
        problem_count += 1
        problems.append({'line': record_line, 'row': rows, 'message': 'a quoted field is never closed'})
        if header is not None:
            if rows % every == 0:
                checkpoints.append([record_start, record_line])
            rows += 1
    return {'rows': rows, 'checkpoints': checkpoints, 'problems': problems, 'problemCount': problem_count,
            'header': header, 'headerLine': header_line, 'lines': line_no}


def parse_csv_record(record):
    text = record.decode('utf-8', 'replace')
    if text.startswith('\ufeff'):
        text = text[1:]
    for fields in csv.reader(io.StringIO(text)):
        return fields
    return []


def cmd_index(args):
    real = inside(args.workspace, args.file)
    fmt = format_of(real)
    if fmt not in ('jsonl', 'csv'):
        raise Refused('INVALID_INPUT', '%s is not JSONL or CSV: no line index for it' % args.file)
    st = os.stat(real)
    path = index_file(args.cache_dir, index_key(args.workspace, args.file))
    idx = load_index(path, st)
    built_ms = None
    if idx is None:
        t0 = time.time()
        idx = build_index(real, fmt, args.every)
        built_ms = int((time.time() - t0) * 1000)
        idx.update({'version': INDEX_VERSION, 'file': real, 'format': fmt, 'size': st.st_size,
                    'mtimeNs': st.st_mtime_ns, 'every': args.every, 'builtMs': built_ms})
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = path + '.%d.tmp' % os.getpid()
        with open(tmp, 'w', encoding='utf-8') as f:
            json.dump(idx, f, separators=(',', ':'))
        os.replace(tmp, path)
    idx['cached'] = built_ms is None
    idx['realPath'] = real
    return idx


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


def cmd_search(args):
    real = inside(args.workspace, args.file)
    fmt = format_of(real)
    needle = args.query.lower()
    hits = []
    total = 0
    for row, line, value, error in iter_rows(real, fmt):
        text = row_text(value) if value is not None else ''
        if value is None:
            continue
        at = text.lower().find(needle)
        if at < 0:
            continue
        total += 1
        if len(hits) < args.limit:
            start = max(0, at - 60)
            hits.append({'row': row, 'line': line, 'snippet': text[start:at + len(needle) + 60],
                         'matchStart': at - start, 'matchEnd': at - start + len(needle)})
    return {'query': args.query, 'total': total, 'hits': hits}


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
            s.add_argument('--every', type=int, default=64)
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
