#!/usr/bin/env python3
"""Rehearsal benchmark: scores a tiny "model" on the arithmetic items in test.jsonl.

PostTrain Workbench's stand-in for a PostTrainBench evaluate.py, with the same command line
(--model-path, --limit, --json-output-file, --max-tokens) and the same output (metrics.json with
accuracy in 0..1 and its stderr), so a rehearsal run exercises the real evaluation path. Python 3
standard library only; no GPU.

The "model" is final_model/config.json plus the safetensors file it names. config.json gives
`weights_file` (default model.safetensors) and `score_tensor` (default "score"), an F32 tensor. Item i
is answered correctly when element i (mod its length) is at least 0.5, so the score is a deterministic
function of the weights. Anything malformed stops the evaluation with exit status 2 and a message
saying what is wrong with which file.
"""

import argparse
import json
import math
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
MAX_HEADER_BYTES = 100 * 1024 * 1024  # the safetensors format's own limit on the JSON header
DTYPE_SIZES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}


class ModelError(Exception):
    """The submitted model cannot be evaluated; the message says why."""


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-path", default="final_model", help="folder with config.json (default: final_model)")
    parser.add_argument("--limit", type=int, default=-1, help="evaluate only the first N items (-1: all)")
    parser.add_argument("--json-output-file", default=None, help="write {accuracy, stderr} here")
    parser.add_argument("--max-tokens", type=int, default=None, help="accepted for compatibility; no effect here")
    parser.add_argument("--max-connections", type=int, default=None, help="accepted for compatibility; no effect here")
    return parser.parse_args(argv)


def load_items(limit):
    path = os.path.join(HERE, "test.jsonl")
    items = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                items.append((str(item["question"]), str(item["answer"])))
            except (ValueError, KeyError, TypeError) as err:
                raise SystemExit(f"evaluate.py: error: {path} line {number} is not a test item: {err}")
    if limit is not None and limit >= 0:
        items = items[:limit]
    if not items:
        raise SystemExit("evaluate.py: error: no test items to evaluate (check --limit)")
    return items


def read_config(model_path):
    if not os.path.isdir(model_path):
        raise ModelError(f"{model_path} is not a folder: no model was submitted")
    config_path = os.path.join(model_path, "config.json")
    try:
        with open(config_path, encoding="utf-8") as handle:
            config = json.load(handle)
    except FileNotFoundError:
        raise ModelError(f"{config_path} is missing") from None
    except ValueError as err:
        raise ModelError(f"{config_path} is not valid JSON: {err}") from None
    if not isinstance(config, dict):
        raise ModelError(f"{config_path} must hold a JSON object")
    weights = config.get("weights_file", "model.safetensors")
    tensor = config.get("score_tensor", "score")
    if not isinstance(weights, str) or not weights or os.path.isabs(weights) or ".." in weights.split("/"):
        raise ModelError(f"{config_path}: weights_file must be a file name inside {model_path}, got {weights!r}")
    if not isinstance(tensor, str) or not tensor:
        raise ModelError(f"{config_path}: score_tensor must be a tensor name, got {tensor!r}")
    return os.path.join(model_path, weights), tensor


def read_f32_tensor(path, name):
    """Reads one F32 tensor: 8-byte little-endian header length, JSON header, then the raw data."""
    try:
        size = os.path.getsize(path)
        handle = open(path, "rb")
    except OSError as err:
        raise ModelError(f"cannot open the weights file {path}: {err.strerror}") from None
    with handle:
        prefix = handle.read(8)
        if len(prefix) < 8:
            raise ModelError(f"{path} is {size} bytes: too short to be a safetensors file (no header length)")
        (header_len,) = struct.unpack("<Q", prefix)
        if header_len > MAX_HEADER_BYTES or 8 + header_len > size:
            raise ModelError(
                f"{path}: the header length says {header_len} bytes but the file has {size}: "
                "not a safetensors file, or a truncated one"
            )
        try:
            header = json.loads(handle.read(header_len).decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as err:
            raise ModelError(f"{path}: the safetensors header is not valid JSON: {err}") from None
        if not isinstance(header, dict):
            raise ModelError(f"{path}: the safetensors header must be a JSON object")
        entry = header.get(name)
        if not isinstance(entry, dict):
            found = ", ".join(sorted(k for k in header if k != "__metadata__")) or "none"
            raise ModelError(f"{path} has no tensor {name!r} (tensors: {found})")
        dtype, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
        if dtype != "F32":
            raise ModelError(f"{path}: tensor {name!r} is {dtype}, expected F32")
        if not (isinstance(shape, list) and all(isinstance(d, int) and d >= 0 for d in shape)):
            raise ModelError(f"{path}: tensor {name!r} has an invalid shape {shape!r}")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(isinstance(o, int) for o in offsets)):
            raise ModelError(f"{path}: tensor {name!r} has invalid data_offsets {offsets!r}")
        count = math.prod(shape)
        begin, end = offsets
        data_size = size - 8 - header_len
        if not 0 <= begin <= end <= data_size or end - begin != count * DTYPE_SIZES["F32"]:
            raise ModelError(
                f"{path}: tensor {name!r} claims bytes {begin}..{end} for {count} F32 values, "
                f"but the data section has {data_size} bytes"
            )
        if count == 0:
            raise ModelError(f"{path}: tensor {name!r} is empty")
        handle.seek(8 + header_len + begin)
        values = struct.unpack(f"<{count}f", handle.read(end - begin))
    if not all(math.isfinite(v) for v in values):
        raise ModelError(f"{path}: tensor {name!r} holds NaN or infinite values")
    return values


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    items = load_items(args.limit)
    try:
        weights_path, tensor = read_config(args.model_path)
        values = read_f32_tensor(weights_path, tensor)
    except ModelError as err:
        print(f"evaluate.py: error: {err}", file=sys.stderr)
        return 2

    print(f"Evaluating {args.model_path} on {len(items)} item(s) (tensor {tensor!r}, {len(values)} values)")
    if args.max_tokens is not None:
        print(f"max tokens: {args.max_tokens}")
    correct = 0
    for i, (question, answer) in enumerate(items):
        ok = values[i % len(values)] >= 0.5
        given = answer if ok else str(int(answer) + 1) if answer.lstrip("-").isdigit() else "?"
        correct += ok
        print(f"[{i + 1}/{len(items)}] {question} -> {given} {'correct' if ok else 'wrong (expected ' + answer + ')'}")

    n = len(items)
    accuracy = correct / n
    # Standard error of the mean of per-item 0/1 scores (sample standard deviation), as inspect-ai reports it.
    stderr = math.sqrt(accuracy * (1 - accuracy) / (n - 1)) if n > 1 else 0.0
    metrics = {"accuracy": accuracy, "stderr": stderr}
    print(json.dumps(metrics))
    if args.json_output_file:
        out_dir = os.path.dirname(os.path.abspath(args.json_output_file))
        os.makedirs(out_dir, exist_ok=True)
        with open(args.json_output_file, "w", encoding="utf-8") as handle:
            json.dump(metrics, handle, indent=2)
            handle.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
