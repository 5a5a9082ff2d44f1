"""The files of one checkpoint folder: its safetensors headers (checked entry by entry), its shards, its links.

Every tensor is located as (file, dtype, shape, absolute begin, byte count); nothing of the weights is read here.
"""

import json
import os

from ptw_host import safetensors
from ptw_host.safetensors import DTYPE_BYTES, MAX_HEADER_BYTES, numel_of


class InspectError(Exception):
    pass


def header_problem(path, err):
    """What is wrong with a file's header framing, worded as the app's own reader words it."""
    if err.kind == "short":
        return "%s: %d bytes, too short for a safetensors header length (8 bytes)" % (path, err.size)
    if err.kind == "past-end":
        return "%s: header declares %d bytes but the file has only %d after the length" % (path, err.length, err.size - 8)
    if err.kind == "too-long":
        return "%s: header declares %d bytes, more than the %d allowed" % (path, err.length, MAX_HEADER_BYTES)
    if err.kind == "not-json":
        return "%s: header is not valid JSON (%s)" % (path, err.detail)
    return "%s: header is not a JSON object" % path


def read_header(path):
    """The header of one safetensors file: (tensors {name: (dtype, shape, begin, end)}, metadata, data_start, size).

    Mirrors src/shared/checkpoints/safetensors-header.ts: same checks, same messages."""
    try:
        header, length, size = safetensors.read_raw_header(path)
    except OSError as err:
        raise InspectError("%s: %s" % (path, err.strerror or err))
    except safetensors.HeaderError as err:
        raise InspectError(header_problem(path, err))
    data_size = size - 8 - length
    metadata = header.pop("__metadata__", None)
    tensors = {}
    spans = []
    for name, info in header.items():
        where = "%s: tensor %s" % (path, json.dumps(name))
        if not isinstance(info, dict):
            raise InspectError("%s is not an object" % where)
        dtype = info.get("dtype")
        shape = info.get("shape")
        offsets = info.get("data_offsets")
        if not isinstance(dtype, str):
            raise InspectError("%s has no dtype" % where)
        if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
            raise InspectError("%s has an invalid shape" % where)
        if (
            not isinstance(offsets, list)
            or len(offsets) != 2
            or not all(isinstance(o, int) and o >= 0 for o in offsets)
            or offsets[0] > offsets[1]
        ):
            raise InspectError("%s has invalid data_offsets" % where)
        begin, end = offsets
        if end > data_size:
            raise InspectError(
                "%s: data_offsets [%d, %d] run past the end of the data (%d bytes)" % (where, begin, end, data_size)
            )
        numel = numel_of(shape)
        width = DTYPE_BYTES.get(dtype)
        if width is not None and numel * width != end - begin:
            raise InspectError(
                "%s: %s %s needs %d bytes but data_offsets span %d" % (where, dtype, shape, numel * width, end - begin)
            )
        tensors[name] = (dtype, shape, begin, end)
        spans.append((begin, end, name))
    spans.sort()
    for (b1, e1, n1), (b2, e2, n2) in zip(spans, spans[1:]):
        if b2 < e1:
            raise InspectError(
                "%s: tensors %s [%d, %d] and %s [%d, %d] overlap" % (path, json.dumps(n1), b1, e1, json.dumps(n2), b2, e2)
            )
    return tensors, (metadata if isinstance(metadata, dict) else None), 8 + length, size



def link_allowed(folder, path):
    """Links are followed only the way the Hugging Face cache uses them: snapshots/<rev>/<file> -> ../../blobs/<hash>.
    In a run's workspace the agent chose every name, and a link could make the app read any file on the host."""
    if not os.path.islink(path):
        return True
    blobs = os.path.realpath(os.path.join(folder, "..", "..", "blobs"))
    return os.path.basename(os.path.dirname(os.path.abspath(folder))) == "snapshots" and os.path.realpath(path).startswith(
        blobs + os.sep
    )


def load_checkpoint(folder):
    """Every tensor of the checkpoint in `folder`: {name: (file, dtype, shape, abs_begin, nbytes)}, plus files."""
    index_names = [n for n in sorted(os.listdir(folder)) if n.endswith(".safetensors.index.json")]
    files = []
    if index_names:
        index_path = os.path.join(folder, index_names[0])
        try:
            with open(index_path, "rb") as handle:
                index = json.loads(handle.read().decode("utf-8"))
        except (OSError, ValueError, UnicodeDecodeError) as err:
            raise InspectError("%s: not a readable index (%s)" % (index_path, err))
        weight_map = index.get("weight_map") if isinstance(index, dict) else None
        if not isinstance(weight_map, dict):
            raise InspectError("%s: no weight_map object" % index_path)
        shards = sorted(set(weight_map.values()))
        for shard in shards:
            if not isinstance(shard, str) or "/" in shard or shard in ("", ".", ".."):
                raise InspectError("%s: shard name %s is not a file name in the folder" % (index_path, json.dumps(shard)))
            if not os.path.isfile(os.path.join(folder, shard)):
                raise InspectError("%s: shard %s is missing" % (index_path, shard))
            files.append(shard)
    else:
        files = [n for n in sorted(os.listdir(folder)) if n.endswith(".safetensors")]
    for name in files + index_names[:1]:
        if not link_allowed(folder, os.path.join(folder, name)):
            raise InspectError("%s is a symbolic link; links in the workspace are not followed" % os.path.join(folder, name))
    tensors = {}
    for name in files:
        path = os.path.join(folder, name)
        found, _meta, start, _size = read_header(path)
        for tname, (dtype, shape, begin, end) in found.items():
            if index_names and weight_map.get(tname) not in (None, name):
                continue
            tensors[tname] = (path, dtype, shape, start + begin, end - begin)
    if index_names:
        missing = [t for t, shard in weight_map.items() if t not in tensors]
        if missing:
            raise InspectError(
                "%s: %d tensor(s) of the weight_map are in no shard, e.g. %s"
                % (os.path.join(folder, index_names[0]), len(missing), missing[0])
            )
    return tensors, files, (index_names[0] if index_names else None)
