"""`data stats`: field stats, lengths, exact and near (MinHash) duplicates of a dataset file."""

import hashlib
import json
import math
import random
import re
import time

from ptw_host.datasets.paths import MAX_PROBLEMS, format_of, inside
from ptw_host.datasets.rows import iter_rows, normalized, row_text, type_name

WORD = re.compile(r'\w+', re.UNICODE)


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
