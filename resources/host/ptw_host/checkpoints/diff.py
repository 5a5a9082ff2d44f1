"""`inspect diff`: per-tensor sums of two checkpoints, ranges spread over processes, one JSON line per result."""

import json
import math
import time

from ptw_host.checkpoints import work_size
from ptw_host.checkpoints.checkpoint_files import load_checkpoint
from ptw_host.checkpoints.engine_numpy import compare_range_numpy
from ptw_host.checkpoints.engine_python import STRUCT_CODE, compare_range_python
from ptw_host.checkpoints.find import INSPECT_VERSION
from ptw_host.safetensors import DTYPE_BYTES, SUB_BYTE_DTYPES


def compare_range(task):
    """One unit of work: a byte range of one tensor in both files, with the task's engine.

    Returns (same, a2, b2, d2, max_abs, changed): whether the bytes are identical, the sums of squares of A, B and
    A-B, max |A-B| (NaN differences left out), and how many elements differ. Identical chunks cost a memcmp; a range that is identical throughout
    returns zeros (the caller asks for ‖A‖² in mode `norm` only when another range of the tensor changed)."""
    if task[7] == "numpy":
        return compare_range_numpy(task)
    return compare_range_python(task)


def plan_tasks(tensor_a, tensor_b, mode, engine):
    path_a, dtype, _shape, begin_a, nbytes = tensor_a
    path_b, _dtype_b, _shape_b, begin_b, _nbytes_b = tensor_b
    tasks = []
    width = DTYPE_BYTES[dtype]
    per_task = max(width, work_size.TASK_BYTES - work_size.TASK_BYTES % width)
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
