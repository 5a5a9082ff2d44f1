"""JSON rows read as written: numbers JSON.parse would round travel as {EXACT_NUMBER: text}, and nesting is bounded
the way the app bounds it (src/shared/datasets/exact-json.ts)."""

import json
import math

# Nesting deeper than this is a broken row, counted here as the app counts it (src/shared/datasets/exact-json.ts).
MAX_DEPTH = 512
# A number JSON.parse would round or turn into Infinity travels as {EXACT_NUMBER: "<as written>"}.
EXACT_NUMBER = '$ptw:number'


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
