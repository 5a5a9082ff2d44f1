#!/usr/bin/env python3
"""PostTrain Workbench host supervisor.

Runs detached on the GPU host, next to one run folder, and does everything the run needs without the app:
starts the agent container, records its terminal, enforces the time budget, applies the app's control
requests, samples the GPUs, removes the agent container and runs the evaluation. The contract (folder layout,
run.json, state.json, events, control requests) is docs/run-folder.md in the app's repository.

Python 3.8+ standard library only: GPU hosts have python3 and nothing may be installed on them.

    setsid python3 .supervisor/ptw-supervisor.py --run-dir DIR --docker-socket SOCK --agent-container ID \\
        < /dev/null >> record/supervisor.log 2>&1 &

Exit status: 0 when the run reached a final state (scored, evaluation-failed, no-model) or the supervisor was
told to stop by SIGTERM/SIGINT; 1 when the agent could not be started (state.json says failed) or on an
internal error; 2 for bad arguments or a run folder it must not touch; 3 when another supervisor holds the run.

It never prints or records a container's environment (the agent's API key is there).
"""

import argparse
import calendar
import codecs
import errno
import fcntl
import http.client
import json
import math
import os
import queue
import re
import select
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import threading
import time
import traceback
import urllib.parse

SUPERVISOR_VERSION = 1
# Docker 20.10 speaks 1.41; newer daemons serve it unchanged. Docker 29 refuses anything below 1.44, so the
# version is negotiated from GET /version (see Docker.negotiate).
PREFERRED_API_VERSION = "1.41"
# DeviceRequests (GPUs) need 1.40.
OLDEST_API_VERSION = "1.40"

TICK_SECONDS = 0.1  # main loop: the deadline is checked this often (accuracy well inside 1 s)
CONTROL_POLL_SECONDS = 0.25
HEARTBEAT_SECONDS = 5.0
GPU_SAMPLE_SECONDS = 1.0
GPU_RETRY_SECONDS = 10.0
# Reads are coalesced into one cast event while more comes within CAST_COALESCE_SECONDS of the last (short: it is
# latency every live viewer sees), for at most CAST_COALESCE_MAX_SECONDS.
CAST_COALESCE_SECONDS = 0.005
CAST_COALESCE_MAX_SECONDS = 0.02
CAST_FSYNC_SECONDS = 1.0
CAST_MAX_BATCH = 256 * 1024
KILL_RETRY_SECONDS = 5.0
EVAL_POLL_SECONDS = 0.5
MAX_JSON_LINE = 32 * 1024 * 1024
MAX_CONTROL_FILE = 64 * 1024
MAX_METRICS_FILE = 16 * 1024 * 1024

GPU_QUERY = "index,utilization.gpu,memory.used,memory.total,power.draw,temperature.gpu"
FINAL_STATUSES = ("scored", "evaluation-failed", "no-model", "failed")
STOP_REASONS = ("budget", "agent-exited", "user-stop", "killed")
# The uid/gid a run's containers get when the supervisor is root (src/main/runs/sandbox-policy.ts): never root.
SANDBOX_ROOTLESS_ID = 61000
EVALUATION_PIDS_LIMIT = 4096
# How many paths a sandbox-sanitized event names (the count is always whole).
SANITIZE_REPORT_LIMIT = 50


def default_sandbox_user():
    """The supervisor's own uid:gid when it is not root, else SANDBOX_ROOTLESS_ID (what the launcher picks)."""
    uid, gid = os.geteuid(), os.getegid()
    if uid > 0 and gid > 0:
        return "%d:%d" % (uid, gid)
    return "%d:%d" % (SANDBOX_ROOTLESS_ID, SANDBOX_ROOTLESS_ID)


def parse_user(user):
    """`uid:gid` -> (uid, gid); a name or anything else -> None (only numeric ids are ever planned)."""
    match = re.match(r"^(\d{1,10}):(\d{1,10})$", user or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


def sanitize_tree(root, report_limit=SANITIZE_REPORT_LIMIT):
    """
    The last line behind the sandbox (docs/run-folder.md, "The sandbox and the host"): clears setuid and setgid bits
    and removes device nodes under `root`, never following a link. The agent runs unprivileged with no capability, so
    it can neither make a device nor a setuid file of anyone but itself; this catches what an older sandbox or an
    image's own files left. Returns {"cleared": [...], "removed": [...], "count": n, "errors": [...]}.
    """
    report = {"cleared": [], "removed": [], "count": 0, "errors": []}

    def note(kind, path):
        report["count"] += 1
        if len(report[kind]) < report_limit:
            report[kind].append(os.path.relpath(path, root))

    def visit(path, info):
        mode = info.st_mode
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
            os.unlink(path)
            note("removed", path)
        elif (stat.S_ISREG(mode) or stat.S_ISDIR(mode)) and mode & (stat.S_ISUID | stat.S_ISGID):
            os.chmod(path, stat.S_IMODE(mode) & ~(stat.S_ISUID | stat.S_ISGID))
            note("cleared", path)

    def on_error(err):
        if len(report["errors"]) < report_limit:
            report["errors"].append(str(err))

    if not os.path.isdir(root) or os.path.islink(root):
        return report
    try:
        visit(root, os.lstat(root))
    except OSError as err:
        on_error(err)
    for dirpath, dirnames, filenames in os.walk(root, onerror=on_error):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            try:
                visit(path, os.lstat(path))
            except OSError as err:
                on_error(err)
    return report


def now_ms():
    return int(time.time() * 1000)


def log(message):
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
    sys.stderr.write("%s ptw-supervisor[%d] %s\n" % (stamp, os.getpid(), message))
    sys.stderr.flush()


def iso_utc(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms / 1000.0))


def api_version_tuple(version):
    try:
        return tuple(int(part) for part in str(version).split("."))
    except ValueError:
        return (0,)


DOCKER_TIME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z$")


def parse_docker_time(value):
    """Docker's RFC 3339 UTC times carry nanoseconds ("2026-11-23T12:00:00.123456789Z"); returns epoch ms."""
    match = DOCKER_TIME.match(value) if isinstance(value, str) else None
    if match is None or value.startswith("0001-"):
        return None
    seconds = calendar.timegm(time.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S"))
    return seconds * 1000 + int(((match.group(2) or "") + "000")[:3])


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


def human_seconds(seconds):
    seconds = int(seconds)
    if seconds >= 3600 and seconds % 3600 == 0:
        return "%d h" % (seconds // 3600)
    if seconds >= 60 and seconds % 60 == 0:
        return "%d min" % (seconds // 60)
    return "%d s" % seconds


def warning_text(seconds_left, deadline_ms):
    # CR LF around it so it stands on its own line even when the agent is mid-line or its TTY is raw.
    return "\r\n[ptw] %s left in the time budget: the run stops at %s UTC. Leave your best model in final_model/.\r\n" % (
        human_seconds(seconds_left),
        time.strftime("%H:%M:%S", time.gmtime(deadline_ms / 1000.0)),
    )


def is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


class Shutdown(Exception):
    """SIGTERM/SIGINT reached the supervisor: the host is going down. Leave the containers as they are."""


class ConfigError(Exception):
    pass


# --------------------------------------------------------------------------------------------------------------
# Docker Engine API over the unix socket


class DockerError(Exception):
    def __init__(self, status, message):
        Exception.__init__(self, "Docker API %s: %s" % (status, message))
        self.status = status
        self.message = message


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, socket_path, timeout):
        http.client.HTTPConnection.__init__(self, "localhost", timeout=timeout)
        self._socket_path = socket_path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self._socket_path)
        self.sock = sock


def _error_message(raw):
    try:
        parsed = json.loads(raw.decode("utf-8", "replace"))
        if isinstance(parsed, dict) and isinstance(parsed.get("message"), str):
            return parsed["message"]
    except ValueError:
        pass
    return raw.decode("utf-8", "replace").strip()[:500]


class Docker:
    """The few Engine API calls the supervisor needs. One connection per call, so threads never share one."""

    def __init__(self, socket_path, api_version=None):
        self.socket_path = socket_path
        self.api_version = api_version or PREFERRED_API_VERSION
        self._pinned = api_version is not None

    def negotiate(self):
        if self._pinned:
            return self.api_version
        try:
            status, info = self._request("GET", "/version", versioned=False, timeout=10.0)
        except (OSError, DockerError) as err:
            log("GET /version failed (%s); using API %s" % (err, self.api_version))
            return self.api_version
        server_max = info.get("ApiVersion") if isinstance(info, dict) else None
        server_min = info.get("MinAPIVersion") if isinstance(info, dict) else None
        chosen = PREFERRED_API_VERSION
        if server_min and api_version_tuple(server_min) > api_version_tuple(chosen):
            chosen = server_min
        if server_max and api_version_tuple(server_max) < api_version_tuple(chosen):
            chosen = server_max
        if api_version_tuple(chosen) < api_version_tuple(OLDEST_API_VERSION):
            raise DockerError(0, "Docker on this host speaks API %s; the supervisor needs %s or newer" % (chosen, OLDEST_API_VERSION))
        self.api_version = chosen
        return chosen

    def _path(self, path, query, versioned=True):
        full = ("/v%s%s" % (self.api_version, path)) if versioned else path
        if query:
            full += "?" + urllib.parse.urlencode(query)
        return full

    def _request(self, method, path, query=None, body=None, timeout=30.0, versioned=True):
        conn = UnixHTTPConnection(self.socket_path, timeout)
        try:
            headers = {}
            data = None
            if body is not None:
                data = json.dumps(body).encode("utf-8")
                headers["Content-Type"] = "application/json"
            conn.request(method, self._path(path, query, versioned), body=data, headers=headers)
            response = conn.getresponse()
            # http.client undoes chunked transfer encoding here.
            raw = response.read()
            status = response.status
        finally:
            conn.close()
        if status >= 400:
            raise DockerError(status, _error_message(raw))
        if not raw:
            return status, None
        try:
            return status, json.loads(raw.decode("utf-8"))
        except ValueError:
            return status, raw

    def stream(self, method, path, query=None, timeout=None):
        """A request whose body is read as it arrives (logs?follow=1). Caller closes the connection."""
        conn = UnixHTTPConnection(self.socket_path, timeout)
        conn.request(method, self._path(path, query))
        response = conn.getresponse()
        if response.status >= 400:
            raw = response.read()
            conn.close()
            raise DockerError(response.status, _error_message(raw))
        return conn, response

    def attach(self, container_id, logs=False, timeout=15.0):
        """Hijacks POST /attach: returns the raw socket and any stream bytes read past the response head."""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(self.socket_path)
            query = {"stream": 1, "stdout": 1, "stderr": 1, "logs": 1 if logs else 0}
            request = (
                "POST %s HTTP/1.1\r\nHost: docker\r\nUpgrade: tcp\r\nConnection: Upgrade\r\n"
                "Content-Length: 0\r\n\r\n" % self._path("/containers/%s/attach" % quote(container_id), query)
            )
            sock.sendall(request.encode("ascii"))
            buf = b""
            while b"\r\n\r\n" not in buf:
                chunk = sock.recv(4096)
                if not chunk:
                    raise DockerError(0, "attach: the daemon closed the connection")
                buf += chunk
                if len(buf) > 65536:
                    raise DockerError(0, "attach: response head too long")
            head, rest = buf.split(b"\r\n\r\n", 1)
            status_line = head.split(b"\r\n", 1)[0].split(b" ", 2)
            status = int(status_line[1]) if len(status_line) > 1 and status_line[1].isdigit() else 0
            if status not in (101, 200):
                raise DockerError(status, _error_message(rest))
            sock.settimeout(None)
            return sock, rest
        except Exception:
            sock.close()
            raise

    def inspect(self, container_id):
        """The container's inspect document, or None when it does not exist. Callers must not log it (Env)."""
        try:
            return self._request("GET", "/containers/%s/json" % quote(container_id))[1]
        except DockerError as err:
            if err.status == 404:
                return None
            raise

    def start(self, container_id):
        self._request("POST", "/containers/%s/start" % quote(container_id), timeout=60.0)

    def kill(self, container_id, sig):
        """Sends `sig`; a container that is no longer running (409) or gone (404) is not an error."""
        try:
            self._request("POST", "/containers/%s/kill" % quote(container_id), {"signal": sig})
            return True
        except DockerError as err:
            if err.status in (404, 409):
                return False
            raise

    def wait(self, container_id, condition="not-running", timeout=None):
        _, result = self._request(
            "POST", "/containers/%s/wait" % quote(container_id), {"condition": condition}, timeout=timeout
        )
        if isinstance(result, dict) and isinstance(result.get("StatusCode"), int):
            return result["StatusCode"]
        return None

    def resize(self, container_id, cols, rows):
        self._request("POST", "/containers/%s/resize" % quote(container_id), {"h": rows, "w": cols})

    def remove(self, container_id):
        try:
            self._request("DELETE", "/containers/%s" % quote(container_id), {"force": 1, "v": 1}, timeout=60.0)
            return True
        except DockerError as err:
            if err.status == 404:
                return False
            raise

    def create(self, body):
        _, result = self._request("POST", "/containers/create", body=body, timeout=60.0)
        return result["Id"]

    def list_containers(self, labels):
        query = {"all": 1, "filters": json.dumps({"label": labels})}
        return self._request("GET", "/containers/json", query)[1] or []

    def exec_run(self, container_id, argv, user=None, timeout=10.0):
        """Runs `argv` in the container, detached, and returns its exit code (None if it did not finish)."""
        body = {"Cmd": argv, "AttachStdin": False, "AttachStdout": False, "AttachStderr": False, "Tty": False}
        if user is not None:
            body["User"] = user
        _, created = self._request("POST", "/containers/%s/exec" % quote(container_id), body=body)
        exec_id = created["Id"]
        self._request("POST", "/exec/%s/start" % quote(exec_id), body={"Detach": True, "Tty": False})
        give_up = time.monotonic() + timeout
        while time.monotonic() < give_up:
            _, info = self._request("GET", "/exec/%s/json" % quote(exec_id))
            if not info.get("Running") and info.get("ExitCode") is not None:
                return info["ExitCode"]
            time.sleep(0.05)
        return None


def quote(value):
    return urllib.parse.quote(str(value), safe="")


class StreamDemuxer:
    """Docker's multiplexed stream (TTY off): 8-byte headers [stream, 0, 0, 0, size uint32 BE] then payload."""

    def __init__(self):
        self._buf = bytearray()

    def feed(self, data):
        """Returns the complete frames so far as [(stream, payload)]: 1 stdout, 2 stderr."""
        self._buf += data
        frames = []
        while len(self._buf) >= 8:
            size = struct.unpack(">I", bytes(self._buf[4:8]))[0]
            if len(self._buf) < 8 + size:
                break
            frames.append((self._buf[0], bytes(self._buf[8 : 8 + size])))
            del self._buf[: 8 + size]
        return frames


def read_exact(response, size):
    chunks = []
    while size > 0:
        chunk = response.read(size)
        if not chunk:
            break
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


# --------------------------------------------------------------------------------------------------------------
# Run folder files


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


def metrics_summary(metrics):
    """The flat numeric fields of metrics.json (accuracy, stderr, ...); nested breakdowns stay in the file."""
    return dict((key, value) for key, value in metrics.items() if is_number(value))


class SupervisorConfig:
    def __init__(self, run, container_arg):
        if not isinstance(run, dict):
            raise ConfigError("run.json is not a JSON object")
        sup = run.get("supervisor")
        if not isinstance(sup, dict):
            raise ConfigError("run.json has no supervisor section")
        self.run_id = run.get("id") if isinstance(run.get("id"), str) else None
        self.container_id = container_arg or sup.get("agentContainerId")
        if not isinstance(self.container_id, str) or not self.container_id:
            raise ConfigError("no agent container: pass --agent-container or set supervisor.agentContainerId")
        self.budget_seconds = sup.get("budgetSeconds")
        if not is_number(self.budget_seconds) or self.budget_seconds <= 0:
            raise ConfigError("supervisor.budgetSeconds must be a positive number")
        self.grace_seconds = sup.get("graceSeconds", 30)
        if not is_number(self.grace_seconds) or self.grace_seconds < 0:
            raise ConfigError("supervisor.graceSeconds must be a number >= 0")
        warn = sup.get("warnSecondsBefore", [])
        if not isinstance(warn, list) or not all(is_number(w) and w > 0 for w in warn):
            raise ConfigError("supervisor.warnSecondsBefore must be a list of positive numbers")
        self.warn_seconds = sorted(set(warn), reverse=True)
        indices = sup.get("gpuIndices", [])
        if not isinstance(indices, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in indices):
            raise ConfigError("supervisor.gpuIndices must be a list of integers")
        self.gpu_indices = indices
        self.sample_gpus = sup.get("sampleGpus", False) is True
        tty = sup.get("tty") or {}
        cols, rows = tty.get("cols", 80), tty.get("rows", 24)
        if not (isinstance(cols, int) and isinstance(rows, int) and 0 < cols <= 10000 and 0 < rows <= 10000):
            raise ConfigError("supervisor.tty must be {cols, rows} with positive integers")
        self.cols, self.rows = cols, rows
        evaluation = sup.get("evaluation")
        self.evaluation = None
        self.evaluation_error = None
        if evaluation is not None:
            try:
                self.evaluation = EvaluationConfig(evaluation)
            except ConfigError as err:
                # Reported when the evaluation would run; the agent's run is still worth supervising.
                self.evaluation_error = str(err)


class EvaluationConfig:
    def __init__(self, ev):
        if not isinstance(ev, dict):
            raise ConfigError("supervisor.evaluation must be an object")
        self.image = ev.get("image")
        if not isinstance(self.image, str) or not self.image:
            raise ConfigError("supervisor.evaluation.image is required")
        self.workdir = ev.get("workdir", "/eval/task")
        self.command = ev.get("command")
        if not isinstance(self.command, list) or not self.command or not all(isinstance(a, str) for a in self.command):
            raise ConfigError("supervisor.evaluation.command must be a non-empty list of strings")
        attempts = ev.get("attempts")
        if not isinstance(attempts, list) or not attempts:
            raise ConfigError("supervisor.evaluation.attempts must be a non-empty list")
        self.attempts = []
        for attempt in attempts:
            extra = attempt.get("extraArgs", []) if isinstance(attempt, dict) else None
            timeout = attempt.get("timeoutSeconds") if isinstance(attempt, dict) else None
            if not isinstance(extra, list) or not all(isinstance(a, str) for a in extra):
                raise ConfigError("an evaluation attempt's extraArgs must be a list of strings")
            if not is_number(timeout) or timeout <= 0:
                raise ConfigError("an evaluation attempt's timeoutSeconds must be a positive number")
            self.attempts.append({"extraArgs": extra, "timeoutSeconds": timeout})
        self.device_requests = ev.get("deviceRequests") or []
        self.network_mode = ev.get("networkMode") or "none"
        labels = ev.get("labels") or {}
        if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
            raise ConfigError("supervisor.evaluation.labels must map names to strings")
        self.labels = labels
        self.shm_size = ev.get("shmSizeBytes")
        if self.shm_size is not None and not (isinstance(self.shm_size, int) and self.shm_size > 0):
            raise ConfigError("supervisor.evaluation.shmSizeBytes must be a positive integer")
        # Never root: a run.json from before the sandbox had a user gets the same unprivileged id the launcher picks.
        self.user = ev.get("user") or default_sandbox_user()
        ids = parse_user(self.user)
        # On a rootless Docker the container's root is the unprivileged SSH user (src/main/runs/sandbox-policy.ts).
        rootless = ev.get("rootlessDocker") is True
        if ids is None or (ids[0] == 0 and not rootless):
            raise ConfigError("supervisor.evaluation.user must be a non-root uid:gid, not %r" % self.user)
        self.uid, self.gid = ids
        self.memory = ev.get("memoryBytes")
        if self.memory is not None and not (isinstance(self.memory, int) and self.memory > 0):
            raise ConfigError("supervisor.evaluation.memoryBytes must be a positive integer")
        self.pids_limit = ev.get("pidsLimit", EVALUATION_PIDS_LIMIT)
        if not (isinstance(self.pids_limit, int) and self.pids_limit > 0):
            raise ConfigError("supervisor.evaluation.pidsLimit must be a positive integer")


def evaluator_container_body(evaluation, attempt, labels, task_dir, model_dir, out_dir, secret_env=()):
    """
    The Docker create request for one evaluation attempt: the clean task folder and final_model read-only, only its
    own output folder writable, and the same walls as the agent's sandbox (an unprivileged user, every capability
    dropped, so no MKNOD or CHOWN; no new privileges, a process limit, the agent's memory limit).
    """
    mounts = [
        {"Type": "bind", "Source": task_dir, "Target": "/eval/task", "ReadOnly": True},
        {"Type": "bind", "Source": model_dir, "Target": "/eval/final_model", "ReadOnly": True},
        {"Type": "bind", "Source": out_dir, "Target": "/eval/out", "ReadOnly": False},
    ]
    host_config = {
        "Mounts": mounts,
        "NetworkMode": evaluation.network_mode,
        "AutoRemove": False,
        "CapDrop": ["ALL"],
        "SecurityOpt": ["no-new-privileges"],
        "Privileged": False,
        "PidsLimit": evaluation.pids_limit,
    }
    if evaluation.memory:
        host_config["Memory"] = evaluation.memory
        host_config["MemorySwap"] = evaluation.memory
    if evaluation.device_requests:
        host_config["DeviceRequests"] = evaluation.device_requests
        # What a GPU job needs (pinned memory, NCCL), as for the agent: Docker raises them, the user needs nothing.
        host_config["Ulimits"] = [
            {"Name": "memlock", "Soft": -1, "Hard": -1},
            {"Name": "stack", "Soft": 64 * 1024 * 1024, "Hard": 64 * 1024 * 1024},
        ]
    if evaluation.shm_size:
        host_config["ShmSize"] = evaluation.shm_size
    # No passwd entry for the user in most images: a HOME it can write, for caches.
    env = ["HOME=/tmp", "USER=evaluator", "LOGNAME=evaluator"]
    # The grader key(s): Docker keeps them in its root-only container config, nowhere else.
    env += ["%s=%s" % (name, value) for name, value in secret_env]
    return {
        "Image": evaluation.image,
        "User": evaluation.user,
        "Env": env,
        "WorkingDir": evaluation.workdir,
        "Cmd": list(evaluation.command) + list(attempt["extraArgs"]),
        "Labels": labels,
        "Tty": False,
        "OpenStdin": False,
        "AttachStdin": False,
        "AttachStdout": True,
        "AttachStderr": True,
        "HostConfig": host_config,
    }


# --------------------------------------------------------------------------------------------------------------
# Terminal recording


class LineSplitter:
    """Cuts decoded text into lines and hands each complete one to `emit`; an endless line is dropped, not kept."""

    def __init__(self, emit):
        self._emit = emit
        self._parts = []
        self._size = 0
        self._overflow = False

    def feed(self, text):
        if "{" not in text:
            # No line in this text can begin a JSON object, so only the line it completes (one begun in an earlier
            # text) can be one: a flood of plain output costs O(1) Python steps per read, not one per line.
            first = text.find("\n")
            if first < 0:
                self._take(text)
                return
            if self._parts:
                self._take(text[:first])
                if self._parts and not self._overflow:
                    self._emit("".join(self._parts))
            self._parts, self._size, self._overflow = [], 0, False
            self._take(text[text.rfind("\n") + 1 :])
            return
        pieces = text.split("\n")
        for i, piece in enumerate(pieces):
            self._take(piece)
            if i < len(pieces) - 1:
                if self._parts and not self._overflow:
                    self._emit("".join(self._parts))
                self._parts, self._size, self._overflow = [], 0, False

    def _take(self, piece):
        """Part of the current line, no newline in it."""
        if piece and not self._overflow:
            self._parts.append(piece)
            self._size += len(piece)
            if self._size > MAX_JSON_LINE:
                self._overflow = True
                self._parts = []

    def finish(self):
        """The stream ended: its last line is complete even without a newline."""
        if self._parts and not self._overflow:
            self._emit("".join(self._parts))
        self._parts, self._size, self._overflow = [], 0, False


class StreamRedactor:
    """Replaces the agent's own key(s) in recorded output before it reaches a file (the same rule as the app's
    src/shared/redact.ts): literal matches, values under 8 characters ignored, longest first, and the tail that could
    begin a secret is held back until the next chunk, so a key split across reads is still caught."""

    MINIMUM_LENGTH = 8

    def __init__(self, secrets):
        usable = [(name, value) for name, value in secrets if len(value) >= self.MINIMUM_LENGTH]
        self._secrets = sorted(usable, key=lambda s: -len(s[1]))
        self._hold = max([len(value) - 1 for _, value in self._secrets] or [0])
        self._pending = ""

    def _redact(self, text):
        for name, value in self._secrets:
            if value in text:
                text = text.replace(value, "[REDACTED:%s]" % name)
        return text

    def push(self, chunk):
        if not self._secrets:
            return chunk
        text = self._redact(self._pending + chunk)
        cut = len(text)
        for i in range(max(0, len(text) - self._hold), len(text)):
            tail = text[i:]
            if any(value.startswith(tail) for _, value in self._secrets):
                cut = i
                break
        self._pending = text[cut:]
        return text[:cut]

    def flush(self):
        rest, self._pending = self._pending, ""
        return rest


def read_secrets(fd, ready_fd, timeout=20.0):
    """Reads one JSON line {"secrets": [{"name", "value"}], "evaluationEnv": [{"name", "value"}]} from `fd` (the app's
    exec channel; never argv, never a file), then puts /dev/null in its place and tells the app on `ready_fd` how many
    it got. `secrets` are the agent's key(s); `evaluationEnv` the grader key(s) only the evaluator container gets.
    Both are redacted from everything recorded and kept in memory only. Values are never logged.
    Returns (secrets, evaluation_env), each a list of (name, value)."""
    data = b""
    until = time.monotonic() + timeout
    try:
        while b"\n" not in data and len(data) < 1024 * 1024:
            remaining = until - time.monotonic()
            if remaining <= 0:
                log("no secrets line on stdin within %d s; recording without redaction" % timeout)
                break
            readable, _, _ = select.select([fd], [], [], remaining)
            if not readable:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            data += chunk
    except OSError as err:
        log("reading secrets from stdin failed: %s" % err.strerror)
    secrets = []
    evaluation_env = []
    line = data.split(b"\n", 1)[0].strip()
    if line:
        try:
            parsed = json.loads(line.decode("utf-8"))
            for key, into in (("secrets", secrets), ("evaluationEnv", evaluation_env)):
                for item in parsed.get(key, []):
                    if isinstance(item.get("name"), str) and isinstance(item.get("value"), str):
                        into.append((item["name"], item["value"]))
        except (ValueError, AttributeError, UnicodeDecodeError):
            log("the secrets line on stdin is not the expected JSON; recording without redaction")
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, fd)
    os.close(null)
    if ready_fd is not None:
        try:
            os.write(ready_fd, ("SECRETS %d %d\n" % (len(secrets), len(evaluation_env))).encode("ascii"))
        except OSError:
            pass
        try:
            os.close(ready_fd)
        except OSError:
            pass
    return secrets, evaluation_env


class TerminalRecorder:
    """Reads the attach stream and writes record/terminal.cast and record/agent-stream.jsonl.

    Nothing here may block the agent: if writing fails the socket is still drained (the daemon would otherwise
    stall the container's output once its buffers fill) and the failure is reported once.
    """

    def __init__(self, supervisor, sock, leftover, tty, t0_monotonic, header):
        self._sup = supervisor
        self._sock = sock
        self._leftover = leftover
        self._demuxer = None if tty else StreamDemuxer()
        self._t0 = t0_monotonic
        self._lock = threading.Lock()
        self._last_t = 0.0
        self._last_fsync = time.monotonic()
        self._dirty = False
        # One decoder and one line buffer per stream (TTY: the one stream 0; else stdout 1 and stderr 2), so a
        # character or a JSON line split across frames is not cut by the other stream's bytes.
        self._decoders = {}
        self._lines = {}
        self._redactors = {}
        self._errors = 0
        self.done = threading.Event()
        paths = supervisor.paths
        self._cast = open(paths.cast, "ab")
        self._jsonl = open(paths.agent_stream, "ab")
        self.gap_from_t = self._repair_tail()
        if self._cast.tell() == 0:
            self._cast.write(json_bytes(header))
            self._cast.flush()
        self._thread = threading.Thread(target=self._run, name="recorder", daemon=True)

    def _repair_tail(self):
        """On resume: drops a last line cut short by a killed supervisor (it is not JSON) and returns its last t."""
        size = self._cast.seek(0, os.SEEK_END)
        if size == 0:
            return None
        # The last complete line ends at the last newline; find the newline before it too (events can be long).
        with open(self._sup.paths.cast, "rb") as reader:
            last_newline = self._rfind_newline(reader, size)
            if last_newline + 1 < size:
                self._sup.events.write(
                    "supervisor-error",
                    message="terminal.cast ended in a partial line (the previous supervisor was killed mid-write); "
                    "dropped %d bytes" % (size - last_newline - 1),
                )
                os.truncate(self._sup.paths.cast, last_newline + 1)
                self._cast.seek(0, os.SEEK_END)
            if last_newline < 0:
                return None
            line_start = self._rfind_newline(reader, last_newline) + 1
            reader.seek(line_start)
            line = reader.read(last_newline - line_start)
        try:
            last = json.loads(line.decode("utf-8"))
        except ValueError:
            return None
        if isinstance(last, list) and last and is_number(last[0]):
            self._last_t = float(last[0])
            return self._last_t
        return None

    @staticmethod
    def _rfind_newline(reader, end):
        """Offset of the last b"\\n" before `end`, or -1."""
        while end > 0:
            start = max(0, end - 65536)
            reader.seek(start)
            at = reader.read(end - start).rfind(b"\n")
            if at >= 0:
                return start + at
            end = start
        return -1

    def start(self):
        self._thread.start()

    def join(self, timeout):
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def close_socket(self):
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def t_now(self):
        return max(0.0, time.monotonic() - self._t0)

    def write_event(self, t, code, data):
        with self._lock:
            # Events from other threads (resize) can land between a batch's first read and its write.
            t = max(t, self._last_t)
            self._last_t = t
            line = "[%.6f, %s, %s]\n" % (t, json.dumps(code), json.dumps(data, ensure_ascii=False))
            self._cast.write(line.encode("utf-8"))
            self._cast.flush()
            self._dirty = True
            self._maybe_fsync()

    def _maybe_fsync(self, force=False):
        if self._dirty and (force or time.monotonic() - self._last_fsync >= CAST_FSYNC_SECONDS):
            os.fsync(self._cast.fileno())
            self._jsonl.flush()
            os.fsync(self._jsonl.fileno())
            self._last_fsync = time.monotonic()
            self._dirty = False

    def resize(self, cols, rows):
        self.write_event(self.t_now(), "r", "%dx%d" % (cols, rows))

    def marker(self, label):
        self.write_event(self.t_now(), "m", label)

    def _run(self):
        try:
            self._pump()
        except Exception as err:  # the supervisor goes on enforcing the budget without a recorder
            self._report("the terminal recorder stopped: %s" % err)
            log(traceback.format_exc())
        finally:
            try:
                self._finish()
            except Exception as err:
                self._report("finishing terminal.cast failed: %s" % err)
            try:
                self._sock.close()
            except OSError:
                pass
            self.done.set()

    def _pump(self):
        sock = self._sock
        if self._leftover:
            self._process(self._leftover, self.t_now())
            self._leftover = b""
        while True:
            readable, _, _ = select.select([sock], [], [], 1.0)
            if not readable:
                self._idle()
                continue
            try:
                data = sock.recv(65536)
            except OSError as err:
                if err.errno in (errno.EINTR, errno.EAGAIN):
                    continue
                raise
            if not data:
                return
            t = self.t_now()
            chunks = [data]
            size = len(data)
            eof = False
            # Coalesce reads into one event, stamped with its first byte's time: wait CAST_COALESCE_SECONDS after
            # each read for more (a lone line goes out at once), up to CAST_COALESCE_MAX_SECONDS in all (a flood
            # makes few large events).
            now = time.monotonic()
            cap = now + CAST_COALESCE_MAX_SECONDS
            until = now + CAST_COALESCE_SECONDS
            while size < CAST_MAX_BATCH:
                remaining = min(until, cap) - time.monotonic()
                if remaining <= 0:
                    break
                readable, _, _ = select.select([sock], [], [], remaining)
                if not readable:
                    break
                more = sock.recv(65536)
                if not more:
                    eof = True
                    break
                chunks.append(more)
                size += len(more)
                until = time.monotonic() + CAST_COALESCE_SECONDS
            self._process(b"".join(chunks), t)
            if eof:
                return

    def _idle(self):
        try:
            with self._lock:
                self._maybe_fsync(force=True)
        except Exception as err:
            self._report("fsync of terminal.cast failed: %s" % err)

    def _channel(self, stream_id):
        if stream_id not in self._decoders:
            self._decoders[stream_id] = codecs.getincrementaldecoder("utf-8")(errors="replace")
            self._lines[stream_id] = LineSplitter(self._emit_line)
            self._redactors[stream_id] = StreamRedactor(self._sup.secrets)
        return self._decoders[stream_id], self._lines[stream_id]

    def _process(self, raw, t):
        try:
            frames = [(0, raw)] if self._demuxer is None else self._demuxer.feed(raw)
            texts = []
            for stream_id, payload in frames:
                decoder, lines = self._channel(stream_id)
                text = self._redactors[stream_id].push(decoder.decode(payload))
                if text:
                    texts.append(text)
                    lines.feed(text)
            if texts:
                self.write_event(t, "o", "".join(texts))
        except Exception as err:
            self._report("writing terminal.cast failed: %s" % err)

    def _finish(self):
        for stream_id in sorted(self._decoders):
            decoder, lines = self._channel(stream_id)
            redactor = self._redactors[stream_id]
            text = redactor.push(decoder.decode(b"", final=True)) + redactor.flush()
            if text:
                self.write_event(self.t_now(), "o", text)
                lines.feed(text)
            lines.finish()
        with self._lock:
            self._maybe_fsync(force=True)

    def _emit_line(self, line):
        # The TTY turns \n into \r\n (and a warning may add a \r): normalise the ending, keep the rest verbatim.
        line = line.rstrip("\r")
        stripped = line.strip()
        if not (stripped.startswith("{") and stripped.endswith("}")):
            return
        try:
            parsed = json.loads(stripped)
        except ValueError:
            return
        if isinstance(parsed, dict):
            self._jsonl.write((line + "\n").encode("utf-8"))
            self._jsonl.flush()

    def _report(self, message):
        self._errors += 1
        if self._errors <= 3:
            self._sup.safe_event("supervisor-error", message=message)
        log(message)


# --------------------------------------------------------------------------------------------------------------
# The supervisor


class Supervisor:
    def __init__(self, args):
        self.args = args
        # From stdin (--secrets-stdin), in memory only: the values redacted from everything recorded (the agent's
        # key(s) and the grader keys), and the grader keys the evaluator container gets in its environment.
        self.secrets = []
        self.evaluation_env = []
        self.paths = RunPaths(args.run_dir)
        self.events = None
        self.state = None
        self.config = None
        self.docker = Docker(args.docker_socket, args.api_version)
        self.recorder = None
        self.container_id = None
        self.started_ms = None
        self.deadline_ms = None
        self.warnings_sent = []
        # Stop sequence, owned by the main thread.
        self.stop_reason = None
        self.term_sent_at = None
        self.kill_sent_at = None
        self.last_signal_error_at = None
        # Set by the waiter thread.
        self.agent_exited = threading.Event()
        self.agent_exit_code = None
        self.wake = threading.Event()
        self.requests = queue.Queue()
        self.stop_threads = threading.Event()
        self.agent_stopped = threading.Event()
        self.shutdown_signal = None
        self._pid_fd = None
        self._error_counts = {}

    # ---- plumbing ------------------------------------------------------------------------------------------

    def safe_event(self, type_, **fields):
        try:
            return self.events.write(type_, **fields)
        except Exception as err:
            log("could not write event %s: %s" % (type_, err))
            return None

    def thread_error(self, where, err):
        """Reports a failing background loop without flooding events.jsonl (first 3 per place)."""
        count = self._error_counts.get(where, 0) + 1
        self._error_counts[where] = count
        if count <= 3:
            self.safe_event("supervisor-error", message="%s: %s" % (where, err))
        log("%s: %s\n%s" % (where, err, traceback.format_exc()))

    def spawn(self, name, target, *args):
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        thread.start()
        return thread

    def on_signal(self, signum, _frame):
        self.shutdown_signal = signum
        self.wake.set()

    def check_shutdown(self):
        if self.shutdown_signal is not None:
            raise Shutdown()

    def sleep(self, seconds):
        self.wake.wait(seconds)
        self.wake.clear()
        self.check_shutdown()

    def lock_run(self):
        """One supervisor per run: an exclusive flock on .supervisor/supervisor.pid (released when we die)."""
        os.makedirs(self.paths.supervisor_dir, exist_ok=True)
        fd = os.open(self.paths.pid_file, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            other = os.read(fd, 32).decode("ascii", "replace").strip()
            os.close(fd)
            log("another supervisor (pid %s) is running this run; exiting" % (other or "?"))
            sys.exit(3)
        os.ftruncate(fd, 0)
        os.write(fd, ("%d\n" % os.getpid()).encode("ascii"))
        self._pid_fd = fd

    def write_deadline_file(self):
        atomic_write(self.paths.deadline, ("%d\n" % (self.deadline_ms // 1000)).encode("ascii"))

    # ---- entry ---------------------------------------------------------------------------------------------

    def run(self):
        for directory in (self.paths.record, self.paths.control, self.paths.eval):
            os.makedirs(directory, exist_ok=True)
        try:
            # Closed to every other host user: nothing the agent wrote is reachable by them (the launcher did it too).
            os.chmod(self.paths.root, 0o700)
        except OSError as err:
            log("could not close the run folder to other users: %s" % err)
        self.lock_run()
        self.events = EventLog(self.paths.events)
        signal.signal(signal.SIGTERM, self.on_signal)
        signal.signal(signal.SIGINT, self.on_signal)
        # setsid already detaches us from the SSH session; ignore a stray hangup anyway.
        signal.signal(signal.SIGHUP, signal.SIG_IGN)

        prior = None
        if os.path.exists(self.paths.state):
            try:
                prior = json.loads(read_small_file(self.paths.state, 1024 * 1024).decode("utf-8"))
                if not isinstance(prior, dict):
                    raise ValueError("not a JSON object")
            except (OSError, ValueError) as err:
                log("state.json is unreadable (%s)" % err)
                if not self.args.resume:
                    return 2
                # Resume from what Docker knows: the container's state and StartedAt.
                prior = initial_state(self.args.agent_container)
        if prior is not None and not self.args.resume:
            log("state.json exists (status %s): this run was started before; use --resume" % prior.get("status"))
            return 2

        try:
            run = json.loads(read_small_file(self.paths.run_json, 16 * 1024 * 1024, True).decode("utf-8"))
            self.config = SupervisorConfig(run, self.args.agent_container)
            self.container_id = self.config.container_id
            api = self.docker.negotiate()
        except (OSError, ValueError, ConfigError, DockerError) as err:
            message = "run.json: %s" % err if not isinstance(err, DockerError) else str(err)
            if prior is not None:
                # An agent may be running: say why we cannot supervise it, but do not declare the run failed.
                self.safe_event("supervisor-error", message="cannot resume: %s" % message)
                return 1
            self.state = StateFile(self.paths.state, initial_state(self.args.agent_container))
            return self.fail(message, remove_container=False)

        if prior is not None:
            return self.resume(prior, api)
        self.state = StateFile(self.paths.state, initial_state(self.container_id))
        self.state.update()
        self.start_heartbeat()
        self.events.write(
            "supervisor-started", pid=os.getpid(), version=SUPERVISOR_VERSION, resumed=False, apiVersion=api
        )
        info = self.docker.inspect(self.container_id)
        if info is None:
            return self.fail("the agent container %s does not exist" % self.container_id, remove_container=False)
        status = (info.get("State") or {}).get("Status")
        if status != "created":
            # Someone else started it: adopting it would give the agent an unknown head start.
            return self.fail(
                "the agent container is %s, not created; a running agent is only adopted with --resume" % status,
                remove_container=False,
            )
        return self.start_agent(info)

    def fail(self, message, remove_container):
        log("failed: %s" % message)
        self.safe_event("supervisor-error", message=message)
        if remove_container and self.container_id:
            # It never ran and it holds the agent's key in its config: nothing should keep it.
            try:
                self.docker.remove(self.container_id)
            except Exception as err:
                self.safe_event("supervisor-error", message="removing the agent container failed: %s" % err)
        try:
            self.state.update(status="failed", error=message)
        except Exception as err:
            log("could not write state.json: %s" % err)
        return 1

    # ---- starting and resuming -----------------------------------------------------------------------------

    def cast_header(self):
        return {
            "version": 2,
            "width": self.config.cols,
            "height": self.config.rows,
            "timestamp": self.started_ms // 1000,
            "env": {"TERM": "xterm-256color"},
        }

    def start_agent(self, info):
        tty = bool((info.get("Config") or {}).get("Tty"))
        try:
            # Attach before start, as `docker run` does, so the recorder sees the first byte.
            sock, leftover = self.docker.attach(self.container_id)
        except (OSError, DockerError) as err:
            return self.fail("attaching to the agent container failed: %s" % err, remove_container=True)
        self.started_ms = now_ms()
        t0 = time.monotonic()
        try:
            self.recorder = TerminalRecorder(self, sock, leftover, tty, t0, self.cast_header())
        except (OSError, ValueError) as err:
            sock.close()
            # Before the start, refusing costs nothing: a run without its recording is not worth starting.
            return self.fail("cannot record the terminal: %s" % err, remove_container=True)
        self.recorder.start()
        try:
            self.docker.start(self.container_id)
        except (OSError, DockerError) as err:
            self.recorder.close_socket()
            return self.fail("starting the agent container failed: %s" % err, remove_container=True)
        self.deadline_ms = self.started_ms + int(round(self.config.budget_seconds * 1000))
        if tty:
            self.apply_tty_size(self.config.cols, self.config.rows, record=False)
        try:
            self.write_deadline_file()
        except OSError as err:
            self.safe_event("supervisor-error", message="writing ptw/deadline failed: %s" % err)
        self.state.update(status="running", startedAt=self.started_ms, deadline=self.deadline_ms)
        self.events.write(
            "agent-started", deadline=self.deadline_ms, startedAt=self.started_ms, containerId=self.container_id
        )
        return self.supervise()

    def apply_tty_size(self, cols, rows, record):
        try:
            self.docker.resize(self.container_id, cols, rows)
        except (OSError, DockerError) as err:
            self.safe_event("supervisor-error", message="resizing the agent's terminal failed: %s" % err)
            return False
        if record and self.recorder is not None:
            self.recorder.resize(cols, rows)
        return True

    def resume(self, prior, api):
        state = dict(initial_state(self.container_id))
        state.update(prior)
        state["supervisorPid"] = os.getpid()
        self.state = StateFile(self.paths.state, state)
        status = prior.get("status")
        self.state.update()
        if status not in FINAL_STATUSES:
            self.start_heartbeat()
        self.events.write(
            "supervisor-started",
            pid=os.getpid(),
            version=SUPERVISOR_VERSION,
            resumed=True,
            apiVersion=api,
            previousStatus=status,
            previousHeartbeatAt=prior.get("heartbeatAt"),
        )
        if status in FINAL_STATUSES:
            log("the run is already %s; nothing to do" % status)
            return 0 if status != "failed" else 1
        self.stop_reason = prior.get("stopReason") if prior.get("stopReason") in STOP_REASONS else None
        self.warnings_sent = [w for w in prior.get("warningsSent") or [] if is_number(w)]
        if status == "evaluating":
            return self.evaluate()

        info = self.docker.inspect(self.container_id)
        if info is None:
            self.safe_event("supervisor-error", message="the agent container is gone; its exit code is unknown")
            return self.after_agent(prior.get("exitCode"), already_recorded=prior.get("stoppedAt") is not None)
        container_state = info.get("State") or {}
        if container_state.get("Status") == "created":
            # The previous supervisor died before it started the agent.
            return self.start_agent(info)

        self.started_ms = prior.get("startedAt") or parse_docker_time(container_state.get("StartedAt")) or now_ms()
        self.deadline_ms = prior.get("deadline") or self.started_ms + int(round(self.config.budget_seconds * 1000))
        if prior.get("deadline") != self.deadline_ms or prior.get("startedAt") != self.started_ms:
            try:
                self.write_deadline_file()
            except OSError as err:
                self.safe_event("supervisor-error", message="writing ptw/deadline failed: %s" % err)
            self.state.update(startedAt=self.started_ms, deadline=self.deadline_ms)

        if not container_state.get("Running"):
            exit_code = container_state.get("ExitCode")
            return self.after_agent(exit_code, already_recorded=prior.get("stoppedAt") is not None)

        tty = bool((info.get("Config") or {}).get("Tty"))
        try:
            # logs=0: only what the agent writes from now on. Output written while no supervisor ran is lost.
            sock, leftover = self.docker.attach(self.container_id, logs=False)
        except (OSError, DockerError) as err:
            self.safe_event("supervisor-error", message="re-attaching failed (%s); the terminal is not recorded" % err)
            sock = None
        t0 = time.monotonic() - max(0.0, (now_ms() - self.started_ms) / 1000.0)
        if sock is not None:
            try:
                self.recorder = TerminalRecorder(self, sock, leftover, tty, t0, self.cast_header())
            except (OSError, ValueError) as err:
                # The agent runs already: enforce its deadline unrecorded rather than not at all.
                sock.close()
                sock = None
                self.safe_event("supervisor-error", message="cannot record the terminal: %s" % err)
        if sock is not None:
            gap_from = prior.get("heartbeatAt")
            if self.recorder.gap_from_t is not None:
                gap_from = self.started_ms + int(self.recorder.gap_from_t * 1000)
            gap_to = now_ms()
            try:
                self.recorder.marker(
                    "supervisor restarted: terminal output from %s to %s was not recorded"
                    % (iso_utc(gap_from or gap_to), iso_utc(gap_to))
                )
            except Exception as err:
                self.safe_event("supervisor-error", message="writing terminal.cast failed: %s" % err)
            self.events.write(
                "supervisor-error",
                message="the supervisor was down; terminal output written in that time is not in terminal.cast",
                outputGap={"from": gap_from, "to": gap_to},
            )
            self.recorder.start()
        self.state.update(status="stopping" if self.stop_reason else "running")
        if self.stop_reason:
            # We do not know when the previous supervisor signalled: start the stop sequence over.
            self.begin_stop(self.stop_reason, hard=self.stop_reason == "killed")
        return self.supervise()

    # ---- the agent phase (main thread owns the deadline) ---------------------------------------------------

    def supervise(self):
        self.spawn("waiter", self.wait_for_agent)
        self.spawn("control", self.poll_control)
        if self.config.sample_gpus:
            self.spawn("gpu-sampler", self.sample_gpus)
        while not self.agent_exited.is_set():
            self.check_shutdown()
            # Each step on its own: a bug or a failing call in one must not keep the deadline from being enforced.
            try:
                self.drain_requests()
            except Shutdown:
                raise
            except Exception as err:
                self.thread_error("applying control requests", err)
            now = now_ms()
            try:
                if self.stop_reason is None and now >= self.deadline_ms:
                    self.begin_stop("budget")
                elif self.stop_reason is not None:
                    self.escalate()
            except Exception as err:
                self.thread_error("enforcing the deadline", err)
            if self.stop_reason is None:
                try:
                    self.check_warnings(now)
                except Exception as err:
                    self.thread_error("sending warnings", err)
            self.wake.wait(TICK_SECONDS)
            self.wake.clear()
        self.check_shutdown()
        return self.after_agent(self.agent_exit_code, already_recorded=False)

    def wait_for_agent(self):
        while not self.agent_exited.is_set():
            try:
                code = self.docker.wait(self.container_id, "not-running", timeout=None)
                self.agent_exit_code = code
                self.agent_exited.set()
            except Exception as err:
                # The daemon restarted or the connection broke: fall back to inspect.
                log("waiting for the agent failed (%s); checking with inspect" % err)
                time.sleep(1.0)
                try:
                    info = self.docker.inspect(self.container_id)
                    if info is None or not (info.get("State") or {}).get("Running"):
                        self.agent_exit_code = (info or {}).get("State", {}).get("ExitCode") if info else None
                        self.agent_exited.set()
                except Exception as inspect_err:
                    log("inspect failed too: %s" % inspect_err)
        self.wake.set()

    def check_warnings(self, now):
        due = []
        for seconds in self.config.warn_seconds:
            if seconds in self.warnings_sent:
                continue
            at = self.deadline_ms - int(seconds * 1000)
            if at <= self.started_ms:
                continue  # not less than the budget: never armed
            if now >= at:
                due.append(seconds)
        if not due:
            return
        # Several can be due at once only after a resume: say the nearest, skip the stale ones.
        nearest = min(due)
        self.warnings_sent.extend(due)
        self.state.update(warningsSent=sorted(self.warnings_sent, reverse=True))
        self.events.write("warning", secondsLeft=nearest, deadline=self.deadline_ms)
        self.spawn("warning", self.deliver_warning, nearest, self.deadline_ms)

    def deliver_warning(self, seconds_left, deadline_ms):
        script = 'printf "%s" "$1" > /proc/1/fd/1'
        argv = ["sh", "-c", script, "ptw-warning", warning_text(seconds_left, deadline_ms)]
        errors = []
        # As the container's own (unprivileged) user only: a root exec could leave root-owned files in the workspace.
        for user in (None,):
            try:
                code = self.docker.exec_run(self.container_id, argv, user=user)
                if code == 0:
                    return
                errors.append("as %s: exit %s" % (user or "the container user", code))
            except Exception as err:
                errors.append("as %s: %s" % (user or "the container user", err))
        self.safe_event(
            "supervisor-error", message="could not write the %ss warning into the terminal (%s)" % (seconds_left, "; ".join(errors))
        )

    def begin_stop(self, reason, hard=False):
        if self.agent_exited.is_set():
            return
        if self.stop_reason is None or reason == "killed":
            self.stop_reason = reason
        self.state.update(status="stopping", stopReason=self.stop_reason)
        if hard:
            if self.kill_sent_at is None or reason == "killed":
                self.send_signal("SIGKILL")
        elif self.term_sent_at is None and self.kill_sent_at is None:
            self.send_signal("SIGTERM")

    def send_signal(self, sig):
        now = time.monotonic()
        if sig == "SIGTERM":
            self.term_sent_at = now
        else:
            self.kill_sent_at = now
        self.safe_event("stopping", reason=self.stop_reason, signal=sig)
        try:
            self.docker.kill(self.container_id, sig)
        except Exception as err:
            self.last_signal_error_at = now
            self.safe_event("supervisor-error", message="sending %s to the agent failed: %s" % (sig, err))

    def escalate(self):
        now = time.monotonic()
        if self.kill_sent_at is None:
            if self.term_sent_at is not None and now - self.term_sent_at >= self.config.grace_seconds:
                self.send_signal("SIGKILL")
            elif self.last_signal_error_at is not None and now - self.last_signal_error_at >= 1.0:
                self.last_signal_error_at = None
                self.send_signal("SIGTERM")
        elif now - self.kill_sent_at >= KILL_RETRY_SECONDS:
            # Still not gone (or the kill call failed): keep trying.
            self.kill_sent_at = now
            try:
                self.docker.kill(self.container_id, "SIGKILL")
            except Exception as err:
                self.thread_error("sending SIGKILL again", err)

    def after_agent(self, exit_code, already_recorded):
        self.stop_threads.set()
        self.agent_stopped.set()
        reason = self.stop_reason or "agent-exited"
        if self.recorder is not None and not self.recorder.join(10.0):
            # The attach stream should end with the container; do not let a stuck socket hold the run.
            self.recorder.close_socket()
            self.recorder.join(2.0)
        if not already_recorded:
            stopped = now_ms()
            self.events.write("agent-stopped", reason=reason, exitCode=exit_code)
            self.state.update(status="stopping", stoppedAt=stopped, stopReason=reason, exitCode=exit_code)
        # Answer what the app asked while the agent stopped, so no request file is left unconsumed.
        self.drain_requests()
        try:
            self.docker.remove(self.container_id)
        except Exception as err:
            self.safe_event("supervisor-error", message="removing the agent container failed: %s" % err)
        self.sanitize_agent_files()
        self.check_shutdown()
        return self.evaluate()

    def sanitize_agent_files(self):
        """Clears set-id bits and removes device nodes the agent's folders hold (sanitize_tree); an event if any."""
        for rel in ("workspace", "home"):
            report = sanitize_tree(os.path.join(self.paths.root, rel))
            if report["count"] or report["errors"]:
                self.safe_event(
                    "sandbox-sanitized",
                    folder=rel,
                    count=report["count"],
                    cleared=report["cleared"],
                    removed=report["removed"],
                    errors=report["errors"],
                )

    # ---- control requests ----------------------------------------------------------------------------------

    def poll_control(self):
        while not self.stop_threads.is_set():
            try:
                self.scan_control()
            except Exception as err:
                self.thread_error("reading control/", err)
            self.stop_threads.wait(CONTROL_POLL_SECONDS)
        try:
            self.scan_control()
        except Exception as err:
            self.thread_error("reading control/", err)

    def scan_control(self):
        entries = []
        for name in os.listdir(self.paths.control):
            if not name.endswith(".json") or name.startswith("."):
                continue
            path = os.path.join(self.paths.control, name)
            try:
                entries.append((os.lstat(path).st_mtime_ns, name, path))
            except OSError:
                continue
        for mtime_ns, name, path in sorted(entries):
            request, error = None, None
            try:
                request = json.loads(read_small_file(path, MAX_CONTROL_FILE).decode("utf-8"))
                if not isinstance(request, dict):
                    error = "not a JSON object"
            except (OSError, ValueError, UnicodeDecodeError) as err:
                if time.time_ns() - mtime_ns < 1_000_000_000:
                    continue  # maybe still being written by a writer that does not rename: try again later
                error = str(err)
            # Rename first: a request is applied at most once, even if we die right after.
            try:
                os.rename(path, path[: -len(".json")] + ".done")
            except OSError as err:
                self.thread_error("consuming control/%s" % name, err)
                continue
            self.requests.put((name, request, error))
            self.wake.set()

    def drain_requests(self):
        while True:
            try:
                name, request, error = self.requests.get_nowait()
            except queue.Empty:
                return
            try:
                self.apply_request(name, request, error)
            except Shutdown:
                raise
            except Exception as err:
                self.thread_error("applying control/%s" % name, err)

    def reject(self, name, why):
        self.safe_event("supervisor-error", message="control/%s rejected: %s" % (name, why), request=name)

    def apply_request(self, name, request, error):
        if error is not None:
            return self.reject(name, error)
        action = request.get("action")
        by = request.get("by") if isinstance(request.get("by"), str) else "app"
        running = not self.agent_exited.is_set() and not self.agent_stopped.is_set()
        if action == "peek-shell":
            # The app opens the shell itself; the request only puts it on the record.
            self.events.write("intervention", action="peek-shell", by=by, request=name)
            return
        if not running:
            return self.reject(name, "the agent has already stopped")
        if action == "stop":
            self.events.write("intervention", action="stop", by=by, request=name)
            self.begin_stop("user-stop")
        elif action == "kill":
            self.events.write("intervention", action="kill", by=by, request=name)
            self.begin_stop("killed", hard=True)
        elif action == "extend":
            seconds = request.get("seconds")
            if not is_number(seconds) or seconds <= 0:
                return self.reject(name, "extend needs a positive number of seconds")
            if self.stop_reason is not None:
                return self.reject(name, "the agent is already stopping (%s)" % self.stop_reason)
            self.deadline_ms += int(round(seconds * 1000))
            now = now_ms()
            # Warnings now in the future are armed again.
            self.warnings_sent = [w for w in self.warnings_sent if self.deadline_ms - int(w * 1000) <= now]
            try:
                self.write_deadline_file()
            except OSError as err:
                self.safe_event("supervisor-error", message="writing ptw/deadline failed: %s" % err)
            self.state.update(deadline=self.deadline_ms, warningsSent=sorted(self.warnings_sent, reverse=True))
            self.events.write(
                "intervention", action="extend", by=by, request=name, seconds=seconds, newDeadline=self.deadline_ms
            )
        elif action == "resize":
            cols, rows = request.get("cols"), request.get("rows")
            valid = all(isinstance(v, int) and not isinstance(v, bool) and 0 < v <= 10000 for v in (cols, rows))
            if not valid:
                return self.reject(name, "resize needs positive integer cols and rows")
            if self.apply_tty_size(cols, rows, record=True):
                self.events.write("resize", cols=cols, rows=rows, by=by, request=name)
        else:
            self.reject(name, "unknown action %r" % (action,))

    # ---- heartbeat and GPU sampling ------------------------------------------------------------------------

    def start_heartbeat(self):
        """Refreshes state.json every 5 s for as long as this process lives, evaluation included."""

        def beat():
            while True:
                time.sleep(HEARTBEAT_SECONDS)
                try:
                    self.state.heartbeat()
                except Exception as err:
                    self.thread_error("heartbeat", err)

        self.spawn("heartbeat", beat)

    def sample_gpus(self):
        # One nvidia-smi per second rather than `-lms 1000`: a sample that hangs is killed on its own timeout and
        # the next one starts clean, each row gets our own timestamp, and a dead long-lived child needs no
        # restart logic. All GPUs are queried and the rows filtered by index here, so the command is the one fixed
        # query the app's preflight runs (src/shared/parsers/nvidia-smi.ts GPU_SAMPLE_QUERY).
        available = None
        wanted = set(str(i) for i in self.config.gpu_indices)
        try:
            out = open(self.paths.gpu_csv, "ab")
        except OSError as err:
            self.thread_error("opening gpu.csv", err)
            return
        next_tick = time.monotonic()
        while not self.stop_threads.is_set():
            exe = shutil.which("nvidia-smi")
            try:
                if exe is None:
                    raise FileNotFoundError("nvidia-smi is not on the supervisor's PATH")
                taken = now_ms()
                result = subprocess.run(
                    [exe, "--query-gpu=" + GPU_QUERY, "--format=csv,noheader,nounits"],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    timeout=5,
                )
                if result.returncode != 0:
                    said = (result.stdout + result.stderr).decode("utf-8", "replace").strip()
                    raise RuntimeError("nvidia-smi exited with %d: %s" % (result.returncode, said[:500]))
                rows = []
                for line in result.stdout.decode("utf-8", "replace").splitlines():
                    line = line.strip()
                    if line and (not wanted or line.split(",", 1)[0].strip() in wanted):
                        rows.append("%d, %s\n" % (taken, line))
                if not rows:
                    raise RuntimeError("nvidia-smi listed no GPU with index %s" % ", ".join(sorted(wanted)))
                out.write("".join(rows).encode("utf-8"))
                out.flush()
                if available is not True:
                    available = True
                    self.safe_event("gpu-sampling", available=True, error=None, gpuIndices=self.config.gpu_indices)
            except Exception as err:
                if available is not False:
                    available = False
                    self.safe_event("gpu-sampling", available=False, error=str(err))
                if isinstance(err, FileNotFoundError):
                    break  # no nvidia-smi on this host: nothing to retry
            interval = GPU_SAMPLE_SECONDS if available else GPU_RETRY_SECONDS
            next_tick += interval
            delay = next_tick - time.monotonic()
            if delay < 0:
                next_tick = time.monotonic()  # a slow sample: skip the missed ticks rather than burst
                delay = 0
            self.stop_threads.wait(delay)
        out.close()

    # ---- evaluation ----------------------------------------------------------------------------------------

    def final_model_dir(self):
        """workspace/final_model, resolved, if it holds a config.json; else (None, why). The agent wrote it."""
        candidate = os.path.join(self.paths.workspace, "final_model")
        if not os.path.lexists(candidate):
            return None, "workspace/final_model/ does not exist"
        workspace = os.path.realpath(self.paths.workspace)
        resolved = os.path.realpath(candidate)
        if not resolved.startswith(workspace + os.sep):
            # A symlink out of the workspace would have the evaluator mount a host path the agent chose.
            return None, "workspace/final_model points outside the workspace"
        if not os.path.isdir(resolved):
            return None, "workspace/final_model is not a folder"
        try:
            if not stat.S_ISREG(os.lstat(os.path.join(resolved, "config.json")).st_mode):
                return None, "workspace/final_model/config.json is not a regular file"
        except OSError:
            return None, "workspace/final_model/ has no config.json"
        return resolved, None

    def write_eval_json(self, summary):
        atomic_write(self.paths.eval_json, json_bytes(summary, indent=2))

    def finish(self, outcome, summary, metrics=None):
        summary["outcome"] = outcome
        summary["finishedAt"] = now_ms()
        summary["metrics"] = metrics
        self.write_eval_json(summary)
        self.state.update_evaluation(outcome=outcome, metrics=metrics)
        self.events.write("evaluation-finished", outcome=outcome, metrics=metrics)
        self.state.update(status=outcome)
        return 0

    def evaluate(self):
        self.check_shutdown()
        summary = {"outcome": None, "startedAt": now_ms(), "finishedAt": None, "attempts": [], "metrics": None}
        model_dir, why = self.final_model_dir()
        if model_dir is None:
            summary["reason"] = why
            return self.finish("no-model", summary)
        evaluation = self.config.evaluation
        if evaluation is None:
            summary["reason"] = self.config.evaluation_error or "run.json has no supervisor.evaluation"
            self.safe_event("supervisor-error", message="no evaluation: %s" % summary["reason"])
            return self.finish("evaluation-failed", summary)
        self.state.update(status="evaluating")
        self.state.update_evaluation(attempts=0, outcome=None, metrics=None)
        self.events.write("evaluation-started", attempts=len(evaluation.attempts))
        self.remove_stale_evaluators()
        for n, attempt in enumerate(evaluation.attempts, 1):
            self.check_shutdown()
            record, metrics_bytes = self.run_attempt(n, attempt, evaluation, model_dir)
            summary["attempts"].append(record)
            self.state.update_evaluation(attempts=n)
            self.write_eval_json(summary)
            fields = {"n": n, "exitCode": record["exitCode"], "timedOut": record["timedOut"], "log": record["log"]}
            if record.get("error"):
                fields["error"] = record["error"]
            self.events.write("evaluation-attempt", **fields)
            if metrics_bytes is not None:
                # Verbatim, nested breakdowns included; state and events carry the flat numbers.
                atomic_write(self.paths.metrics, metrics_bytes)
                return self.finish("scored", summary, record["metrics"])
        return self.finish("evaluation-failed", summary)

    def remove_stale_evaluators(self):
        """Evaluator containers a previous supervisor left (it died mid-evaluation): the evaluation restarts."""
        if not self.config.run_id:
            return
        try:
            stale = self.docker.list_containers(["ptw.run=%s" % self.config.run_id, "ptw.role=evaluator"])
        except Exception as err:
            self.safe_event("supervisor-error", message="listing old evaluator containers failed: %s" % err)
            return
        for container in stale:
            try:
                self.docker.remove(container["Id"])
            except Exception as err:
                self.safe_event("supervisor-error", message="removing an old evaluator container failed: %s" % err)

    def fresh_out_dir(self, evaluation):
        out = self.paths.eval_out
        if os.path.lexists(out):
            # Left by an interrupted attempt; its files belong to the evaluator's user, so move, not delete.
            os.rename(out, "%s-stale-%d" % (out, now_ms()))
        os.mkdir(out, 0o700)
        if os.geteuid() == 0:
            # The evaluator runs as the sandbox's unprivileged user: the only folder it may write is its own.
            os.chown(out, evaluation.uid, evaluation.gid)
        os.chmod(out, 0o700)

    def run_attempt(self, n, attempt, evaluation, model_dir):
        log_rel = "eval/attempt-%d.log" % n
        log_path = os.path.join(self.paths.root, log_rel)
        record = {
            "n": n,
            "extraArgs": attempt["extraArgs"],
            "timeoutSeconds": attempt["timeoutSeconds"],
            "startedAt": now_ms(),
            "finishedAt": None,
            "exitCode": None,
            "timedOut": False,
            "log": log_rel,
            "output": None,
            "metrics": None,
            "error": None,
        }
        open(log_path, "wb").close()
        container_id = None
        try:
            self.fresh_out_dir(evaluation)
            labels = dict(evaluation.labels)
            labels.update({"ptw.role": "evaluator", "ptw.attempt": str(n)})
            if self.config.run_id:
                labels["ptw.run"] = self.config.run_id
            body = evaluator_container_body(
                evaluation,
                attempt,
                labels,
                task_dir=os.path.realpath(self.paths.task),
                model_dir=model_dir,
                out_dir=self.paths.eval_out,
                secret_env=self.evaluation_env,
            )
            container_id = self.docker.create(body)
            self.docker.start(container_id)
            follower = self.spawn("eval-logs", self.follow_logs, container_id, log_path)
            give_up = time.monotonic() + attempt["timeoutSeconds"]
            killed_at = None
            while True:
                info = self.docker.inspect(container_id)
                container_state = (info or {}).get("State") or {}
                if info is None or not container_state.get("Running"):
                    record["exitCode"] = container_state.get("ExitCode")
                    break
                now = time.monotonic()
                if now >= give_up and (killed_at is None or now - killed_at >= KILL_RETRY_SECONDS):
                    record["timedOut"] = True
                    killed_at = now
                    self.docker.kill(container_id, "SIGKILL")
                self.sleep(EVAL_POLL_SECONDS)
            follower.join(10.0)
        except Shutdown:
            raise
        except Exception as err:
            record["error"] = str(err)
            with open(log_path, "ab") as f:
                f.write(("[ptw] the evaluation attempt failed: %s\n" % err).encode("utf-8"))
        finally:
            if container_id is not None:
                try:
                    self.docker.remove(container_id)
                except Exception as err:
                    self.safe_event("supervisor-error", message="removing evaluator container failed: %s" % err)
        record["finishedAt"] = now_ms()
        if os.path.isdir(self.paths.eval_out):
            kept = "attempt-%d-out" % n
            try:
                os.rename(self.paths.eval_out, os.path.join(self.paths.eval, kept))
                record["output"] = "eval/" + kept
            except OSError as err:
                self.safe_event("supervisor-error", message="keeping eval/out failed: %s" % err)
        out_dir = os.path.join(self.paths.root, record["output"]) if record["output"] else self.paths.eval_out
        metrics_bytes = None
        if record["exitCode"] == 0 and not record["timedOut"] and record["error"] is None:
            metrics_bytes, metrics, why = self.read_metrics(out_dir)
            if metrics is not None:
                record["metrics"] = metrics_summary(metrics)
            else:
                record["error"] = why
        return record, metrics_bytes

    def read_metrics(self, out_dir):
        path = os.path.join(out_dir, "metrics.json")
        try:
            data = read_small_file(path, MAX_METRICS_FILE)
        except FileNotFoundError:
            return None, None, "the evaluation wrote no metrics.json"
        except (OSError, ValueError) as err:
            return None, None, "metrics.json unreadable: %s" % err
        try:
            metrics = json.loads(data.decode("utf-8"))
        except ValueError as err:
            return None, None, "metrics.json is not JSON: %s" % err
        if not isinstance(metrics, dict):
            return None, None, "metrics.json is not a JSON object"
        if not is_number(metrics.get("accuracy")):
            return None, None, "metrics.json has no numeric accuracy"
        return data, metrics, None

    def follow_logs(self, container_id, log_path):
        """Streams the evaluator's logs (TTY off, so multiplexed) into eval/attempt-<n>.log as they come."""
        conn = None
        try:
            conn, response = self.docker.stream(
                "GET", "/containers/%s/logs" % quote(container_id), {"follow": 1, "stdout": 1, "stderr": 1}
            )
            # One decoder and redactor per stream (stdout, stderr), so a key split across frames is still caught.
            streams = {}

            def channel(stream_id):
                if stream_id not in streams:
                    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
                    streams[stream_id] = (decoder, StreamRedactor(self.secrets))
                return streams[stream_id]

            with open(log_path, "ab") as out:
                try:
                    while True:
                        header = read_exact(response, 8)
                        if len(header) < 8:
                            break
                        size = struct.unpack(">I", header[4:8])[0]
                        payload = read_exact(response, size)
                        decoder, redactor = channel(header[0])
                        out.write(redactor.push(decoder.decode(payload)).encode("utf-8"))
                        out.flush()
                        if len(payload) < size:
                            break
                finally:
                    for decoder, redactor in streams.values():
                        out.write((redactor.push(decoder.decode(b"", final=True)) + redactor.flush()).encode("utf-8"))
                    out.flush()
        except Exception as err:
            self.thread_error("reading evaluator logs", err)
        finally:
            if conn is not None:
                conn.close()


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="ptw-supervisor.py", description="PostTrain Workbench host supervisor (docs/run-folder.md)."
    )
    parser.add_argument("--run-dir", required=True, help="the run folder (holds run.json)")
    parser.add_argument("--docker-socket", default="/var/run/docker.sock", help="Docker's unix socket")
    parser.add_argument("--agent-container", help="the agent container's id (default: run.json)")
    parser.add_argument("--resume", action="store_true", help="adopt a run a previous supervisor started")
    parser.add_argument("--api-version", help="pin the Docker API version (default: negotiated, 1.41 preferred)")
    parser.add_argument(
        "--secrets-stdin",
        action="store_true",
        help='read {"secrets": [...], "evaluationEnv": [...]} ({"name", "value"} each) as one line on stdin: the '
        "agent's key(s) and the evaluator's grader key(s), redacted from records",
    )
    parser.add_argument("--ready-fd", type=int, help="with --secrets-stdin: write SECRETS <n> <m> here, then close it")
    return parser.parse_args(argv)


def keep_freed_memory():
    """Asks glibc's malloc to keep freed memory for reuse instead of returning it to the kernel at once.

    The recorder thread makes and drops strings of a few hundred KB for every batch a flooding agent writes. By
    default glibc gives such blocks back (munmap, or trimming the thread's arena) and the next batch faults the same
    pages in again: on a virtualised host, those page faults were most of the supervisor's CPU (bench:live, perf).
    Best effort: other C libraries, or none reachable through ctypes, keep their defaults.
    """
    try:
        import ctypes

        mallopt = ctypes.CDLL(None).mallopt
    except (ImportError, OSError, AttributeError):
        return
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
    mallopt(M_MMAP_THRESHOLD, 16 * 1024 * 1024)
    mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024)


def main(argv=None):
    keep_freed_memory()
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if not os.path.isdir(args.run_dir):
        log("no run folder at %s" % args.run_dir)
        return 2
    secrets, evaluation_env = read_secrets(0, args.ready_fd) if args.secrets_stdin else ([], [])
    supervisor = Supervisor(args)
    supervisor.secrets = secrets + evaluation_env
    supervisor.evaluation_env = evaluation_env
    try:
        code = supervisor.run()
    except Shutdown:
        name = signal.Signals(supervisor.shutdown_signal).name if supervisor.shutdown_signal else "a signal"
        message = (
            "received %s (is the host shutting down?); exiting without touching the containers; "
            "restart with --resume" % name
        )
        log(message)
        if supervisor.events is not None:
            supervisor.safe_event("supervisor-error", message=message)
        if supervisor.state is not None:
            try:
                supervisor.state.heartbeat()
            except Exception:
                pass
        code = 0
    except SystemExit:
        raise
    except BaseException as err:
        log("internal error: %s\n%s" % (err, traceback.format_exc()))
        if supervisor.events is not None:
            supervisor.safe_event("supervisor-error", message="internal error: %s" % err)
        code = 1
    log("exiting with %d" % code)
    return code


if __name__ == "__main__":
    sys.exit(main())
