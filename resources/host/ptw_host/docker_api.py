"""The few Docker Engine API calls the host side needs, over the daemon's unix socket (standard library only).

Docker 20.10 speaks API 1.41; newer daemons serve it unchanged. Docker 29 refuses anything below 1.44, so the version
is negotiated from GET /version (Docker.negotiate).
"""

import calendar
import http.client
import json
import re
import socket
import struct
import time
import urllib.parse

from ptw_host.host_log import log

PREFERRED_API_VERSION = "1.41"
# DeviceRequests (GPUs) need 1.40.
OLDEST_API_VERSION = "1.40"


def api_version_tuple(version):
    try:
        return tuple(int(part) for part in str(version).split("."))
    except ValueError:
        return (0,)


DOCKER_TIME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z$")


def parse_docker_time(value):
    """Docker's RFC 3339 UTC times carry nanoseconds ("2026-11-23T12:00:00.123456789Z"); returns epoch ms."""
    match = DOCKER_TIME.match(value) if isinstance(value, str) else None
    if match is None or value.startswith("0001-"):
        return None
    seconds = calendar.timegm(time.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S"))
    return seconds * 1000 + int(((match.group(2) or "") + "000")[:3])


class DockerError(Exception):
    def __init__(self, status, message):
        Exception.__init__(self, "Docker API %s: %s" % (status, message))
        self.status = status
        self.message = message


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, socket_path, timeout):
        http.client.HTTPConnection.__init__(self, "localhost", timeout=timeout)
        self._socket_path = socket_path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self._socket_path)
        self.sock = sock


def _error_message(raw):
    try:
        parsed = json.loads(raw.decode("utf-8", "replace"))
        if isinstance(parsed, dict) and isinstance(parsed.get("message"), str):
            return parsed["message"]
    except ValueError:
        pass
    return raw.decode("utf-8", "replace").strip()[:500]


class Docker:
    """The few Engine API calls the supervisor needs. One connection per call, so threads never share one."""

    def __init__(self, socket_path, api_version=None):
        self.socket_path = socket_path
        self.api_version = api_version or PREFERRED_API_VERSION
        self._pinned = api_version is not None

    def negotiate(self):
        if self._pinned:
            return self.api_version
        try:
            status, info = self._request("GET", "/version", versioned=False, timeout=10.0)
        except (OSError, DockerError) as err:
            log("GET /version failed (%s); using API %s" % (err, self.api_version))
            return self.api_version
        server_max = info.get("ApiVersion") if isinstance(info, dict) else None
        server_min = info.get("MinAPIVersion") if isinstance(info, dict) else None
        chosen = PREFERRED_API_VERSION
        if server_min and api_version_tuple(server_min) > api_version_tuple(chosen):
            chosen = server_min
        if server_max and api_version_tuple(server_max) < api_version_tuple(chosen):
            chosen = server_max
        if api_version_tuple(chosen) < api_version_tuple(OLDEST_API_VERSION):
            raise DockerError(0, "Docker on this host speaks API %s; the supervisor needs %s or newer" % (chosen, OLDEST_API_VERSION))
        self.api_version = chosen
        return chosen

    def _path(self, path, query, versioned=True):
        full = ("/v%s%s" % (self.api_version, path)) if versioned else path
        if query:
            full += "?" + urllib.parse.urlencode(query)
        return full

    def _request(self, method, path, query=None, body=None, timeout=30.0, versioned=True):
        conn = UnixHTTPConnection(self.socket_path, timeout)
        try:
            headers = {}
            data = None
            if body is not None:
                data = json.dumps(body).encode("utf-8")
                headers["Content-Type"] = "application/json"
            conn.request(method, self._path(path, query, versioned), body=data, headers=headers)
            response = conn.getresponse()
            # http.client undoes chunked transfer encoding here.
            raw = response.read()
            status = response.status
        finally:
            conn.close()
        if status >= 400:
            raise DockerError(status, _error_message(raw))
        if not raw:
            return status, None
        try:
            return status, json.loads(raw.decode("utf-8"))
        except ValueError:
            return status, raw

    def stream(self, method, path, query=None, timeout=None):
        """A request whose body is read as it arrives (logs?follow=1). Caller closes the connection."""
        conn = UnixHTTPConnection(self.socket_path, timeout)
        conn.request(method, self._path(path, query))
        response = conn.getresponse()
        if response.status >= 400:
            raw = response.read()
            conn.close()
            raise DockerError(response.status, _error_message(raw))
        return conn, response

    def attach(self, container_id, logs=False, timeout=15.0):
        """Hijacks POST /attach: returns the raw socket and any stream bytes read past the response head."""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(self.socket_path)
            query = {"stream": 1, "stdout": 1, "stderr": 1, "logs": 1 if logs else 0}
            request = (
                "POST %s HTTP/1.1\r\nHost: docker\r\nUpgrade: tcp\r\nConnection: Upgrade\r\n"
                "Content-Length: 0\r\n\r\n" % self._path("/containers/%s/attach" % quote(container_id), query)
            )
            sock.sendall(request.encode("ascii"))
            buf = b""
            while b"\r\n\r\n" not in buf:
                chunk = sock.recv(4096)
                if not chunk:
                    raise DockerError(0, "attach: the daemon closed the connection")
                buf += chunk
                if len(buf) > 65536:
                    raise DockerError(0, "attach: response head too long")
            head, rest = buf.split(b"\r\n\r\n", 1)
            status_line = head.split(b"\r\n", 1)[0].split(b" ", 2)
            status = int(status_line[1]) if len(status_line) > 1 and status_line[1].isdigit() else 0
            if status not in (101, 200):
                raise DockerError(status, _error_message(rest))
            sock.settimeout(None)
            return sock, rest
        except Exception:
            sock.close()
            raise

    def inspect(self, container_id):
        """The container's inspect document, or None when it does not exist. Callers must not log it (Env)."""
        try:
            return self._request("GET", "/containers/%s/json" % quote(container_id))[1]
        except DockerError as err:
            if err.status == 404:
                return None
            raise

    def start(self, container_id):
        self._request("POST", "/containers/%s/start" % quote(container_id), timeout=60.0)

    def kill(self, container_id, sig):
        """Sends `sig`; a container that is no longer running (409) or gone (404) is not an error."""
        try:
            self._request("POST", "/containers/%s/kill" % quote(container_id), {"signal": sig})
            return True
        except DockerError as err:
            if err.status in (404, 409):
                return False
            raise

    def wait(self, container_id, condition="not-running", timeout=None):
        _, result = self._request(
            "POST", "/containers/%s/wait" % quote(container_id), {"condition": condition}, timeout=timeout
        )
        if isinstance(result, dict) and isinstance(result.get("StatusCode"), int):
            return result["StatusCode"]
        return None

    def resize(self, container_id, cols, rows):
        self._request("POST", "/containers/%s/resize" % quote(container_id), {"h": rows, "w": cols})

    def remove(self, container_id):
        try:
            self._request("DELETE", "/containers/%s" % quote(container_id), {"force": 1, "v": 1}, timeout=60.0)
            return True
        except DockerError as err:
            if err.status == 404:
                return False
            raise

    def create(self, body, name=None):
        query = {"name": name} if name else None
        _, result = self._request("POST", "/containers/create", query, body=body, timeout=60.0)
        return result["Id"]

    def list_containers(self, labels):
        query = {"all": 1, "filters": json.dumps({"label": labels})}
        return self._request("GET", "/containers/json", query)[1] or []

    def exec_run(self, container_id, argv, user=None, timeout=10.0):
        """Runs `argv` in the container, detached, and returns its exit code (None if it did not finish)."""
        body = {"Cmd": argv, "AttachStdin": False, "AttachStdout": False, "AttachStderr": False, "Tty": False}
        if user is not None:
            body["User"] = user
        _, created = self._request("POST", "/containers/%s/exec" % quote(container_id), body=body)
        exec_id = created["Id"]
        self._request("POST", "/exec/%s/start" % quote(exec_id), body={"Detach": True, "Tty": False})
        give_up = time.monotonic() + timeout
        while time.monotonic() < give_up:
            _, info = self._request("GET", "/exec/%s/json" % quote(exec_id))
            if not info.get("Running") and info.get("ExitCode") is not None:
                return info["ExitCode"]
            time.sleep(0.05)
        return None


def quote(value):
    return urllib.parse.quote(str(value), safe="")


class StreamDemuxer:
    """Docker's multiplexed stream (TTY off): 8-byte headers [stream, 0, 0, 0, size uint32 BE] then payload."""

    def __init__(self):
        self._buf = bytearray()

    def feed(self, data):
        """Returns the complete frames so far as [(stream, payload)]: 1 stdout, 2 stderr."""
        self._buf += data
        frames = []
        while len(self._buf) >= 8:
            size = struct.unpack(">I", bytes(self._buf[4:8]))[0]
            if len(self._buf) < 8 + size:
                break
            frames.append((self._buf[0], bytes(self._buf[8 : 8 + size])))
            del self._buf[: 8 + size]
        return frames


def read_exact(response, size):
    chunks = []
    while size > 0:
        chunk = response.read(size)
        if not chunk:
            break
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)
