"""The supervisor's side of a scripted run's model endpoint container (src/main/runs/model-endpoint.ts): removed with
the agent's container, and the problem that stopped its replay written to events.jsonl, naming the turn."""

import json
import os

PROBLEMS_FILE = os.path.join("endpoint", "out", "problems.jsonl")
MAX_PROBLEM_BYTES = 64 * 1024


def endpoint_problems(run_dir):
    """The endpoint's problem lines ([{"turn", "message"}]); none when the run had no endpoint or it found none."""
    path = os.path.join(run_dir, PROBLEMS_FILE)
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_PROBLEM_BYTES)
    except OSError:
        return []
    problems = []
    for line in raw.decode("utf-8", "replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and isinstance(entry.get("turn"), int) and isinstance(entry.get("message"), str):
            problems.append({"turn": max(1, entry["turn"]), "message": entry["message"][:2000]})
    return problems


def finish_model_endpoint(docker, run_id, run_dir, write_event, on_error):
    """Removes the run's endpoint container(s) and reports their problems; a run without one is left as it is."""
    if not run_id:
        return
    try:
        containers = docker.list_containers(["ptw.run=%s" % run_id, "ptw.role=model-endpoint"])
    except Exception as err:
        on_error("listing the model endpoint container failed: %s" % err)
        return
    if not containers:
        return
    for container in containers:
        try:
            docker.remove(container["Id"])
        except Exception as err:
            on_error("removing the model endpoint container failed: %s" % err)
    for problem in endpoint_problems(run_dir):
        write_event("model-endpoint-problem", turn=problem["turn"], message=problem["message"])
