"""``ptw-host.pyz manifest RUN_DIR``: workspace/final_model listed with sizes and SHA-256, as one JSON line.

Computed on the host (the weights never travel), never following links: a link is listed with its target instead,
since the agent chose where it points. Standard library only and self-contained (no import from the package): the
app also runs this file's source as `python3 -c` (src/main/runs/host-scripts.ts manifestScript), for run folders
that hold no ptw-host.pyz.
"""

import hashlib
import json
import os
import stat
import sys
import time


def manifest(run_dir):
    workspace = os.path.join(run_dir, "workspace")
    root = os.path.join(workspace, "final_model")
    out = {
        "schema": 1,
        "root": root,
        "computedAt": int(time.time() * 1000),
        "exists": False,
        "reason": None,
        "files": [],
        "symlinks": [],
        "totalBytes": 0,
    }
    if os.path.islink(root):
        out["reason"] = "workspace/final_model is a symlink (to %s)" % os.readlink(root)
        return out
    if not os.path.isdir(root):
        out["reason"] = "workspace/final_model does not exist"
        return out
    out["exists"] = True
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in list(dirnames):
            full = os.path.join(dirpath, name)
            if os.path.islink(full):
                dirnames.remove(name)
                out["symlinks"].append({"path": os.path.relpath(full, root), "target": os.readlink(full)})
        for name in sorted(filenames):
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root)
            info = os.lstat(full)
            if stat.S_ISLNK(info.st_mode):
                out["symlinks"].append({"path": rel, "target": os.readlink(full)})
                continue
            if not stat.S_ISREG(info.st_mode):
                continue
            digest = hashlib.sha256()
            with open(full, "rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(chunk)
            out["files"].append({"path": rel, "size": info.st_size, "sha256": digest.hexdigest()})
            out["totalBytes"] += info.st_size
    return out


def main(argv):
    if len(argv) != 1:
        sys.stderr.write("usage: ptw-host.pyz manifest RUN_DIR\n")
        return 2
    print(json.dumps(manifest(argv[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
