"""``ptw-host.pyz supervise``: the host supervisor of one run (docs/run-folder.md, "The supervisor process").

Runs detached on the GPU host, next to one run folder, and does everything the run needs without the app: starts the
agent container, records its terminal, enforces the time budget, applies the app's control requests, samples the
GPUs, removes the agent container and runs the evaluation. This module is the lifecycle (start, resume, the agent
phase, the hand-over to the evaluation); each job it orchestrates is a module of its own.

    setsid python3 .supervisor/ptw-host.pyz supervise --run-dir DIR --docker-socket SOCK --agent-container ID \\
        < /dev/null >> record/supervisor.log 2>&1 &

Exit status: 0 when the run reached a final state (scored, evaluation-failed, no-model) or the supervisor was
told to stop by SIGTERM/SIGINT; 1 when the agent could not be started (state.json says failed) or on an
internal error; 2 for bad arguments or a run folder it must not touch; 3 when another supervisor holds the run.

It never prints or records a container's environment (the agent's API key is there).
"""

import argparse
import json
import os
import queue
import signal
import sys
import threading
import time
import traceback

from ptw_host.budget import StopSequence, deadline_for, due_warnings, extended, rearm_warnings, warning_text
from ptw_host.control import CONTROL_POLL_SECONDS, interpret, take_requests
from ptw_host.docker_api import Docker, DockerError, parse_docker_time
from ptw_host.evaluation import Evaluator
from ptw_host.gpu import sample_gpus
from ptw_host.heartbeat import start_heartbeat
from ptw_host.integrity_watch import IntegrityPlan, IntegrityWatch, PlanError
from ptw_host.host_log import iso_utc, log, now_ms
from ptw_host.model_endpoint.sidecar import ProblemWatch, finish_model_endpoint, problems_recorded
from ptw_host.recorder import TerminalRecorder, cast_header
from ptw_host.redaction import read_secrets
from ptw_host.sandbox import sanitize_tree
from ptw_host.shutdown import Shutdown
from ptw_host.run_config import ConfigError, SupervisorConfig, is_number
from ptw_host.run_folder import (
    FINAL_STATUSES,
    STOP_REASONS,
    SUPERVISOR_VERSION,
    EventLog,
    RunLocked,
    RunPaths,
    StateFile,
    atomic_write,
    initial_state,
    lock_run,
    read_json_object,
    read_small_file,
)

TICK_SECONDS = 0.1  # main loop: the deadline is checked this often (accuracy well inside 1 s)


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
        # Stop sequence, owned by the main thread (its grace period comes with run.json).
        self.stopping = StopSequence(grace_seconds=30)
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
        self._integrity = None  # the integrity passes (integrity_watch), made on first use
        self.model_problems = None  # a scripted run's endpoint problems (sidecar.ProblemWatch), made in supervise()

    @property
    def stop_reason(self):
        return self.stopping.reason

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

    @staticmethod
    def spawn(name, target, *args):
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
        """One supervisor per run (run_folder.lock_run); exit status 3 when another holds it."""
        try:
            self._pid_fd = lock_run(self.paths)
        except RunLocked as other:
            log("another supervisor (pid %s) is running this run; exiting" % other)
            sys.exit(3)

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
                prior = read_json_object(self.paths.state, 1024 * 1024)
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
            self.stopping.grace_seconds = self.config.grace_seconds
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
        start_heartbeat(self.state, self.thread_error)
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
            self.finish_model_endpoint()
        try:
            self.state.update(status="failed", error=message)
        except Exception as err:
            log("could not write state.json: %s" % err)
        return 1

    # ---- starting and resuming -----------------------------------------------------------------------------

    def new_recorder(self, sock, leftover, tty, t0):
        header = cast_header(self.config.cols, self.config.rows, self.started_ms)
        return TerminalRecorder(self.paths, self.secrets, self.safe_event, sock, leftover, tty, t0, header)

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
            self.recorder = self.new_recorder(sock, leftover, tty, t0)
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
        self.deadline_ms = deadline_for(self.started_ms, self.config.budget_seconds)
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
            start_heartbeat(self.state, self.thread_error)
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
        self.stopping.reason = prior.get("stopReason") if prior.get("stopReason") in STOP_REASONS else None
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
        self.deadline_ms = prior.get("deadline") or deadline_for(self.started_ms, self.config.budget_seconds)
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
                self.recorder = self.new_recorder(sock, leftover, tty, t0)
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
        watch = self.integrity()
        if watch is not None:
            # Child processes, niced: a pass never holds this loop (the deadline is enforced as if none ran).
            watch.start_live(self.stop_threads, self.started_ms)
        if self.config.sample_gpus:
            self.spawn(
                "gpu-sampler",
                sample_gpus,
                self.paths.gpu_csv,
                self.config.gpu_indices,
                self.stop_threads,
                self.safe_event,
                self.thread_error,
            )
        if os.path.isdir(os.path.join(self.paths.root, "endpoint")):
            # A resumed supervisor does not write again the problems its predecessor wrote.
            recorded = problems_recorded(self.paths.events)
            self.model_problems = ProblemWatch(self.paths.root, reported=recorded, now=time.monotonic())
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
            if self.model_problems is not None:
                try:
                    self.watch_model_problems()
                except Exception as err:
                    self.thread_error("watching the scripted model's problems", err)
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

    def watch_model_problems(self):
        """A scripted run: the endpoint's problem becomes an event when seen; an agent still running its grace period
        after it (the CLIs stop on the endpoint's error by themselves) is stopped like at the budget's end."""
        now = time.monotonic()
        for problem in self.model_problems.poll(now):
            self.safe_event("model-endpoint-problem", turn=problem["turn"], message=problem["message"])
        if self.model_problems.stop_due(now, self.stop_reason):
            self.begin_stop("model-problem")

    def check_warnings(self, now):
        due = due_warnings(self.config.warn_seconds, self.warnings_sent, self.started_ms, self.deadline_ms, now)
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
        sig = self.stopping.begin(reason, hard)
        self.state.update(status="stopping", stopReason=self.stop_reason)
        if sig is not None:
            self.send_signal(sig)

    def send_signal(self, sig):
        now = time.monotonic()
        self.stopping.sent(sig, now)
        self.safe_event("stopping", reason=self.stop_reason, signal=sig)
        try:
            self.docker.kill(self.container_id, sig)
        except Exception as err:
            self.stopping.failed(now)
            self.safe_event("supervisor-error", message="sending %s to the agent failed: %s" % (sig, err))

    def escalate(self):
        step = self.stopping.next_step(time.monotonic())
        if step is None:
            return
        kind, sig = step
        if kind == "signal":
            self.send_signal(sig)
            return
        # Still not gone (or the kill call failed): keep trying.
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
        self.finish_model_endpoint()
        self.sanitize_agent_files()
        self.check_shutdown()
        return self.evaluate()

    def integrity(self):
        """The run's integrity passes (integrity_watch), or None when run.json plans none (or a plan we cannot use)."""
        if self._integrity is None and self.config is not None and self.config.integrity is not None:
            try:
                plan = IntegrityPlan(self.config.integrity)
            except PlanError as err:
                self.config.integrity = None
                self.safe_event("supervisor-error", message="no integrity passes: %s" % err)
                return None
            self._integrity = IntegrityWatch(
                self.paths, plan, self.config.run_id, self.events, self.state, self.thread_error
            )
        return self._integrity

    def hold_score(self):
        """The score is published (metrics.json, the final status) only after the final integrity pass."""
        watch = self.integrity()
        if watch is None:
            return
        watch.start_final()
        while not watch.final_done.is_set():
            self.sleep(0.5)

    def evaluate(self):
        watch = self.integrity()
        if watch is not None:
            # Beside the evaluation (which takes far longer): the agent is gone, its files are final.
            watch.start_final()
        return Evaluator(
            self.paths,
            self.docker,
            self.config,
            self.state,
            self.events,
            self.secrets,
            self.evaluation_env,
            safe_event=self.safe_event,
            thread_error=self.thread_error,
            sleep=self.sleep,
            check_shutdown=self.check_shutdown,
            before_publish=self.hold_score,
        ).run()

    def finish_model_endpoint(self):
        """A scripted run's model endpoint goes with the agent; its problem, if any, becomes an event."""
        run_id = self.config.run_id if self.config is not None else None
        finish_model_endpoint(
            self.docker,
            run_id,
            self.paths.root,
            self.safe_event,
            lambda message: self.safe_event("supervisor-error", message=message),
            reported=self.model_problems.reported if self.model_problems is not None else 0,
        )

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
            self.scan_control()
            self.stop_threads.wait(CONTROL_POLL_SECONDS)
        self.scan_control()

    def scan_control(self):
        try:
            taken = take_requests(self.paths.control, self.thread_error)
        except Exception as err:
            self.thread_error("reading control/", err)
            return
        for entry in taken:
            self.requests.put(entry)
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
        running = not self.agent_exited.is_set() and not self.agent_stopped.is_set()
        decision = interpret(request, error, running, self.stop_reason)
        if decision[0] == "reject":
            return self.reject(name, decision[1])
        action, by, params = decision
        if action == "peek-shell":
            self.events.write("intervention", action="peek-shell", by=by, request=name)
        elif action == "stop":
            self.events.write("intervention", action="stop", by=by, request=name)
            self.begin_stop("user-stop")
        elif action == "kill":
            self.events.write("intervention", action="kill", by=by, request=name)
            self.begin_stop("killed", hard=True)
        elif action == "extend":
            seconds = params["seconds"]
            self.deadline_ms = extended(self.deadline_ms, seconds)
            self.warnings_sent = rearm_warnings(self.warnings_sent, self.deadline_ms, now_ms())
            try:
                self.write_deadline_file()
            except OSError as err:
                self.safe_event("supervisor-error", message="writing ptw/deadline failed: %s" % err)
            self.state.update(deadline=self.deadline_ms, warningsSent=sorted(self.warnings_sent, reverse=True))
            self.events.write(
                "intervention", action="extend", by=by, request=name, seconds=seconds, newDeadline=self.deadline_ms
            )
        elif action == "resize":
            if self.apply_tty_size(params["cols"], params["rows"], record=True):
                self.events.write("resize", cols=params["cols"], rows=params["rows"], by=by, request=name)


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="ptw-host.pyz supervise", description="PostTrain Workbench host supervisor (docs/run-folder.md)."
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


def main(argv):
    keep_freed_memory()
    args = parse_args(argv)
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
