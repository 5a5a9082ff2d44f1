"""A Hugging Face hub in the hub's URL layout, on 127.0.0.1, for the caches step's tests (no network needed).

It serves /api/{models,datasets}/<repo>/revision/main (siblings with sizes), HEAD and GET of
/[datasets/]<repo>/resolve/<sha>/<file> with ETag and Range, and can cut a download once after some bytes.
"""

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeHub:
    def __init__(self, repos):
        """repos: {(kind, repo): {"sha": str, "files": {name: bytes}}}."""
        self.repos = repos
        self.cut_after = {}  # file name -> bytes to send before closing, once
        self.requests = []
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_HEAD(self):
                hub.serve(self, head=True)

            def do_GET(self):
                hub.serve(self, head=False)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.endpoint = "http://127.0.0.1:%d" % self.server.server_address[1]

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def find(self, kind, repo):
        return self.repos.get((kind, repo))

    def serve(self, handler, head):
        path = handler.path.split("?")[0]
        self.requests.append((handler.command, path, handler.headers.get("Range")))
        parts = path.strip("/").split("/")
        if parts[0] == "api" and len(parts) >= 6 and parts[-2] == "revision":
            kind = "model" if parts[1] == "models" else "dataset"
            found = self.find(kind, "/".join(parts[2:-2]))
            if not found:
                return self.reply(handler, 404, b'{"error": "not found"}')
            body = {
                "sha": found["sha"],
                "siblings": [{"rfilename": n, "size": len(d)} for n, d in sorted(found["files"].items())],
            }
            return self.reply(handler, 200, json.dumps(body).encode())
        kind = "dataset" if parts[0] == "datasets" else "model"
        if kind == "dataset":
            parts = parts[1:]
        if "resolve" not in parts:
            return self.reply(handler, 404, b"")
        at = parts.index("resolve")
        repo, sha, name = "/".join(parts[:at]), parts[at + 1], "/".join(parts[at + 2 :])
        found = self.find(kind, repo)
        if not found or found["sha"] != sha or name not in found["files"]:
            return self.reply(handler, 404, b"")
        data = found["files"][name]
        etag = hashlib.sha256(data).hexdigest()
        start = 0
        wanted = handler.headers.get("Range")
        if wanted and wanted.startswith("bytes="):
            start = int(wanted[6:].split("-")[0])
        body = data[start:]
        handler.send_response(206 if start else 200)
        handler.send_header("ETag", '"%s"' % etag)
        handler.send_header("Content-Length", str(len(body) if not head else len(data)))
        if start:
            handler.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))
        handler.end_headers()
        if head:
            return
        cut = self.cut_after.pop(name, None)
        if cut is not None:
            handler.wfile.write(body[:cut])
            handler.wfile.flush()
            handler.close_connection = True
            return
        handler.wfile.write(body)

    @staticmethod
    def reply(handler, status, body):
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(body)


class AnyRepo(dict):
    """Repos not listed are served too, each a config.json naming itself (the caches step adds the base models)."""

    def get(self, key, default=None):
        if key in self:
            return self[key]
        kind, repo = key
        return {"sha": "c" * 40, "files": {"config.json": ('{"_name_or_path": "%s"}' % repo).encode()}}


def main():
    """`python3 fake_hub.py SPEC.json`: serves SPEC's repos (and any other) until killed; prints its endpoint."""
    import sys
    import time

    with open(sys.argv[1]) as handle:
        spec = json.load(handle)
    repos = AnyRepo()
    for entry in spec.get("repos", []):
        repos[(entry["kind"], entry["repo"])] = {
            "sha": entry["sha"],
            "files": {name: bytes.fromhex(data) for name, data in entry["files"].items()},
        }
    hub = FakeHub(repos)
    hub.cut_after.update(spec.get("cut", {}))
    print("ENDPOINT %s" % hub.endpoint, flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
