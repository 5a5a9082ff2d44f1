"""`data overlap`: n-grams a dataset file shares with a benchmark's test set, with the spans that match."""

import os
import time

from ptw_host.datasets.paths import Refused, format_of, inside
from ptw_host.datasets.rows import iter_rows, leaves, row_text
from ptw_host.datasets.stats import WORD


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
