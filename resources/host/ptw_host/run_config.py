"""run.json's supervisor section (docs/run-folder.md), checked as the supervisor reads it.

The app writes it (src/main/runs/launch-plan.ts buildRunJson); a section the supervisor cannot use is a ConfigError
with the field named, and an evaluation it cannot use is kept as `evaluation_error`, reported when the evaluation
would run, since the agent's run is still worth supervising.
"""

import math

from ptw_host.sandbox import default_sandbox_user, parse_user

EVALUATION_PIDS_LIMIT = 4096


class ConfigError(Exception):
    pass


def is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


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
        # The integrity passes' plan, checked by ptw_host/integrity_watch.py; None in a run.json from before them.
        self.integrity = sup.get("integrity")
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
