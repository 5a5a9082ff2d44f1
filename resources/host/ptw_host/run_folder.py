"""The run folder on the host (docs/run-folder.md): where its files are, and how the supervisor writes them.

state.json is replaced atomically (readers see the old or the new file, never half of one); record/events.jsonl is
appended, one JSON object a line, flushed and fsynced. Their shapes are declared once, in the app's
src/shared/runs/run-status.ts; test/host checks what this module writes against the JSON Schema made from it.
"""

import fcntl
import json
import os
import stat
import threading

from ptw_host.host_log import log, now_ms

SUPERVISOR_VERSION = 1
FINAL_STATUSES = ("scored", "evaluation-failed", "no-model", "failed")
STOP_REASONS = ("budget", "agent-exited", "user-stop", "killed", "model-problem")
STATUSES = ("starting", "running", "stopping", "evaluating") + FINAL_STATUSES
# Every event type the supervisor writes to record/events.jsonl.
EVENT_TYPES = (
    "supervisor-started",
    "agent-started",
    "warning",
    "resize",
    "intervention",
    "stopping",
    "agent-stopped",
    "gpu-sampling",
    "evaluation-started",
    "evaluation-attempt",
    "evaluation-finished",
    "model-endpoint-problem",
    "supervisor-error",
    "sandbox-sanitized",
    "integrity-pass",
    "integrity-flag",
    "integrity-final",
)


class RunLocked(Exception):
    """Another supervisor holds the run (its pid, as its pid file says, or "?")."""


def atomic_write(path, data):
    """Writes a temp file next to `path`, fsyncs it and renames it over `path`: readers see old or new."""
    directory = os.path.dirname(path)
    tmp = os.path.join(directory, ".%s.tmp-%d-%d" % (os.path.basename(path), os.getpid(), threading.get_ident()))
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.rename(tmp, path)


def json_bytes(value, indent=None):
    if indent is None:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    else:
        text = json.dumps(value, ensure_ascii=False, indent=indent)
    return (text + "\n").encode("utf-8")


def read_small_file(path, limit, follow_symlinks=False):
    """Reads a regular file of at most `limit` bytes; refuses symlinks unless asked (files written by others)."""
    flags = os.O_RDONLY | (0 if follow_symlinks else os.O_NOFOLLOW)
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError("not a regular file")
        if info.st_size > limit:
            raise ValueError("larger than %d bytes" % limit)
        chunks = []
        total = 0
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            total += len(chunk)
            if total > limit:
                raise ValueError("larger than %d bytes" % limit)
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


class RunPaths:
    def __init__(self, run_dir):
        self.root = os.path.abspath(run_dir)
        join = os.path.join
        self.run_json = join(self.root, "run.json")
        self.state = join(self.root, "state.json")
        self.record = join(self.root, "record")
        self.cast = join(self.record, "terminal.cast")
        self.agent_stream = join(self.record, "agent-stream.jsonl")
        self.gpu_csv = join(self.record, "gpu.csv")
        self.events = join(self.record, "events.jsonl")
        self.control = join(self.root, "control")
        self.eval = join(self.root, "eval")
        self.eval_out = join(self.eval, "out")
        self.eval_json = join(self.eval, "eval.json")
        self.metrics = join(self.eval, "metrics.json")
        self.ptw = join(self.root, "ptw")
        self.deadline = join(self.ptw, "deadline")
        self.workspace = join(self.root, "workspace")
        self.task = join(self.root, "task")
        self.supervisor_dir = join(self.root, ".supervisor")
        self.pid_file = join(self.supervisor_dir, "supervisor.pid")


class EventLog:
    """record/events.jsonl: one JSON object per line, appended, flushed and fsynced (events are rare)."""

    def __init__(self, path):
        self._file = open(path, "ab")
        self._lock = threading.Lock()

    def write(self, type_, **fields):
        record = {"t": now_ms(), "type": type_}
        record.update(fields)
        line = json_bytes(record)
        log("event %s" % line.decode("utf-8", "replace").rstrip())
        # Never raises: a full disk must not stop the budget from being enforced.
        try:
            with self._lock:
                self._file.write(line)
                self._file.flush()
                os.fsync(self._file.fileno())
        except Exception as err:
            log("could not append to events.jsonl: %s" % err)
        return record


class StateFile:
    """state.json, replaced atomically on every change and by the heartbeat."""

    def __init__(self, path, data):
        self._path = path
        self._lock = threading.RLock()
        self.data = data

    def update(self, **fields):
        with self._lock:
            self.data.update(fields)
            self._write()

    def update_evaluation(self, **fields):
        with self._lock:
            evaluation = dict(self.data.get("evaluation") or {})
            evaluation.update(fields)
            self.data["evaluation"] = evaluation
            self._write()

    def heartbeat(self):
        with self._lock:
            self._write()

    def get(self, key, default=None):
        with self._lock:
            return self.data.get(key, default)

    def _write(self):
        self.data["heartbeatAt"] = now_ms()
        # Never raises: a full disk must not stop the budget from being enforced.
        try:
            atomic_write(self._path, json_bytes(self.data, indent=2))
        except Exception as err:
            log("could not write state.json: %s" % err)


def initial_state(container_id):
    """state.json before anything happened (the keys src/shared/runs/run-status.ts declares)."""
    return {
        "status": "starting",
        "supervisorPid": os.getpid(),
        "supervisorVersion": SUPERVISOR_VERSION,
        "heartbeatAt": now_ms(),
        "agentContainerId": container_id,
        "startedAt": None,
        "deadline": None,
        "warningsSent": [],
        "stoppedAt": None,
        "stopReason": None,
        "exitCode": None,
        "evaluation": {"attempts": 0, "outcome": None, "metrics": None},
    }


def lock_run(paths):
    """One supervisor per run: an exclusive flock on .supervisor/supervisor.pid, held (and released when the
    process dies) through the returned fd. Raises RunLocked when another process holds it."""
    os.makedirs(paths.supervisor_dir, exist_ok=True)
    fd = os.open(paths.pid_file, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        other = os.read(fd, 32).decode("ascii", "replace").strip()
        os.close(fd)
        raise RunLocked(other or "?")
    os.ftruncate(fd, 0)
    os.write(fd, ("%d\n" % os.getpid()).encode("ascii"))
    return fd


def read_json_object(path, limit, follow_symlinks=False):
    """A JSON object from a small file (read_small_file); ValueError when it is not one."""
    value = json.loads(read_small_file(path, limit, follow_symlinks).decode("utf-8"))
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value
