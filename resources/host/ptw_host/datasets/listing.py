"""`data list` (the datasets in a workspace) and `data find-test` (test sets in the folders given)."""

import json
import os

from ptw_host.datasets.line_index import index_file, index_key, load_index
from ptw_host.datasets.paths import SKIP_DIRS, TEXT_FORMATS, Refused, format_of, json_kind

MAX_WALK_ENTRIES = 50000


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
