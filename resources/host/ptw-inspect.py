#!/usr/bin/env python3
"""PostTrain Workbench checkpoint inspector.

Runs on the GPU host, where the checkpoints are (3-16 GB each): it reads safetensors there and prints only
summaries, so the weights never cross SSH. Python 3.8+ standard library; numpy when the host's python3 has it.

    python3 ptw-inspect.py find RUN_DIR [--hf-cache DIR ...] [--base-model ORG/NAME]
        One JSON object: the checkpoints found under RUN_DIR (and the base model in the HF cache).
    python3 ptw-inspect.py diff DIR_A DIR_B [--out FILE] [--jobs N] [--engine auto|numpy|python]
        JSON lines (to FILE, else stdout): start (with the engine used), progress, one per tensor, done (or error).

Per tensor, `diff` reports sums the app turns into the L2 norm of the delta, relative change, cosine similarity
and max absolute change: Σa², Σb², Σ(a-b)² (an identical range of a changed tensor still counts towards Σa² and
Σb²) and max |a-b| (NaN differences left out; a NaN or infinity makes a sum null and sets nonFinite). Byte ranges
that are identical in both files are compared with memcmp and need no float math. Changed ranges are reduced by
one of two engines, which compute the same sums:

- numpy (`--engine auto` picks it when `import numpy` works on a little-endian host): chunks are read with
  readinto into buffers each process reuses, converted exactly to float64 (bf16 is the high half of a float32,
  float8 through 256-entry tables) in cache-sized blocks and reduced with np.dot or np.einsum (whichever is faster
  with this numpy's BLAS). BLAS is held to one thread: the work is already spread over processes. numpy 1.x and 2.x.
- python (the standard library alone): decoded in C (struct, memoryview, bytes slicing) and reduced with
  math.dist, so Python touches each element a handful of times; ~20× slower than numpy.

Work is spread over processes (one per core by default).

Exit status: 0 done, 1 a checkpoint could not be read (the message names the file and offset), 2 bad arguments
(or --engine numpy where numpy cannot be used).
"""

import argparse
import json
import math
import operator
import os
import re
import struct
import sys
import time

INSPECT_VERSION = 1

# Bytes per element; sub-byte types (F4, F6) are listed but never decoded.
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
STRUCT_CODE = {
    "F64": "d",
    "F32": "f",
    "F16": "e",
    "I64": "q",
    "I32": "i",
    "I16": "h",
    "I8": "b",
    "U64": "Q",
    "U32": "I",
    "U16": "H",
    "U8": "B",
    "BOOL": "?",
}
LITTLE_ENDIAN = sys.byteorder == "little"
MAX_HEADER_BYTES = 100 * 1024 * 1024
# Elements decoded at once: three lists of Python floats of this length live at a time (~100 MB).
CHUNK_ELEMENTS = 1 << 20
# Bytes of one unit of work handed to a process.
TASK_BYTES = 64 * 1024 * 1024
CONFIG_FILES = ("config.json", "generation_config.json", "tokenizer_config.json", "chat_template.jinja")
SKIP_DIRS = {".git", "__pycache__", "node_modules", ".cache", ".venv", "venv", "wandb", ".ipynb_checkpoints"}
MAX_WALK_DIRS = 20000
MAX_DEPTH = 8


class InspectError(Exception):
    pass


# --- safetensors -------------------------------------------------------------------------------------------------


def read_header(path):
    """The header of one safetensors file: (tensors {name: (dtype, shape, begin, end)}, metadata, data_start, size).

    Mirrors src/shared/checkpoints/safetensors-header.ts: same checks, same messages."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as handle:
            head = handle.read(8)
            if len(head) < 8:
                raise InspectError("%s: %d bytes, too short for a safetensors header length (8 bytes)" % (path, size))
            (length,) = struct.unpack("<Q", head)
            if length > size - 8:
                raise InspectError(
                    "%s: header declares %d bytes but the file has only %d after the length" % (path, length, size - 8)
                )
            if length > MAX_HEADER_BYTES:
                raise InspectError("%s: header declares %d bytes, more than the %d allowed" % (path, length, MAX_HEADER_BYTES))
            raw = handle.read(length)
    except OSError as err:
        raise InspectError("%s: %s" % (path, err.strerror or err))
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise InspectError("%s: header is not valid JSON (%s)" % (path, err))
    if not isinstance(header, dict):
        raise InspectError("%s: header is not a JSON object" % path)
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
        numel = 1
        for d in shape:
            numel *= d
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


def numel_of(shape):
    n = 1
    for d in shape:
        n *= d
    return n


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


def read_json_file(path):
    try:
        with open(path, "rb") as handle:
            value = json.loads(handle.read(4 * 1024 * 1024).decode("utf-8"))
        return value if isinstance(value, dict) else None
    except (OSError, ValueError, UnicodeDecodeError):
        return None


def describe(folder, rel, origin):
    """What the list shows about one checkpoint folder; problems instead of an exception."""
    entry = {
        "id": rel,
        "path": folder,
        "origin": origin,
        "kind": "full",
        "files": [],
        "index": None,
        "sizeBytes": 0,
        "tensorCount": 0,
        "parameterCount": 0,
        "dtypes": {},
        "mtime": 0,
        "hasConfig": os.path.isfile(os.path.join(folder, "config.json")),
        "configFiles": [
            n for n in CONFIG_FILES if os.path.isfile(os.path.join(folder, n)) and link_allowed(folder, os.path.join(folder, n))
        ],
        "adapter": None,
        "problems": [],
    }
    adapter_path = os.path.join(folder, "adapter_config.json")
    adapter = read_json_file(adapter_path) if link_allowed(folder, adapter_path) else None
    if adapter is not None:
        entry["kind"] = "lora"
        entry["configFiles"].insert(0, "adapter_config.json")
        targets = adapter.get("target_modules")
        entry["adapter"] = {
            "peftType": str(adapter.get("peft_type") or "LORA"),
            "rank": adapter.get("r") if isinstance(adapter.get("r"), int) else None,
            "alpha": adapter.get("lora_alpha") if isinstance(adapter.get("lora_alpha"), (int, float)) else None,
            "targetModules": sorted(targets) if isinstance(targets, list) else ([targets] if isinstance(targets, str) else []),
            "baseModel": adapter.get("base_model_name_or_path") if isinstance(adapter.get("base_model_name_or_path"), str) else None,
        }
    try:
        tensors, files, index = load_checkpoint(folder)
    except (InspectError, OSError) as err:
        entry["problems"].append(str(err))
        return entry
    entry["files"] = files
    entry["index"] = index
    mtime = 0.0
    for name in files + ([index] if index else []):
        try:
            st = os.stat(os.path.join(folder, name))
        except OSError:
            continue
        entry["sizeBytes"] += st.st_size
        mtime = max(mtime, st.st_mtime)
    entry["mtime"] = int(mtime * 1000)
    entry["tensorCount"] = len(tensors)
    for _path, dtype, shape, _begin, _nbytes in tensors.values():
        n = numel_of(shape)
        entry["parameterCount"] += n
        entry["dtypes"][dtype] = entry["dtypes"].get(dtype, 0) + n
    if not entry["hasConfig"] and entry["kind"] != "lora":
        entry["problems"].append("no config.json next to the weights")
    return entry


def is_checkpoint_dir(folder, names):
    has_weights = any(n.endswith(".safetensors") or n.endswith(".safetensors.index.json") for n in names)
    return has_weights and ("config.json" in names or "adapter_config.json" in names or any(n.endswith(".safetensors.index.json") for n in names))


def find(run_dir, hf_caches, base_model):
    run_dir = os.path.abspath(run_dir)
    workspace = os.path.join(run_dir, "workspace")
    out = {"version": INSPECT_VERSION, "runDir": run_dir, "checkpoints": [], "problems": [], "base": None}
    if not os.path.isdir(workspace):
        out["problems"].append("%s does not exist" % workspace)
    else:
        walked = 0
        for root, dirs, names in os.walk(workspace, followlinks=False):
            walked += 1
            if walked > MAX_WALK_DIRS:
                out["problems"].append("stopped looking after %d folders under %s" % (MAX_WALK_DIRS, workspace))
                break
            depth = root[len(workspace) :].count(os.sep)
            dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and depth < MAX_DEPTH)
            if is_checkpoint_dir(root, names):
                rel = os.path.relpath(root, run_dir).replace(os.sep, "/")
                out["checkpoints"].append(describe(root, rel, "run"))
    if base_model:
        snapshot, tried = resolve_base(base_model, hf_caches)
        if snapshot:
            out["base"] = describe(snapshot, "base", "hf-cache")
            out["base"]["label"] = base_model
        else:
            out["problems"].append("the base model %s is not in the HF cache (looked in %s)" % (base_model, ", ".join(tried) or "nowhere"))
    return out


def resolve_base(model, caches):
    """The snapshot folder of `model` (ORG/NAME) in a Hugging Face cache: refs/main, else the newest snapshot."""
    tried = []
    folder_name = "models--" + model.replace("/", "--")
    for cache in caches:
        cache = os.path.expanduser(cache)
        for candidate in (os.path.join(cache, folder_name), os.path.join(cache, "hub", folder_name)):
            tried.append(candidate)
            snapshots = os.path.join(candidate, "snapshots")
            if not os.path.isdir(snapshots):
                continue
            rev = None
            try:
                with open(os.path.join(candidate, "refs", "main")) as handle:
                    rev = handle.read().strip()
            except OSError:
                pass
            if rev and re.match(r"^[0-9a-f]{7,64}$", rev) and os.path.isdir(os.path.join(snapshots, rev)):
                return os.path.join(snapshots, rev), tried
            revs = [os.path.join(snapshots, r) for r in os.listdir(snapshots)]
            revs = [r for r in revs if os.path.isdir(r)]
            if revs:
                return max(revs, key=os.path.getmtime), tried
    return None, tried


# --- diff --------------------------------------------------------------------------------------------------------

_E4M3_LO = None
_E4M3_HI = None


def _e4m3_tables():
    """float8 e4m3fn → float16 bits, as two bytes.translate tables (low byte, high byte)."""
    global _E4M3_LO, _E4M3_HI
    if _E4M3_LO is None:
        lo = bytearray(256)
        hi = bytearray(256)
        for code in range(256):
            sign = -1.0 if code & 0x80 else 1.0
            exp = (code >> 3) & 0xF
            man = code & 0x7
            if exp == 0xF and man == 0x7:
                value = float("nan")
            elif exp == 0:
                value = sign * (man / 8.0) * 2.0 ** -6
            else:
                value = sign * (1 + man / 8.0) * 2.0 ** (exp - 7)
            bits = struct.pack("<e", value)
            lo[code] = bits[0]
            hi[code] = bits[1]
        _E4M3_LO, _E4M3_HI = bytes(lo), bytes(hi)
    return _E4M3_LO, _E4M3_HI


def decode(buf, dtype):
    """Little-endian tensor bytes → a tuple of Python numbers, decoded in C. A tuple, not a list: math.dist and
    math.hypot take a tuple as it is and would copy a list (measured: 7 against 22 ns per element)."""
    if dtype == "BF16":
        # bf16 is the high half of a float32: interleave two zero bytes below each value.
        n = len(buf) // 2
        wide = bytearray(4 * n)
        wide[2::4] = buf[0::2]
        wide[3::4] = buf[1::2]
        return tuple(memoryview(wide).cast("f").tolist()) if LITTLE_ENDIAN else struct.unpack("<%df" % n, wide)
    if dtype == "F32" and LITTLE_ENDIAN:
        return tuple(memoryview(buf).cast("f").tolist())
    if dtype == "F8_E5M2":
        # e5m2 is the high byte of a float16.
        wide = bytearray(2 * len(buf))
        wide[1::2] = buf
        return struct.unpack("<%de" % len(buf), wide)
    if dtype == "F8_E4M3":
        lo, hi = _e4m3_tables()
        wide = bytearray(2 * len(buf))
        wide[0::2] = buf.translate(lo)
        wide[1::2] = buf.translate(hi)
        return struct.unpack("<%de" % len(buf), wide)
    code = STRUCT_CODE.get(dtype)
    if code is None:
        raise InspectError("dtype %s is not supported by the diff" % dtype)
    n = len(buf) // DTYPE_BYTES[dtype]
    return struct.unpack("<%d%s" % (n, code), buf)


_ZEROS = {}


def norm(values):
    """‖values‖₂, accurately, in C: math.dist against a cached zero vector (math.hypot(*list) would copy it)."""
    n = len(values)
    if n == 0:
        return 0.0
    zeros = _ZEROS.get(n)
    if zeros is None:
        if len(_ZEROS) > 8:
            _ZEROS.clear()
        zeros = _ZEROS[n] = (0.0,) * n
    return math.dist(values, zeros)


def square(x):
    """x², inf past the float range (`x ** 2` raises OverflowError there, as a huge F64 tensor would)."""
    return x * x


BITS_FORMAT = {1: "B", 2: "H", 4: "I", 8: "Q"}


def count_changed(ba, bb, width):
    """How many elements of two equal-length chunks differ, bit for bit (NaN equal to itself, -0 unequal to 0)."""
    fmt = BITS_FORMAT[width]
    return sum(map(operator.ne, memoryview(ba).cast(fmt), memoryview(bb).cast(fmt)))


def compare_range(task):
    """One unit of work: a byte range of one tensor in both files, with the task's engine.

    Returns (same, a2, b2, d2, max_abs, changed): whether the bytes are identical, the sums of squares of A, B and
    A-B, max |A-B| (NaN differences left out), and how many elements differ. Identical chunks cost a memcmp; a range that is identical throughout
    returns zeros (the caller asks for ‖A‖² in mode `norm` only when another range of the tensor changed)."""
    if task[7] == "numpy":
        return compare_range_numpy(task)
    return compare_range_python(task)


def compare_range_python(task):
    """compare_range in the standard library: decoded in C, one Python float per element."""
    path_a, off_a, path_b, off_b, nbytes, dtype, mode, _engine = task
    width = DTYPE_BYTES[dtype]
    step = CHUNK_ELEMENTS * width
    same = True
    a2 = []
    b2 = []
    d2 = []
    max_abs = 0.0
    changed = 0
    skipped = []
    with open(path_a, "rb") as fa, open(path_b, "rb") as fb:
        fa.seek(off_a)
        fb.seek(off_b)
        left = nbytes
        position = 0
        while left > 0:
            take = min(step, left)
            ba = fa.read(take)
            bb = fb.read(take) if mode == "compare" else ba
            if len(ba) != take or len(bb) != take:
                raise InspectError("%s or %s ended early (wanted %d bytes at offset %d)" % (path_a, path_b, take, off_a + position))
            left -= take
            position += take
            if mode == "norm":
                a2.append(square(norm(decode(ba, dtype))))
                continue
            if ba == bb:
                skipped.append((position - take, take))
                continue
            same = False
            changed += count_changed(ba, bb, width)
            va = decode(ba, dtype)
            vb = decode(bb, dtype)
            a2.append(square(norm(va)))
            b2.append(square(norm(vb)))
            d2.append(square(math.dist(va, vb)))
            # The one pass that makes a float per element; the rest stays in C.
            chunk_max = max(map(abs, map(operator.sub, va, vb)))
            if not math.isfinite(d2[-1]):
                # max() over NaNs depends on their order: leave them out, as the numpy engine does.
                chunk_max = max((x for x in map(abs, map(operator.sub, va, vb)) if x == x), default=0.0)
            max_abs = max(max_abs, chunk_max)
        if mode == "compare" and not same:
            # The identical chunks of a changed range still count towards ‖A‖ and ‖B‖.
            for start, take in skipped:
                fa.seek(off_a + start)
                n = square(norm(decode(fa.read(take), dtype)))
                a2.append(n)
                b2.append(n)
    if mode == "norm":
        total = math.fsum(a2)
        return True, total, total, 0.0, 0.0, 0
    return same, math.fsum(a2), math.fsum(b2), math.fsum(d2), max_abs, changed


# --- the numpy engine ----------------------------------------------------------------------------------------------

_np = None
# numpy's little-endian dtype per safetensors dtype that converts to float64 as it is.
NUMPY_DTYPE = {
    "F64": "<f8",
    "F32": "<f4",
    "F16": "<f2",
    "I64": "<i8",
    "I32": "<i4",
    "I16": "<i2",
    "I8": "i1",
    "U64": "<u8",
    "U32": "<u4",
    "U16": "<u2",
    "U8": "u1",
}
# Elements of float math at a time: three float64 blocks (A, B, A-B) stay in a core's L2 cache.
NUMPY_BLOCK = 1 << 17
# The reduction once chosen (see sumsq): np.dot or np.einsum, whichever is faster with this numpy.
_SUMSQ = None
_SCRATCH = {}
_F8_LUT = {}


def load_numpy():
    """numpy, imported with its BLAS held to one thread: the diff already runs one process per core, and a threaded
    BLAS in a forked worker can hang. Raises ImportError (or whatever a broken install raises) when it cannot."""
    global _np
    if _np is None:
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = "1"
        import numpy

        _np = numpy
    return _np


def choose_engine(requested):
    """(engine, numpy version or None, why not numpy or None) for --engine auto|numpy|python."""
    if requested == "python":
        return "python", None, None
    why = None
    if not LITTLE_ENDIAN:
        why = "this host is big-endian; the numpy engine reads little-endian buffers in place"
    else:
        try:
            np = load_numpy()
            sumsq()
            return "numpy", str(np.__version__), None
        except Exception as err:  # ImportError, or a broken install's own error
            why = "numpy cannot be imported by %s (%s)" % (sys.executable, err)
    if requested == "numpy":
        raise InspectError("--engine numpy: " + why)
    return "python", None, why


def sumsq():
    """Σx² of a float64 block: np.dot where the BLAS behind it is fast, else np.einsum (Debian's numpy links the
    reference BLAS, whose ddot is twice as slow as einsum). Timed once on a block of the real size, before the
    workers fork, so every process sums the same way."""
    global _SUMSQ
    if _SUMSQ is None:
        np = _np
        x = np.linspace(-1.0, 1.0, NUMPY_BLOCK)
        candidates = [
            lambda v: float(np.dot(v, v)),
            lambda v: float(np.einsum("i,i->", v, v)),
        ]
        best = None
        for f in candidates:
            f(x)
            t0 = time.perf_counter()
            for _ in range(3):
                f(x)
            took = time.perf_counter() - t0
            if best is None or took < best[0]:
                best = (took, f)
        _SUMSQ = best[1]
    return _SUMSQ


def f8_lut(dtype):
    """The 256 values of a float8 code as float64, decoded exactly as the python engine does."""
    lut = _F8_LUT.get(dtype)
    if lut is None:
        lut = _np.array(decode(bytes(range(256)), dtype), dtype=_np.float64)
        _F8_LUT[dtype] = lut
    return lut


class Scratch:
    """Buffers one process reuses for every chunk of one element width: the raw bytes of a chunk of A and of B
    (read with readinto), and float64 blocks for A, B and A-B. At most ~2 × 8 MiB + 3.5 MiB per process."""

    def __init__(self, width):
        np = _np
        self.raw_a = bytearray(CHUNK_ELEMENTS * width)
        self.raw_b = bytearray(CHUNK_ELEMENTS * width)
        block = min(CHUNK_ELEMENTS, NUMPY_BLOCK)
        self.fa = np.empty(block, np.float64)
        self.fb = np.empty(block, np.float64)
        self.fd = np.empty(block, np.float64)
        self.u32 = np.empty(block, np.uint32)


def scratch(width):
    found = _SCRATCH.get(width)
    if found is None or len(found.raw_a) != CHUNK_ELEMENTS * width:
        if len(_SCRATCH) >= 2:
            _SCRATCH.clear()
        found = _SCRATCH[width] = Scratch(width)
    return found


def to_float64(np, s, raw, dtype, first, count, out):
    """Elements [first, first + count) of the chunk in `raw` into the float64 block `out` (exactly: every
    supported dtype but 64-bit integers past 2⁵³ is a subset of float64)."""
    out = out[:count]
    if dtype == "BF16":
        # bf16 is the high half of a float32.
        u32 = s.u32[:count]
        np.copyto(u32, np.frombuffer(raw, "<u2", count, first * 2))
        np.left_shift(u32, 16, out=u32)
        np.copyto(out, u32.view("<f4"))
    elif dtype in ("F8_E4M3", "F8_E5M2"):
        np.take(f8_lut(dtype), np.frombuffer(raw, "u1", count, first), out=out)
    elif dtype == "BOOL":
        np.copyto(out, np.frombuffer(raw, "u1", count, first) != 0)
    else:
        code = NUMPY_DTYPE.get(dtype)
        if code is None:
            raise InspectError("dtype %s is not supported by the diff" % dtype)
        np.copyto(out, np.frombuffer(raw, code, count, first * DTYPE_BYTES[dtype]), casting="unsafe")
    return out


def read_exact(handle, view, path, offset):
    got = 0
    while got < len(view):
        n = handle.readinto(view[got:])
        if not n:
            raise InspectError("%s ended early (wanted %d bytes at offset %d)" % (path, len(view), offset))
        got += n


def numpy_sums(s, dtype, nbytes, both):
    """(a2, b2, d2, max_abs) of the chunk in s.raw_a[:nbytes] (and s.raw_b when `both`), in float64 blocks."""
    np = _np
    f = sumsq()
    width = DTYPE_BYTES[dtype]
    count = nbytes // width
    block = len(s.fa)
    a2 = []
    b2 = []
    d2 = []
    max_abs = 0.0
    with np.errstate(all="ignore"):
        for first in range(0, count, block):
            n = min(block, count - first)
            fa = to_float64(np, s, s.raw_a, dtype, first, n, s.fa)
            a2.append(f(fa))
            if not both:
                continue
            fb = to_float64(np, s, s.raw_b, dtype, first, n, s.fb)
            b2.append(f(fb))
            fd = np.subtract(fa, fb, out=s.fd[:n])
            d2.append(f(fd))
            if dtype in ("I64", "U64"):
                # As exact as the python engine, whose integer differences are exact: from 32-bit halves.
                m = int64_max_abs(np, s, dtype, first, n)
            else:
                m = max(float(fd.max()), -float(fd.min()))
            if m != m:
                # NaN differences are left out (as the python engine does); all NaN counts as 0.
                m = float(np.fmax.reduce(np.abs(fd), initial=0.0))
                m = 0.0 if m != m else m
            max_abs = max(max_abs, m)
    return math.fsum(a2), math.fsum(b2), math.fsum(d2), max_abs


def int64_max_abs(np, s, dtype, first, count):
    """max |A-B| of 64-bit integers, rounded once: (hi_a - hi_b)·2³² + (lo_a - lo_b), each part exact in float64."""
    code = NUMPY_DTYPE[dtype]
    ia = np.frombuffer(s.raw_a, code, count, first * 8)
    ib = np.frombuffer(s.raw_b, code, count, first * 8)
    high = (ia >> 32).astype(np.float64) - (ib >> 32).astype(np.float64)
    low = (ia & 0xFFFFFFFF).astype(np.float64) - (ib & 0xFFFFFFFF).astype(np.float64)
    return float(np.abs(high * 4294967296.0 + low).max())


def compare_range_numpy(task):
    """compare_range with numpy: chunks read into reused buffers, compared with memcmp, changed ones converted
    exactly to float64 and reduced in blocks. The sums mean what the python engine's do."""
    path_a, off_a, path_b, off_b, nbytes, dtype, mode, _engine = task
    load_numpy()
    width = DTYPE_BYTES[dtype]
    s = scratch(width)
    step = len(s.raw_a)
    view_a = memoryview(s.raw_a)
    view_b = memoryview(s.raw_b)
    same = True
    a2 = []
    b2 = []
    d2 = []
    max_abs = 0.0
    changed = 0
    skipped = []
    with open(path_a, "rb", buffering=0) as fa, open(path_b, "rb", buffering=0) as fb:
        fa.seek(off_a)
        fb.seek(off_b)
        position = 0
        while position < nbytes:
            take = min(step, nbytes - position)
            read_exact(fa, view_a[:take], path_a, off_a + position)
            if mode == "norm":
                a2.append(numpy_sums(s, dtype, take, False)[0])
                position += take
                continue
            read_exact(fb, view_b[:take], path_b, off_b + position)
            # bytearray == bytearray is a memcmp; a short last chunk is compared as copies.
            identical = s.raw_a == s.raw_b if take == step else bytes(view_a[:take]) == bytes(view_b[:take])
            if identical:
                skipped.append((position, take))
                position += take
                continue
            same = False
            bits = "<u%d" % width
            changed += int(
                _np.count_nonzero(
                    _np.frombuffer(s.raw_a, bits, take // width) != _np.frombuffer(s.raw_b, bits, take // width)
                )
            )
            ca, cb, cd, cm = numpy_sums(s, dtype, take, True)
            a2.append(ca)
            b2.append(cb)
            d2.append(cd)
            max_abs = max(max_abs, cm)
            position += take
        if mode == "compare" and not same:
            # The identical chunks of a changed range still count towards ‖A‖ and ‖B‖.
            for start, take in skipped:
                fa.seek(off_a + start)
                read_exact(fa, view_a[:take], path_a, off_a + start)
                n = numpy_sums(s, dtype, take, False)[0]
                a2.append(n)
                b2.append(n)
    if mode == "norm":
        total = math.fsum(a2)
        return True, total, total, 0.0, 0.0, 0
    return same, math.fsum(a2), math.fsum(b2), math.fsum(d2), max_abs, changed


def plan_tasks(tensor_a, tensor_b, mode, engine):
    path_a, dtype, _shape, begin_a, nbytes = tensor_a
    path_b, _dtype_b, _shape_b, begin_b, _nbytes_b = tensor_b
    tasks = []
    width = DTYPE_BYTES[dtype]
    per_task = max(width, TASK_BYTES - TASK_BYTES % width)
    offset = 0
    while offset < nbytes or (offset == 0 and nbytes == 0):
        take = min(per_task, nbytes - offset)
        tasks.append((path_a, begin_a + offset, path_b, begin_b + offset, take, dtype, mode, engine))
        offset += take
        if nbytes == 0:
            break
    return tasks


def changed_record(record, parts, identical_norms):
    """The tensor line of a changed tensor from its ranges' results (and ‖A‖² of its identical ranges)."""
    a2 = math.fsum([r[1] for _i, r in parts if not r[0]] + identical_norms)
    b2 = math.fsum([r[2] for _i, r in parts if not r[0]] + identical_norms)
    d2 = math.fsum(r[3] for _i, r in parts)
    max_abs = max(r[4] for _i, r in parts)
    changed = sum(r[5] for _i, r in parts)
    record.update({"same": False, "a2": finite(a2), "b2": finite(b2), "d2": finite(d2), "maxAbs": finite(max_abs),
                   "changedElements": changed})
    if not all(finite(x) is not None for x in (a2, b2, d2, max_abs)):
        record["nonFinite"] = True
    return record


def finite(x):
    return x if isinstance(x, (int, float)) and math.isfinite(x) else None


class Emitter:
    def __init__(self, out):
        self.out = out
        self.last_progress = 0.0

    def emit(self, record):
        self.out.write(json.dumps(record, allow_nan=False, separators=(",", ":")) + "\n")
        self.out.flush()

    def progress(self, done, total, bytes_done, bytes_total, force=False):
        now = time.monotonic()
        if force or now - self.last_progress >= 0.25:
            self.last_progress = now
            self.emit({"type": "progress", "tensorsDone": done, "tensorsTotal": total, "bytesDone": bytes_done, "bytesTotal": bytes_total})


def run_tasks(tasks, jobs):
    """Runs compare_range over `tasks`, yielding (index, result) as each finishes."""
    if jobs <= 1 or len(tasks) <= 1:
        for i, task in enumerate(tasks):
            yield i, compare_range(task)
        return
    import concurrent.futures
    import multiprocessing

    try:
        context = multiprocessing.get_context("fork")
    except ValueError:
        context = None
    with concurrent.futures.ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        futures = {pool.submit(compare_range, task): i for i, task in enumerate(tasks)}
        for future in concurrent.futures.as_completed(futures):
            yield futures[future], future.result()


def diff(dir_a, dir_b, emitter, jobs, engine="python", numpy_version=None, engine_note=None):
    started = time.monotonic()
    tensors_a, files_a, _ = load_checkpoint(dir_a)
    tensors_b, files_b, _ = load_checkpoint(dir_b)
    names = sorted(set(tensors_a) | set(tensors_b))
    comparable = []
    records = {}
    for name in names:
        a = tensors_a.get(name)
        b = tensors_b.get(name)
        record = {
            "type": "tensor",
            "name": name,
            "dtypeA": a[1] if a else None,
            "dtypeB": b[1] if b else None,
            "shapeA": a[2] if a else None,
            "shapeB": b[2] if b else None,
        }
        if a and b and a[1] == b[1] and a[2] == b[2] and a[1] in DTYPE_BYTES and (a[1] in STRUCT_CODE or a[1] in ("BF16", "F8_E4M3", "F8_E5M2")):
            comparable.append(name)
        elif a and b:
            # A dtype the format does not define (or one this diff cannot decode) is that tensor's problem: never
            # reported as a dtype change when both sides say the same thing.
            unknown = [d for d in (a[1], b[1]) if d not in DTYPE_BYTES and d not in SUB_BYTE_DTYPES]
            if unknown:
                record["problem"] = "dtype %s is not one the safetensors format defines; not compared" % json.dumps(unknown[0])
            elif a[1] == b[1] and a[2] == b[2]:
                record["problem"] = "dtype %s is not supported by the diff; not compared" % a[1]
        records[name] = record
    bytes_total = sum(tensors_a[n][4] + tensors_b[n][4] for n in comparable)
    emitter.emit(
        {
            "type": "start",
            "version": INSPECT_VERSION,
            "tensors": len(names),
            "comparable": len(comparable),
            "bytesTotal": bytes_total,
            "filesA": files_a,
            "filesB": files_b,
            "jobs": jobs,
            "engine": engine,
            **({"numpyVersion": numpy_version} if numpy_version else {}),
            **({"engineNote": engine_note} if engine_note else {}),
        }
    )
    # Uncomparable tensors (added, removed, shape or dtype changed) go out first: they need no reading.
    done = 0
    for name in names:
        if name not in comparable:
            emitter.emit(records[name])
            done += 1
    tasks = []
    owner = []
    for name in comparable:
        for task in plan_tasks(tensors_a[name], tensors_b[name], "compare", engine):
            tasks.append(task)
            owner.append(name)
    left = {}
    for name in owner:
        left[name] = left.get(name, 0) + 1
    results = {name: [] for name in comparable}
    bytes_done = 0
    changed = []
    for index, result in run_tasks(tasks, jobs):
        name = owner[index]
        bytes_done += 2 * tasks[index][4]
        results[name].append((index, result))
        left[name] -= 1
        if left[name] == 0:
            parts = results.pop(name)
            if all(r[0] for _i, r in parts):
                record = records[name]
                record.update({"same": True, "a2": None, "b2": None, "d2": 0.0, "maxAbs": 0.0, "changedElements": 0})
                emitter.emit(record)
                done += 1
            elif not any(r[0] for _i, r in parts):
                emitter.emit(changed_record(records[name], parts, []))
                done += 1
            else:
                changed.append((name, parts))
        emitter.progress(done, len(names), bytes_done, bytes_total)
    # ‖A‖ over the identical ranges of changed tensors (needed for the relative change).
    norm_tasks = []
    norm_owner = []
    for name, parts in changed:
        for index, result in parts:
            if result[0]:
                norm_tasks.append(tasks[index][:6] + ("norm", engine))
                norm_owner.append(name)
    extra = {}
    for index, result in run_tasks(norm_tasks, jobs):
        extra.setdefault(norm_owner[index], []).append(result[1])
    for name, parts in changed:
        emitter.emit(changed_record(records[name], parts, extra.get(name, [])))
        done += 1
        emitter.progress(done, len(names), bytes_done, bytes_total)
    emitter.progress(done, len(names), bytes_done, bytes_total, force=True)
    emitter.emit({"type": "done", "seconds": round(time.monotonic() - started, 3), "bytesRead": bytes_done})


def main(argv):
    parser = argparse.ArgumentParser(prog="ptw-inspect.py")
    sub = parser.add_subparsers(dest="command")
    p_find = sub.add_parser("find")
    p_find.add_argument("run_dir")
    p_find.add_argument("--hf-cache", action="append", default=[])
    p_find.add_argument("--base-model")
    p_diff = sub.add_parser("diff")
    p_diff.add_argument("a")
    p_diff.add_argument("b")
    p_diff.add_argument("--out")
    p_diff.add_argument("--jobs", type=int, default=0)
    p_diff.add_argument("--engine", choices=("auto", "numpy", "python"), default="auto")
    # For tests: small units of work, so a small tensor spans several (identical and changed ranges in one tensor).
    p_diff.add_argument("--task-bytes", type=int, default=0, help=argparse.SUPPRESS)
    p_diff.add_argument("--chunk-elements", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    global TASK_BYTES, CHUNK_ELEMENTS
    if getattr(args, "task_bytes", 0) > 0:
        TASK_BYTES = args.task_bytes
    if getattr(args, "chunk_elements", 0) > 0:
        CHUNK_ELEMENTS = args.chunk_elements
    if args.command == "find":
        try:
            result = find(args.run_dir, args.hf_cache, args.base_model)
        except InspectError as err:
            sys.stderr.write("%s\n" % err)
            return 1
        sys.stdout.write(json.dumps(result, allow_nan=False) + "\n")
        return 0
    if args.command == "diff":
        out = open(args.out, "a", encoding="utf-8") if args.out else sys.stdout
        emitter = Emitter(out)
        jobs = args.jobs if args.jobs > 0 else max(1, min(os.cpu_count() or 1, 16))
        try:
            engine, numpy_version, engine_note = choose_engine(args.engine)
        except InspectError as err:
            emitter.emit({"type": "error", "message": str(err)})
            if args.out:
                out.close()
            return 2
        try:
            diff(os.path.abspath(args.a), os.path.abspath(args.b), emitter, jobs, engine, numpy_version, engine_note)
        except (InspectError, OSError) as err:
            emitter.emit({"type": "error", "message": str(err)})
            return 1
        except Exception as err:  # the app must hear why, not wait for a line that never comes
            emitter.emit({"type": "error", "message": "internal error: %r" % (err,)})
            return 1
        finally:
            if args.out:
                out.close()
        return 0
    parser.print_usage(sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
