"""The host side of a run that is a SLURM job (docs/slurm.md): ``ptw-host.pyz slurm-job create|stop|record``.

The app cannot create the agent container from the login node (the job's node has its own container runtime), so
the launcher leaves the Docker create request in ``.supervisor/agent-container.json`` (mode 0600, it holds the
agent's key) and the job script, once SLURM has placed the job, runs:

- ``create``: creates the container under its fixed name (run.json names it), with the GPUs SLURM allocated
  (``SLURM_JOB_GPUS``), removes the request file, and records the job's node and GPUs in
  ``.supervisor/slurm-job.json``;
- then the ordinary supervisor (``supervise --agent-container NAME``);
- ``stop`` from its TERM trap: ``scancel`` and the time limit send TERM to every process of the job, the supervisor
  exits without touching containers (it would on a host shutting down), so this kills and removes every container
  of the run (agent and evaluator) and marks the run failed with the reason, before SLURM's KillWait runs out.
"""

import argparse
import json
import os
import sys
import time

from ptw_host.docker_api import Docker, DockerError
from ptw_host.host_log import log, now_ms
from ptw_host.run_folder import (
    EventLog,
    RunLocked,
    RunPaths,
    StateFile,
    atomic_write,
    json_bytes,
    lock_run,
    read_json_object,
)

CREATE_REQUEST = "agent-container.json"
SECRETS = "secrets.json"
JOB_RECORD = "slurm-job.json"
REQUEST_LIMIT = 4 * 1024 * 1024


def job_gpus(environ):
    """The GPU indices SLURM gave the job, as Docker device ids (``SLURM_JOB_GPUS``, else
    ``CUDA_VISIBLE_DEVICES``); an empty list when the job has none."""
    for name in ("SLURM_JOB_GPUS", "CUDA_VISIBLE_DEVICES"):
        value = (environ.get(name) or "").strip()
        if value:
            return [part.strip() for part in value.split(",") if part.strip()]
    return []


def with_job_gpus(body, gpus):
    """The create request with its GPU device request set to the job's GPUs (the launcher cannot know them)."""
    host_config = dict(body.get("HostConfig") or {})
    requests = [dict(r) for r in host_config.get("DeviceRequests") or []]
    if not requests:
        return body
    if not gpus:
        raise ValueError("the run needs a GPU but SLURM gave the job none (no SLURM_JOB_GPUS): check --gres")
    for request in requests:
        if "gpu" in [c for caps in request.get("Capabilities") or [] for c in caps]:
            request["DeviceIDs"] = list(gpus)
    host_config["DeviceRequests"] = requests
    updated = dict(body)
    updated["HostConfig"] = host_config
    return updated


def create(args, environ):
    paths = RunPaths(args.run_dir)
    request_path = os.path.join(paths.supervisor_dir, CREATE_REQUEST)
    request = read_json_object(request_path, REQUEST_LIMIT)
    name, body = request.get("name"), request.get("body")
    if not isinstance(name, str) or not name or not isinstance(body, dict):
        raise ValueError("%s needs a name and a body" % request_path)
    gpus = job_gpus(environ)
    docker = Docker(args.docker_socket)
    container_id = docker.create(with_job_gpus(body, gpus), name=name)
    os.unlink(request_path)
    record = {
        "jobId": environ.get("SLURM_JOB_ID"),
        "node": environ.get("SLURMD_NODENAME") or os.uname().nodename,
        "gpus": gpus,
        "containerId": container_id,
        "createdAt": now_ms(),
    }
    atomic_write(os.path.join(paths.supervisor_dir, JOB_RECORD), json_bytes(record, indent=2))
    sys.stdout.write("%s\n" % container_id)
    return 0


def stored_job_id(paths):
    """The job id the launcher wrote into the run folder (for a stop run from the login node, outside the job)."""
    try:
        with open(os.path.join(paths.supervisor_dir, "slurm-job-id"), "rb") as f:
            return f.read(32).decode("ascii", "replace").strip() or "?"
    except OSError:
        return "?"


def wait_for_supervisor(paths, seconds):
    """The supervisor got the same TERM and is writing its last heartbeat: wait (briefly) for its lock."""
    give_up = time.monotonic() + seconds
    while True:
        try:
            return lock_run(paths)
        except RunLocked:
            if time.monotonic() >= give_up:
                return None
            time.sleep(0.1)


def stop(args, environ):
    paths = RunPaths(args.run_dir)
    run_id = read_json_object(paths.run_json, REQUEST_LIMIT).get("id")
    removed = []
    try:
        docker = Docker(args.docker_socket)
        for container in docker.list_containers(["ptw.run=%s" % run_id]) if run_id else []:
            try:
                docker.remove(container["Id"])
                removed.append(((container.get("Labels") or {}).get("ptw.role")) or container["Id"][:12])
            except DockerError as err:
                log("removing %s failed: %s" % (container["Id"][:12], err))
    except (OSError, DockerError) as err:
        # Run from the login node for a job that never started: there may be no Docker there, and nothing to remove.
        log("listing the run's containers failed: %s" % err)
    # Files left behind by a job that ended before using them hold the keys: remove them.
    for name in (CREATE_REQUEST, SECRETS):
        try:
            os.unlink(os.path.join(paths.supervisor_dir, name))
        except FileNotFoundError:
            pass
    wait_for_supervisor(paths, args.wait)
    try:
        prior = read_json_object(paths.state, REQUEST_LIMIT)
    except (OSError, ValueError):
        prior = {}
    message = "SLURM job %s ended the run (%s)" % (environ.get("SLURM_JOB_ID") or stored_job_id(paths), args.reason)
    if prior.get("status") in ("scored", "evaluation-failed", "no-model", "failed"):
        return 0
    # An event type the run folder schema already has (src/shared/runs/run-status.ts): the supervisor was stopped.
    EventLog(paths.events).write(
        "supervisor-error", message="%s; removed: %s" % (message, ", ".join(removed) or "no container")
    )
    state = StateFile(paths.state, prior)
    now = now_ms()
    state.update(
        status="failed",
        error=message,
        supervisorPid=None,
        stoppedAt=prior.get("stoppedAt") or now,
    )
    log(message + "; removed: %s" % (", ".join(removed) or "no container"))
    return 0


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="ptw-host.pyz slurm-job", description="A run as a SLURM job (docs/slurm.md).")
    sub = parser.add_subparsers(dest="action", required=True)
    for action, text in (
        ("create", "create the agent container from .supervisor/agent-container.json with the job's GPUs"),
        ("stop", "kill and remove the run's containers and mark the run failed (the job's TERM trap)"),
    ):
        p = sub.add_parser(action, help=text)
        p.add_argument("--run-dir", required=True)
        p.add_argument("--docker-socket", default="/var/run/docker.sock")
        if action == "stop":
            p.add_argument("--reason", default="cancelled or out of time")
            p.add_argument("--wait", type=float, default=2.0, help="seconds to wait for the supervisor to exit")
    return parser.parse_args(argv)


def main(argv, environ=None):
    args = parse_args(argv)
    environ = os.environ if environ is None else environ
    try:
        return (create if args.action == "create" else stop)(args, environ)
    except (OSError, ValueError, DockerError) as err:
        sys.stderr.write("slurm-job %s: %s\n" % (args.action, err))
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
