"""`ptw-host.pyz hf-fetch`: fetch Hugging Face models and data sets into the host's hub cache (docs/host-setup.md).

Standard library only, run on the GPU host by `ptw host setup` (the caches step). It reads the list PostTrainBench
pre-fetches (`containers/download_hf_cache/resources.json`: "models": [repo...], "datasets": [{"dataset": repo}...]),
asks the hub (or a mirror: --endpoint, HF_ENDPOINT) what each repository holds and how large it is, refuses when the
cache's disk cannot hold what is missing, then downloads file by file into the layout huggingface_hub itself uses
(`<cache>/hub/{models,datasets}--org--name/{blobs,snapshots/<sha>,refs/main}`), so the tools in the run image find
them offline. A file is written to `blobs/<etag>.incomplete` and resumed from its size with a Range request after a
dropped connection; it is renamed into place only when whole, and a repository counts as done only when every file
is. Progress is one JSON object per line on stdout:

    {"event": "plan", "repos": n, "files": n, "totalBytes": n, "missingBytes": n, "freeBytes": n}
    {"event": "file", "repo": r, "file": f, "done": bytes, "total": bytes}
    {"event": "repo", "repo": r, "status": "done" | "cached" | "failed", "error": ...}
    {"event": "end", "ok": bool, "failed": [repo...]}

Exit 0 when every repository is in the cache, 1 when some failed, 2 for bad arguments or too little disk.
"""

import argparse
import json
import os
import shutil
import socket
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from ptw_host.hf_cache import repo_folder

CHUNK = 1 << 20
RETRIES = 5
TIMEOUT = 60
# Headroom the disk keeps beyond what the downloads need.
SPARE_BYTES = 5 << 30


def say(**fields):
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


class Hub:
    def __init__(self, endpoint, token):
        self.endpoint = endpoint.rstrip("/")
        self.token = token

    def request(self, url, headers=None, method="GET"):
        req = urllib.request.Request(url, method=method, headers=dict(headers or {}))
        if self.token:
            req.add_header("Authorization", "Bearer %s" % self.token)
        req.add_header("User-Agent", "posttrain-workbench")
        return urllib.request.urlopen(req, timeout=TIMEOUT)

    def info(self, kind, repo):
        """{"sha": ..., "files": [{"name", "size"}]} from the hub's API (blobs=true gives the sizes)."""
        api = "models" if kind == "model" else "datasets"
        url = "%s/api/%s/%s/revision/main?blobs=true" % (self.endpoint, api, urllib.parse.quote(repo, safe="/"))
        with self.request(url) as response:
            body = json.loads(response.read().decode("utf-8"))
        files = []
        for sibling in body.get("siblings") or []:
            name = sibling.get("rfilename")
            if not isinstance(name, str) or name.startswith("/") or ".." in name.split("/"):
                continue
            size = sibling.get("size")
            if size is None and isinstance(sibling.get("lfs"), dict):
                size = sibling["lfs"].get("size")
            files.append({"name": name, "size": size if isinstance(size, int) else None})
        if not isinstance(body.get("sha"), str):
            raise ValueError("the hub's answer for %s has no revision sha" % repo)
        return {"sha": body["sha"], "files": files}

    def file_url(self, kind, repo, sha, name):
        prefix = "" if kind == "model" else "datasets/"
        return "%s/%s%s/resolve/%s/%s" % (
            self.endpoint,
            prefix,
            urllib.parse.quote(repo, safe="/"),
            sha,
            urllib.parse.quote(name, safe="/"),
        )


def etag_of(headers):
    tag = headers.get("X-Linked-Etag") or headers.get("ETag") or ""
    tag = tag.strip()
    if tag.startswith("W/"):
        tag = tag[2:]
    return tag.strip('"')


def download(hub, kind, repo, sha, entry, root):
    """One file into blobs/ (resumed from .incomplete), linked from snapshots/<sha>/. Returns bytes fetched."""
    url = hub.file_url(kind, repo, sha, entry["name"])
    snapshot = os.path.join(root, "snapshots", sha, entry["name"])
    if os.path.exists(snapshot):
        return 0
    blobs = os.path.join(root, "blobs")
    os.makedirs(blobs, exist_ok=True)
    with hub.request(url, method="HEAD") as head:
        etag = etag_of(head.headers) or ("sha-%s-%s" % (sha, entry["name"].replace("/", "_")))
        total = int(head.headers.get("Content-Length") or entry["size"] or 0)
    blob = os.path.join(blobs, etag)
    partial = blob + ".incomplete"
    fetched = 0
    attempt = 0
    while not os.path.exists(blob):
        have = os.path.getsize(partial) if os.path.exists(partial) else 0
        headers = {"Range": "bytes=%d-" % have} if have else {}
        try:
            with hub.request(url, headers=headers) as response:
                if have and response.status != 206:
                    have = 0  # the server ignored the range: start over
                with open(partial, "ab" if have else "wb") as out:
                    last = 0.0
                    while True:
                        chunk = response.read(CHUNK)
                        if not chunk:
                            break
                        out.write(chunk)
                        have += len(chunk)
                        fetched += len(chunk)
                        now = time.monotonic()
                        if now - last >= 0.5:
                            say(event="file", repo=repo, file=entry["name"], done=have, total=total)
                            last = now
            if total and have < total:
                raise IOError("the connection closed at %d of %d bytes" % (have, total))
            os.replace(partial, blob)
        except (urllib.error.URLError, socket.timeout, ConnectionError, IOError) as err:
            attempt += 1
            if attempt > RETRIES:
                raise IOError("%s: %s (after %d tries; %d bytes kept to resume)" % (entry["name"], err, attempt, have))
            say(event="file", repo=repo, file=entry["name"], done=have, total=total, retry=attempt, error=str(err))
            time.sleep(min(30, 2 ** attempt * 0.25))
    say(event="file", repo=repo, file=entry["name"], done=total or os.path.getsize(blob), total=total)
    os.makedirs(os.path.dirname(snapshot), exist_ok=True)
    relative = os.path.relpath(blob, os.path.dirname(snapshot))
    if os.path.lexists(snapshot):
        os.unlink(snapshot)
    os.symlink(relative, snapshot)
    return fetched


def missing_files(root, sha, files):
    return [f for f in files if not os.path.exists(os.path.join(root, "snapshots", sha, f["name"]))]


def load_resources(path):
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    repos = []
    for model in data.get("models") or []:
        if isinstance(model, str) and "/" in model:
            repos.append(("model", model))
    for dataset in data.get("datasets") or []:
        name = dataset.get("dataset") if isinstance(dataset, dict) else dataset
        if isinstance(name, str) and "/" in name:
            repos.append(("dataset", name))
    return repos


def main(argv):
    parser = argparse.ArgumentParser(prog="ptw-host.pyz hf-fetch", description=__doc__.splitlines()[0])
    parser.add_argument("--resources", required=True, help="resources.json (models and datasets to fetch)")
    parser.add_argument("--cache", required=True, help="the HF cache folder (HF_HOME); files go to <cache>/hub")
    parser.add_argument("--endpoint", default=os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    parser.add_argument("--plan-only", action="store_true", help="say what is missing and whether it fits; fetch nothing")
    parser.add_argument("--spare-bytes", type=int, default=SPARE_BYTES, help="free space to leave on the disk")
    args = parser.parse_args(argv)
    try:
        repos = load_resources(args.resources)
    except (OSError, ValueError) as err:
        say(event="end", ok=False, failed=[], error="cannot read %s: %s" % (args.resources, err))
        return 2
    hub = Hub(args.endpoint, os.environ.get("HF_TOKEN") or os.environ.get("HUGGING_FACE_HUB_TOKEN"))
    hub_dir = os.path.join(args.cache, "hub")
    os.makedirs(hub_dir, exist_ok=True)
    plans = []
    failed = []
    for kind, repo in repos:
        try:
            info = hub.info(kind, repo)
        except Exception as err:  # one repository's answer never stops the others
            failed.append(repo)
            say(event="repo", repo=repo, status="failed", error="asking the hub: %s" % err)
            continue
        root = os.path.join(hub_dir, repo_folder(kind, repo))
        plans.append((kind, repo, info, root, missing_files(root, info["sha"], info["files"])))
    total = sum(f["size"] or 0 for _, _, info, _, _ in plans for f in info["files"])
    missing = sum(f["size"] or 0 for _, _, _, _, todo in plans for f in todo)
    free = shutil.disk_usage(hub_dir).free
    files = sum(len(info["files"]) for _, _, info, _, _ in plans)
    say(event="plan", repos=len(plans), files=files, totalBytes=total, missingBytes=missing, freeBytes=free)
    if missing + args.spare_bytes > free and missing > 0:
        say(
            event="end",
            ok=False,
            failed=failed,
            error="%d bytes to fetch (with %d spare) but %d free in %s" % (missing, args.spare_bytes, free, hub_dir),
        )
        return 2
    if args.plan_only:
        say(event="end", ok=not failed, failed=failed)
        return 0 if not failed else 1
    for kind, repo, info, root, todo in plans:
        if not todo:
            say(event="repo", repo=repo, status="cached")
            continue
        try:
            for entry in todo:
                download(hub, kind, repo, info["sha"], entry, root)
            os.makedirs(os.path.join(root, "refs"), exist_ok=True)
            with open(os.path.join(root, "refs", "main"), "w") as handle:
                handle.write(info["sha"])
            say(event="repo", repo=repo, status="done")
        except Exception as err:
            failed.append(repo)
            say(event="repo", repo=repo, status="failed", error=str(err))
    say(event="end", ok=not failed, failed=failed)
    return 0 if not failed else 1

