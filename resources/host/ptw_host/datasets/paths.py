"""Which files of a workspace the dataset inspector answers about, and the one error it answers with.

Paths given as --file are relative to the workspace; a path that resolves outside it (`..`, a symlink out) is
refused, so an agent cannot make the app read other files of the host's user.
"""

import os

TEXT_FORMATS = ('jsonl', 'csv', 'json')
SKIP_DIRS = {
    '.cache', '.git', 'node_modules', '__pycache__', '.venv', 'venv', 'site-packages', 'wandb', '.ipynb_checkpoints',
    'final_model', '.mypy_cache', '.pytest_cache', '.triton',
}
# Problems (broken rows) listed in one answer; the count goes on past them.
MAX_PROBLEMS = 200
EXTENSIONS = {'.jsonl': 'jsonl', '.ndjson': 'jsonl', '.json': 'json', '.csv': 'csv', '.parquet': 'parquet'}


class Refused(Exception):
    def __init__(self, code, message):
        Exception.__init__(self, message)
        self.code = code
        self.message = message


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
