"""The rows of a dataset file (JSONL, CSV, a JSON array) as values, and what a row says as text."""

import csv
import io
import os

from ptw_host.datasets.exact_json import EXACT_NUMBER, MAX_DEPTH, is_exact_number, load_json_text, load_row
from ptw_host.datasets.paths import Refused, format_of, inside

MAX_JSON_BYTES = 512 * 1024 * 1024

csv.field_size_limit(2 ** 31 - 1)


def parse_csv_record(record):
    text = record.decode('utf-8', 'replace')
    if text.startswith('\ufeff'):
        text = text[1:]
    for fields in csv.reader(io.StringIO(text)):
        return fields
    return []


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
