"""`inspect find`: the checkpoints under a run's workspace (and the base model in the HF cache), described."""

import json
import os

from ptw_host import hf_cache
from ptw_host.checkpoints.checkpoint_files import InspectError, link_allowed, load_checkpoint
from ptw_host.safetensors import numel_of

INSPECT_VERSION = 1
CONFIG_FILES = ("config.json", "generation_config.json", "tokenizer_config.json", "chat_template.jinja")
SKIP_DIRS = {".git", "__pycache__", "node_modules", ".cache", ".venv", "venv", "wandb", ".ipynb_checkpoints"}
MAX_WALK_DIRS = 20000
MAX_DEPTH = 8


def read_json_file(path):
    try:
        with open(path, "rb") as handle:
            value = json.loads(handle.read(4 * 1024 * 1024).decode("utf-8"))
        return value if isinstance(value, dict) else None
    except (OSError, ValueError, UnicodeDecodeError):
        return None


def describe(folder, rel, origin):
    """What the list shows about one checkpoint folder; problems instead of an exception."""
    entry = {
        "id": rel,
        "path": folder,
        "origin": origin,
        "kind": "full",
        "files": [],
        "index": None,
        "sizeBytes": 0,
        "tensorCount": 0,
        "parameterCount": 0,
        "dtypes": {},
        "mtime": 0,
        "hasConfig": os.path.isfile(os.path.join(folder, "config.json")),
        "configFiles": [
            n for n in CONFIG_FILES if os.path.isfile(os.path.join(folder, n)) and link_allowed(folder, os.path.join(folder, n))
        ],
        "adapter": None,
        "problems": [],
    }
    adapter_path = os.path.join(folder, "adapter_config.json")
    adapter = read_json_file(adapter_path) if link_allowed(folder, adapter_path) else None
    if adapter is not None:
        entry["kind"] = "lora"
        entry["configFiles"].insert(0, "adapter_config.json")
        targets = adapter.get("target_modules")
        entry["adapter"] = {
            "peftType": str(adapter.get("peft_type") or "LORA"),
            "rank": adapter.get("r") if isinstance(adapter.get("r"), int) else None,
            "alpha": adapter.get("lora_alpha") if isinstance(adapter.get("lora_alpha"), (int, float)) else None,
            "targetModules": sorted(targets) if isinstance(targets, list) else ([targets] if isinstance(targets, str) else []),
            "baseModel": adapter.get("base_model_name_or_path") if isinstance(adapter.get("base_model_name_or_path"), str) else None,
        }
    try:
        tensors, files, index = load_checkpoint(folder)
    except (InspectError, OSError) as err:
        entry["problems"].append(str(err))
        return entry
    entry["files"] = files
    entry["index"] = index
    mtime = 0.0
    for name in files + ([index] if index else []):
        try:
            st = os.stat(os.path.join(folder, name))
        except OSError:
            continue
        entry["sizeBytes"] += st.st_size
        mtime = max(mtime, st.st_mtime)
    entry["mtime"] = int(mtime * 1000)
    entry["tensorCount"] = len(tensors)
    for _path, dtype, shape, _begin, _nbytes in tensors.values():
        n = numel_of(shape)
        entry["parameterCount"] += n
        entry["dtypes"][dtype] = entry["dtypes"].get(dtype, 0) + n
    if not entry["hasConfig"] and entry["kind"] != "lora":
        entry["problems"].append("no config.json next to the weights")
    return entry


def is_checkpoint_dir(folder, names):
    has_weights = any(n.endswith(".safetensors") or n.endswith(".safetensors.index.json") for n in names)
    return has_weights and ("config.json" in names or "adapter_config.json" in names or any(n.endswith(".safetensors.index.json") for n in names))


def find(run_dir, hf_caches, base_model):
    run_dir = os.path.abspath(run_dir)
    workspace = os.path.join(run_dir, "workspace")
    out = {"version": INSPECT_VERSION, "runDir": run_dir, "checkpoints": [], "problems": [], "base": None}
    if not os.path.isdir(workspace):
        out["problems"].append("%s does not exist" % workspace)
    else:
        walked = 0
        for root, dirs, names in os.walk(workspace, followlinks=False):
            walked += 1
            if walked > MAX_WALK_DIRS:
                out["problems"].append("stopped looking after %d folders under %s" % (MAX_WALK_DIRS, workspace))
                break
            depth = root[len(workspace) :].count(os.sep)
            dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and depth < MAX_DEPTH)
            if is_checkpoint_dir(root, names):
                rel = os.path.relpath(root, run_dir).replace(os.sep, "/")
                out["checkpoints"].append(describe(root, rel, "run"))
    if base_model:
        snapshot, tried = hf_cache.snapshot(base_model, hf_caches)
        if snapshot:
            out["base"] = describe(snapshot, "base", "hf-cache")
            out["base"]["label"] = base_model
        else:
            out["problems"].append("the base model %s is not in the HF cache (looked in %s)" % (base_model, ", ".join(tried) or "nowhere"))
    return out
