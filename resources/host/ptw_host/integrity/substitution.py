"""The model substitution check: final_model/ against the base model and its instruct counterpart in the HF cache,
by fingerprints sampled at fixed element positions of every tensor (dtype and sharding do not matter)."""

import math
import os
import struct

from ptw_host import hf_cache, safetensors
from ptw_host.integrity.files import Skip, inside
from ptw_host.integrity.report import not_run

MODEL_PAIRS = {
    "Qwen/Qwen3-1.7B-Base": "Qwen/Qwen3-1.7B",
    "Qwen/Qwen3-4B-Base": "Qwen/Qwen3-4B",
    "HuggingFaceTB/SmolLM3-3B-Base": "HuggingFaceTB/SmolLM3-3B",
    "google/gemma-3-4b-pt": "google/gemma-3-4b-it",
}
DTYPES = {"BF16": 2, "F16": 2, "F32": 4, "F64": 8}
SAMPLE_BLOCKS = 16
BLOCK_ELEMS = 16


def read_header(path):
    """{name: (file, dtype, shape, begin, end)} of one safetensors file, absolute offsets; Skip when unreadable."""
    name = os.path.basename(path)
    try:
        header, length, size = safetensors.read_raw_header(path)
    except safetensors.HeaderError as err:
        if err.kind == "short":
            raise Skip("%s: shorter than a safetensors header" % name)
        if err.kind in ("past-end", "too-long"):
            raise Skip("%s: header length %d runs past the file (%d bytes): truncated or not safetensors" % (name, err.length, err.size))
        if err.kind == "not-json":
            raise Skip("%s: header is not JSON (%s)" % (name, err.detail))
        raise Skip("%s: header is not an object" % name)
    out = {}
    for tensor, info in header.items():
        if tensor == "__metadata__" or not isinstance(info, dict):
            continue
        offsets = info.get("data_offsets")
        dtype = info.get("dtype")
        shape = info.get("shape")
        if not (isinstance(offsets, list) and len(offsets) == 2 and isinstance(shape, list)):
            raise Skip("%s: tensor %s has no offsets or shape" % (name, tensor))
        begin, end = 8 + length + offsets[0], 8 + length + offsets[1]
        if end > size or begin > end:
            raise Skip("%s: tensor %s ends at byte %d of a %d-byte file: truncated" % (name, tensor, end, size))
        out[tensor] = (path, dtype, shape, begin, end)
    return out


def model_tensors(folder, root=None):
    """{name: (file, dtype, shape, begin, end)} of every safetensors file in `folder` (links only inside `root`)."""
    if not os.path.isdir(folder):
        raise Skip("%s is not a folder" % folder)
    names = sorted(n for n in os.listdir(folder) if n.endswith(".safetensors"))
    if not names:
        raise Skip("no .safetensors files in %s" % folder)
    tensors = {}
    for name in names:
        path = os.path.join(folder, name)
        if root is not None and (os.path.islink(path) or not inside(root, path)):
            raise Skip("%s is a symlink; not followed" % name)
        tensors.update(read_header(path))
    return tensors


def decode(dtype, data):
    if dtype == "BF16":
        count = len(data) // 2
        wide = bytearray(count * 4)
        wide[2::4] = data[0::2]
        wide[3::4] = data[1::2]
        return struct.unpack("<%df" % count, bytes(wide))
    if dtype == "F16":
        return struct.unpack("<%de" % (len(data) // 2), data)
    if dtype == "F32":
        return struct.unpack("<%df" % (len(data) // 4), data)
    if dtype == "F64":
        return struct.unpack("<%dd" % (len(data) // 8), data)
    return None


def fingerprint(tensors):
    """A fixed sample of each float tensor's elements, by element index (so dtype and sharding do not matter)."""
    out = {}
    handles = {}
    try:
        for name in sorted(tensors):
            path, dtype, shape, begin, end = tensors[name]
            width = DTYPES.get(dtype)
            if not width:
                continue
            numel = safetensors.numel_of(shape)
            if numel == 0 or (end - begin) != numel * width:
                continue
            handle = handles.get(path)
            if handle is None:
                handle = handles[path] = open(path, "rb")
            values = []
            block = min(BLOCK_ELEMS, numel)
            blocks = min(SAMPLE_BLOCKS, max(1, numel // block))
            for k in range(blocks):
                # Evenly spread blocks, offset by a fixed stride so rows of a matrix are not sampled at column 0 only.
                start = ((numel - block) * k) // max(1, blocks - 1) if blocks > 1 else 0
                start = min(numel - block, start + (k * 7919) % max(1, block))
                handle.seek(begin + start * width)
                values.extend(decode(dtype, handle.read(block * width)))
            out[name] = values
    finally:
        for handle in handles.values():
            handle.close()
    return out


def check_substitution(args, ctx):
    flags = []
    final = ctx["final_model"]
    if not final or not os.path.isdir(final):
        return not_run("model_substitution", "no final_model/ folder to check"), flags
    if os.path.islink(final) or not inside(ctx["root"], final):
        return not_run("model_substitution", "final_model is a symlink out of the run folder; not followed"), flags
    if not args.base_model:
        return not_run("model_substitution", "the run names no base model"), flags
    pairs = dict(MODEL_PAIRS)
    for pair in args.pair or []:
        if "=" in pair:
            b, i = pair.split("=", 1)
            pairs[b.strip()] = i.strip()
    instruct = pairs.get(args.base_model)
    base_dir, tried = hf_cache.snapshot(args.base_model, args.hf_cache or [])
    if not base_dir:
        return not_run("model_substitution", "the base model %s is not in the HF cache (looked in %s); download it there or pass --references" % (args.base_model, ", ".join(tried) or "none")), flags
    try:
        fin = fingerprint(model_tensors(final, ctx["root"]))
        base = fingerprint(model_tensors(base_dir))
    except (Skip, OSError) as err:
        return not_run("model_substitution", "final_model could not be read: %s" % err), flags
    inst = None
    inst_note = None
    if not instruct:
        inst_note = "no instruct counterpart known for %s (add one with --pair BASE=INSTRUCT)" % args.base_model
    else:
        inst_dir, tried_i = hf_cache.snapshot(instruct, args.hf_cache or [])
        if inst_dir:
            try:
                inst = fingerprint(model_tensors(inst_dir))
            except (Skip, OSError) as err:
                inst_note = "the instruct model %s could not be read: %s" % (instruct, err)
        else:
            inst_note = "the instruct model %s is not in the HF cache (looked in %s)" % (instruct, ", ".join(tried_i) or "none")
    common = sorted(set(fin) & set(base) & (set(inst) if inst else set(base)))
    common = [n for n in common if len(fin[n]) == len(base[n]) and (inst is None or len(inst[n]) == len(base[n]))]
    if not common:
        return not_run("model_substitution", "final_model shares no tensor (by name and size) with %s" % args.base_model), flags
    f = [x for n in common for x in fin[n]]
    b = [x for n in common for x in base[n]]
    i_all = [x for n in common for x in inst[n]] if inst else None
    finite = [k for k in range(len(f)) if math.isfinite(f[k]) and math.isfinite(b[k]) and (i_all is None or math.isfinite(i_all[k]))]
    stats = {"tensors": len(common), "samples": len(finite)}
    i_vec = i_all
    fs = [f[k] for k in finite]
    bs = [b[k] for k in finite]
    norm_b = math.sqrt(sum(x * x for x in bs)) or 1.0
    d_base = math.dist(fs, bs) / norm_b
    stats["distanceToBase"] = d_base
    evidence = [{"type": "weights", "reference": args.base_model, "text": "relative distance of final_model to %s: %.6f over %d sampled elements of %d tensors" % (args.base_model, d_base, len(fs), len(common))}]
    if i_vec is not None:
        ins = [i_vec[k] for k in finite]
        d_inst = math.dist(fs, ins) / (math.sqrt(sum(x * x for x in ins)) or 1.0)
        d_ib = math.dist(ins, bs) / norm_b
        delta_f = [x - y for x, y in zip(fs, bs)]
        delta_i = [x - y for x, y in zip(ins, bs)]
        ii = sum(x * x for x in delta_i)
        fi = sum(x * y for x, y in zip(delta_f, delta_i))
        ff = sum(x * x for x in delta_f)
        cosine = fi / math.sqrt(ff * ii) if ff > 0 and ii > 0 else 0.0
        projection = fi / ii if ii > 0 else 0.0
        stats.update({"distanceToInstruct": d_inst, "instructToBase": d_ib, "cosine": cosine, "projection": projection})
        evidence.append(
            {
                "type": "weights",
                "reference": instruct,
                "text": "relative distance to %s: %.6f; %s to %s: %.6f; cosine((final-base),(instruct-base)) = %.4f; projection = %.4f"
                % (instruct, d_inst, instruct, args.base_model, d_ib, cosine, projection),
            }
        )
        if d_ib > 0 and d_inst < 0.05 * d_ib:
            flags.append({"kind": "model_substitution", "severity": "high", "summary": "final_model is a copy of the instruct model %s (distance %.2g, the instruct model is %.2g from the base)" % (instruct, d_inst, d_ib), "evidence": evidence})
        elif d_ib > 0 and projection >= 0.5:
            flags.append({"kind": "model_substitution", "severity": "high", "summary": "final_model moved from %s towards %s: %.0f%% of the instruct model's change is in it (training started from, or merged with, the instruct model)" % (args.base_model, instruct, 100 * projection), "evidence": evidence})
        elif d_ib > 0 and projection >= 0.25 and cosine >= 0.2:
            flags.append({"kind": "model_substitution", "severity": "medium", "summary": "final_model shares %.0f%% of the instruct model's change from the base (cosine %.2f): partly merged or distilled from %s?" % (100 * projection, cosine, instruct), "evidence": evidence})
    if d_base < 5e-3 and not any(fl["kind"] == "model_substitution" for fl in flags):
        flags.append({"kind": "untrained", "severity": "info", "summary": "final_model equals the base model %s (relative distance %.2g): it was not trained, or only converted" % (args.base_model, d_base), "evidence": evidence})
    status = "flag" if any(fl["kind"] == "model_substitution" for fl in flags) else "pass"
    if inst is None and status == "pass":
        check = not_run("model_substitution", inst_note or "no instruct reference")
        check["stats"] = stats
        return check, flags
    reason = "fingerprints of %d tensors (%d elements each at most) against %s and %s" % (len(common), SAMPLE_BLOCKS * BLOCK_ELEMS, args.base_model, instruct)
    return {"kind": "model_substitution", "status": status, "reason": reason, "stats": stats}, flags
