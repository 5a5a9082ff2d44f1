"""Where a Hugging Face hub cache keeps a repository (the layout huggingface_hub itself uses).

`<cache>/[hub/]{models,datasets}--org--name/{blobs,snapshots/<sha>,refs/main}`: the checkpoint inspector and the
integrity checks look models up here, the caches step of host set-up (hf_fetch) writes them.
"""

import os
import re


def repo_folder(kind, repo):
    """The cache folder's name of a repository: kind "model" or "dataset", repo ORG/NAME."""
    return "%s--%s" % ("models" if kind == "model" else "datasets", repo.replace("/", "--"))


def candidates(cache, kind, repo):
    """The folders `repo` may be in under one cache: directly, or under its hub/ (HF_HOME or HF_HUB_CACHE given)."""
    cache = os.path.expanduser(cache)
    folder = repo_folder(kind, repo)
    return [os.path.join(cache, folder), os.path.join(cache, "hub", folder)]


def snapshot(model, caches):
    """(the snapshot folder of `model` (ORG/NAME): refs/main, else the newest snapshot; or None, the folders tried)."""
    tried = []
    for cache in caches:
        for candidate in candidates(cache, "model", model):
            tried.append(candidate)
            snapshots = os.path.join(candidate, "snapshots")
            if not os.path.isdir(snapshots):
                continue
            rev = None
            try:
                with open(os.path.join(candidate, "refs", "main")) as handle:
                    rev = handle.read().strip()
            except OSError:
                pass
            if rev and re.match(r"^[0-9a-f]{7,64}$", rev) and os.path.isdir(os.path.join(snapshots, rev)):
                return os.path.join(snapshots, rev), tried
            revs = [os.path.join(snapshots, r) for r in os.listdir(snapshots)]
            revs = [r for r in revs if os.path.isdir(r)]
            if revs:
                return max(revs, key=os.path.getmtime), tried
    return None, tried
