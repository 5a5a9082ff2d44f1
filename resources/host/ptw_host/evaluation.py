"""The clean evaluation of workspace/final_model (docs/run-folder.md, "Evaluation"): the task folder's own
evaluate.py in a fresh container with the sandbox's walls, attempt after attempt until one writes metrics.json."""

import codecs
import dataclasses
import json
import os
import stat
import struct
import threading
import time
from typing import Any, Callable, Optional

from ptw_host.budget import KILL_RETRY_SECONDS
from ptw_host.docker_api import quote, read_exact
from ptw_host.host_log import now_ms
from ptw_host.redaction import StreamRedactor
from ptw_host.run_config import is_number
from ptw_host.run_folder import atomic_write, json_bytes, read_small_file
from ptw_host.shutdown import Shutdown

EVAL_POLL_SECONDS = 0.5
MAX_METRICS_FILE = 16 * 1024 * 1024


def _spawn(name, target, *args):
    thread = threading.Thread(target=target, args=args, name=name, daemon=True)
    thread.start()
    return thread


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


def metrics_summary(metrics):
    """The flat numeric fields of metrics.json (accuracy, stderr, ...); nested breakdowns stay in the file."""
    return dict((key, value) for key, value in metrics.items() if is_number(value))


def final_model_dir(workspace_dir):
    """workspace/final_model, resolved, if it holds a config.json; else (None, why). The agent wrote it."""
    candidate = os.path.join(workspace_dir, "final_model")
    if not os.path.lexists(candidate):
        return None, "workspace/final_model/ does not exist"
    workspace = os.path.realpath(workspace_dir)
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


def read_metrics(out_dir):
    """metrics.json in `out_dir`: (its bytes, the object, None), or (None, None, why) when it is missing or no good."""
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


@dataclasses.dataclass(eq=False)
class Evaluator:
    """Runs the evaluation for one run folder. Shutdown (SIGTERM) comes through `sleep` and `check_shutdown`, which
    raise; `safe_event(type, **fields)` and `thread_error(where, err)` never raise."""

    paths: Any
    docker: Any
    config: Any
    state: Any
    events: Any
    # Redacted from the logs (the agent's and the grader's keys); the grader keys go into the container's env.
    secrets: Any
    evaluation_env: Any
    safe_event: Callable
    thread_error: Callable
    sleep: Callable
    check_shutdown: Callable
    # Called before anything says how the evaluation ended (the score waits for the final integrity pass).
    before_publish: Optional[Callable] = None

    def __post_init__(self):
        if self.before_publish is None:
            self.before_publish = lambda: None

    def write_eval_json(self, summary):
        atomic_write(self.paths.eval_json, json_bytes(summary, indent=2))

    def finish(self, outcome, summary, metrics=None):
        self.before_publish()
        summary["outcome"] = outcome
        summary["finishedAt"] = now_ms()
        summary["metrics"] = metrics
        self.write_eval_json(summary)
        self.state.update_evaluation(outcome=outcome, metrics=metrics)
        self.events.write("evaluation-finished", outcome=outcome, metrics=metrics)
        self.state.update(status=outcome)
        return 0

    def run(self):
        self.check_shutdown()
        summary = {"outcome": None, "startedAt": now_ms(), "finishedAt": None, "attempts": [], "metrics": None}
        model_dir, why = final_model_dir(self.paths.workspace)
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
            if metrics_bytes is not None:
                self.before_publish()
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
            follower = _spawn("eval-logs", self.follow_logs, container_id, log_path)
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
            metrics_bytes, metrics, why = read_metrics(out_dir)
            if metrics is not None:
                record["metrics"] = metrics_summary(metrics)
            else:
                record["error"] = why
        return record, metrics_bytes

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
