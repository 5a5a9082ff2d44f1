"""GPU sampling: one `nvidia-smi --query-gpu` a second into record/gpu.csv, `<epoch ms>, <the CSV row>` per GPU.

One nvidia-smi per second rather than `-lms 1000`: a sample that hangs is killed on its own timeout and the next one
starts clean, each row gets our own timestamp, and a dead long-lived child needs no restart logic. All GPUs are
queried and the rows filtered by index here, so the command is the one fixed query the app's preflight runs
(src/shared/parsers/nvidia-smi.ts GPU_SAMPLE_QUERY).
"""

import shutil
import subprocess
import time

from ptw_host.host_log import now_ms

GPU_QUERY = "index,utilization.gpu,memory.used,memory.total,power.draw,temperature.gpu"
GPU_SAMPLE_SECONDS = 1.0
GPU_RETRY_SECONDS = 10.0
SAMPLE_TIMEOUT_SECONDS = 5


def sample_command(exe):
    return [exe, "--query-gpu=" + GPU_QUERY, "--format=csv,noheader,nounits"]


def gpu_rows(stdout_text, wanted, taken_ms):
    """nvidia-smi's CSV lines -> gpu.csv rows for the GPUs in `wanted` (index strings; empty: all)."""
    rows = []
    for line in stdout_text.splitlines():
        line = line.strip()
        if line and (not wanted or line.split(",", 1)[0].strip() in wanted):
            rows.append("%d, %s\n" % (taken_ms, line))
    return rows


def take_sample(wanted, which=shutil.which):
    """One sample: the gpu.csv rows. Raises FileNotFoundError when there is no nvidia-smi (nothing to retry), and
    RuntimeError or a subprocess error when this sample failed."""
    exe = which("nvidia-smi")
    if exe is None:
        raise FileNotFoundError("nvidia-smi is not on the supervisor's PATH")
    taken = now_ms()
    result = subprocess.run(
        sample_command(exe),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        timeout=SAMPLE_TIMEOUT_SECONDS,
    )
    if result.returncode != 0:
        said = (result.stdout + result.stderr).decode("utf-8", "replace").strip()
        raise RuntimeError("nvidia-smi exited with %d: %s" % (result.returncode, said[:500]))
    rows = gpu_rows(result.stdout.decode("utf-8", "replace"), wanted, taken)
    if not rows:
        raise RuntimeError("nvidia-smi listed no GPU with index %s" % ", ".join(sorted(wanted)))
    return rows


def sample_gpus(csv_path, gpu_indices, stop, report_event, on_error, which=shutil.which):
    """Samples until the `stop` Event is set. Every change between sampling and not is one gpu-sampling event,
    through report_event(type, **fields), which never raises; on_error(where, err) for a gpu.csv that cannot open."""
    available = None
    wanted = set(str(i) for i in gpu_indices)
    try:
        out = open(csv_path, "ab")
    except OSError as err:
        on_error("opening gpu.csv", err)
        return
    next_tick = time.monotonic()
    while not stop.is_set():
        try:
            out.write("".join(take_sample(wanted, which)).encode("utf-8"))
            out.flush()
            if available is not True:
                available = True
                report_event("gpu-sampling", available=True, error=None, gpuIndices=gpu_indices)
        except Exception as err:
            if available is not False:
                available = False
                report_event("gpu-sampling", available=False, error=str(err))
            if isinstance(err, FileNotFoundError):
                break  # no nvidia-smi on this host: nothing to retry
        interval = GPU_SAMPLE_SECONDS if available else GPU_RETRY_SECONDS
        next_tick += interval
        delay = next_tick - time.monotonic()
        if delay < 0:
            next_tick = time.monotonic()  # a slow sample: skip the missed ticks rather than burst
            delay = 0
        stop.wait(delay)
    out.close()
