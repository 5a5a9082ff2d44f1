"""`ptw-host.pyz data`: the PostTrain Workbench dataset inspector, host side.

Finds the datasets an agent wrote in its workspace and answers questions about them where they live, so only
summaries and pages of rows travel over SSH: a line index for JSONL and CSV (byte offsets of line starts, cached under
the run folder outside the workspace), pages of JSON arrays, field stats, a length histogram, exact and near
duplicates, search, and n-gram overlap with a benchmark's test set.

Python 3.8+ standard library only (GPU hosts have python3 and nothing may be installed on them). Every command
prints one JSON object on stdout; problems with the input (a broken line, a file outside the workspace) are part of
that object or, when the command cannot answer at all, `{"error": {"code", "message"}}` with exit status 3.

    python3 ptw-host.pyz data list     --workspace W [--cache-dir C]
    python3 ptw-host.pyz data index    --workspace W --file REL --cache-dir C [--background]
    python3 ptw-host.pyz data stat     --workspace W --file REL                          (real path, size)
    python3 ptw-host.pyz data page     --workspace W --file REL --offset N --limit M       (JSON arrays)
    python3 ptw-host.pyz data stats    --workspace W --file REL [--seed 1] [--near-max-rows 50000]
    python3 ptw-host.pyz data search   --workspace W --file REL --query Q [--limit 200] [--stream] [--cache-dir C]
    python3 ptw-host.pyz data overlap  --workspace W --file REL --test PATH [--test PATH] [--n 13] [--max-hits 1000]
    python3 ptw-host.pyz data find-test --dir D [--dir D]

Paths given as --file are relative to the workspace; a path that resolves outside it (`..`, a symlink out) is
refused, so an agent cannot make the app read other files of the host's user.
"""

import argparse
import json
import sys

from ptw_host.datasets.line_index import cmd_index
from ptw_host.datasets.listing import cmd_find_test, cmd_list
from ptw_host.datasets.output import encode, write_answer
from ptw_host.datasets.overlap import cmd_overlap
from ptw_host.datasets.paths import Refused
from ptw_host.datasets.rows import cmd_page, cmd_stat
from ptw_host.datasets.search import cmd_search
from ptw_host.datasets.stats import cmd_stats


def main(argv):
    p = argparse.ArgumentParser(prog='ptw-host.pyz data')
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
            # The file's index, when finished, numbers the rows of hits without counting up to them.
            s.add_argument('--cache-dir')
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
    try:
        text = encode(result)
    except (RecursionError, ValueError):
        text = json.dumps({'error': {'code': 'INVALID_INPUT',
                                     'message': 'the answer to %s nests too deeply to send' % args.command}})
        status = 3
    write_answer(text)
    return status
