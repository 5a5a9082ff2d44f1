"""How the dataset inspector writes its answers: compact JSON, UTF-8 (a lone surrogate from a broken file becomes
`?`), one line each; the app parses them (src/main/datasets/)."""

import json
import sys


def encode(obj):
    """The JSON text of an answer (RecursionError or ValueError when it cannot be written)."""
    return json.dumps(obj, ensure_ascii=False, separators=(',', ':'))


def write_answer(text, flush=False):
    """One line on stdout; `flush` for a line the app waits on while the command goes on (a streamed search)."""
    out = getattr(sys.stdout, 'buffer', sys.stdout)
    out.write(text.encode('utf-8', 'replace') + b'\n')
    if flush:
        out.flush()
