"""The header of a safetensors file: 8 bytes of little-endian length, then that many bytes of JSON.

Only the framing is read here (the length, the JSON object); what a caller accepts in the tensors' entries, and how
it words a problem, is its own: the checkpoint inspector checks every entry as src/shared/checkpoints/
safetensors-header.ts does, the integrity checks only need the offsets of the tensors they sample.
"""

import json
import os
import struct

MAX_HEADER_BYTES = 100 * 1024 * 1024

# Bytes per element; sub-byte types (F4, F6) are listed apart and never decoded.
DTYPE_BYTES = {
    "F64": 8,
    "F32": 4,
    "F16": 2,
    "BF16": 2,
    "I64": 8,
    "I32": 4,
    "I16": 2,
    "I8": 1,
    "U64": 8,
    "U32": 4,
    "U16": 2,
    "U8": 1,
    "BOOL": 1,
    "F8_E4M3": 1,
    "F8_E5M2": 1,
    "F8_E8M0": 1,
    "C64": 8,
}
# Sub-byte dtypes the format defines (no whole-byte width): known, never decoded.
SUB_BYTE_DTYPES = ("F4", "F6_E2M3", "F6_E3M2")


class HeaderError(Exception):
    """Why a file has no readable header. `kind`: short, too-long, past-end, not-json, not-object (the file's size
    and the declared length alongside, for the caller's own message)."""

    def __init__(self, kind, size, length=None, detail=None):
        Exception.__init__(self, kind)
        self.kind = kind
        self.size = size
        self.length = length
        self.detail = detail


def read_raw_header(path):
    """(the header's JSON object, its length in bytes, the file's size); HeaderError or OSError when unreadable."""
    size = os.path.getsize(path)
    with open(path, "rb") as handle:
        head = handle.read(8)
        if len(head) < 8:
            raise HeaderError("short", size)
        (length,) = struct.unpack("<Q", head)
        if length > size - 8:
            raise HeaderError("past-end", size, length)
        if length > MAX_HEADER_BYTES:
            raise HeaderError("too-long", size, length)
        raw = handle.read(length)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise HeaderError("not-json", size, length, err)
    if not isinstance(header, dict):
        raise HeaderError("not-object", size, length)
    return header, length, size


def numel_of(shape):
    n = 1
    for d in shape:
        n *= d
    return n
