"""The diff's numpy engine: chunks read with readinto into buffers each process reuses, converted exactly to float64
in cache-sized blocks and reduced with np.dot or np.einsum. Computes the sums the python engine does."""

import os
import sys
import time

from ptw_host.checkpoints import work_size
from ptw_host.checkpoints.checkpoint_files import InspectError
from ptw_host.checkpoints.engine_python import LITTLE_ENDIAN, decode
from ptw_host.checkpoints.range_sums import RangeSums
from ptw_host.safetensors import DTYPE_BYTES

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
        self.raw_a = bytearray(work_size.CHUNK_ELEMENTS * width)
        self.raw_b = bytearray(work_size.CHUNK_ELEMENTS * width)
        block = min(work_size.CHUNK_ELEMENTS, NUMPY_BLOCK)
        self.fa = np.empty(block, np.float64)
        self.fb = np.empty(block, np.float64)
        self.fd = np.empty(block, np.float64)
        self.u32 = np.empty(block, np.uint32)


def scratch(width):
    found = _SCRATCH.get(width)
    if found is None or len(found.raw_a) != work_size.CHUNK_ELEMENTS * width:
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
    sums = RangeSums()
    with np.errstate(all="ignore"):
        for first in range(0, count, block):
            n = min(block, count - first)
            fa = to_float64(np, s, s.raw_a, dtype, first, n, s.fa)
            sums.a2.append(f(fa))
            if not both:
                continue
            fb = to_float64(np, s, s.raw_b, dtype, first, n, s.fb)
            sums.b2.append(f(fb))
            fd = np.subtract(fa, fb, out=s.fd[:n])
            sums.d2.append(f(fd))
            if dtype in ("I64", "U64"):
                # As exact as the python engine, whose integer differences are exact: from 32-bit halves.
                m = int64_max_abs(np, s, dtype, first, n)
            else:
                m = max(float(fd.max()), -float(fd.min()))
            if m != m:
                # NaN differences are left out (as the python engine does); all NaN counts as 0.
                m = float(np.fmax.reduce(np.abs(fd), initial=0.0))
                m = 0.0 if m != m else m
            sums.max_abs = max(sums.max_abs, m)
    return sums.result("compare")[1:5]


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
    sums = RangeSums()
    with open(path_a, "rb", buffering=0) as fa, open(path_b, "rb", buffering=0) as fb:
        fa.seek(off_a)
        fb.seek(off_b)
        position = 0
        while position < nbytes:
            take = min(step, nbytes - position)
            read_exact(fa, view_a[:take], path_a, off_a + position)
            if mode == "norm":
                sums.a2.append(numpy_sums(s, dtype, take, False)[0])
                position += take
                continue
            read_exact(fb, view_b[:take], path_b, off_b + position)
            # bytearray == bytearray is a memcmp; a short last chunk is compared as copies.
            identical = s.raw_a == s.raw_b if take == step else bytes(view_a[:take]) == bytes(view_b[:take])
            if identical:
                sums.skipped.append((position, take))
                position += take
                continue
            sums.same = False
            bits = "<u%d" % width
            sums.changed += int(
                _np.count_nonzero(
                    _np.frombuffer(s.raw_a, bits, take // width) != _np.frombuffer(s.raw_b, bits, take // width)
                )
            )
            ca, cb, cd, cm = numpy_sums(s, dtype, take, True)
            sums.a2.append(ca)
            sums.b2.append(cb)
            sums.d2.append(cd)
            sums.max_abs = max(sums.max_abs, cm)
            position += take
        if mode == "compare" and not sums.same:
            # The identical chunks of a changed range still count towards ‖A‖ and ‖B‖.
            for start, take in sums.skipped:
                fa.seek(off_a + start)
                read_exact(fa, view_a[:take], path_a, off_a + start)
                sums.add_identical(numpy_sums(s, dtype, take, False)[0])
    return sums.result(mode)
