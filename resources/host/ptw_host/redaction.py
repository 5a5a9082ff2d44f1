"""Keeping the keys out of every record: the redactor the recorder and the evaluation logs use, and the one line
on stdin that brings the keys to the supervisor (never argv, never a file)."""

import json
import os
import select
import time

from ptw_host.host_log import log


class StreamRedactor:
    """Replaces the agent's own key(s) in recorded output before it reaches a file (the same rule as the app's
    src/shared/redact.ts): literal matches, values under 8 characters ignored, longest first, and the tail that could
    begin a secret is held back until the next chunk, so a key split across reads is still caught."""

    MINIMUM_LENGTH = 8

    def __init__(self, secrets):
        usable = [(name, value) for name, value in secrets if len(value) >= self.MINIMUM_LENGTH]
        self._secrets = sorted(usable, key=lambda s: -len(s[1]))
        self._hold = max([len(value) - 1 for _, value in self._secrets] or [0])
        self._pending = ""

    def _redact(self, text):
        for name, value in self._secrets:
            if value in text:
                text = text.replace(value, "[REDACTED:%s]" % name)
        return text

    def push(self, chunk):
        if not self._secrets:
            return chunk
        text = self._redact(self._pending + chunk)
        cut = len(text)
        for i in range(max(0, len(text) - self._hold), len(text)):
            tail = text[i:]
            if any(value.startswith(tail) for _, value in self._secrets):
                cut = i
                break
        self._pending = text[cut:]
        return text[:cut]

    def flush(self):
        rest, self._pending = self._pending, ""
        return rest


def read_secrets(fd, ready_fd, timeout=20.0):
    """Reads one JSON line {"secrets": [{"name", "value"}], "evaluationEnv": [{"name", "value"}]} from `fd` (the app's
    exec channel; never argv, never a file), then puts /dev/null in its place and tells the app on `ready_fd` how many
    it got. `secrets` are the agent's key(s); `evaluationEnv` the grader key(s) only the evaluator container gets.
    Both are redacted from everything recorded and kept in memory only. Values are never logged.
    Returns (secrets, evaluation_env), each a list of (name, value)."""
    data = b""
    until = time.monotonic() + timeout
    try:
        while b"\n" not in data and len(data) < 1024 * 1024:
            remaining = until - time.monotonic()
            if remaining <= 0:
                log("no secrets line on stdin within %d s; recording without redaction" % timeout)
                break
            readable, _, _ = select.select([fd], [], [], remaining)
            if not readable:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            data += chunk
    except OSError as err:
        log("reading secrets from stdin failed: %s" % err.strerror)
    secrets = []
    evaluation_env = []
    line = data.split(b"\n", 1)[0].strip()
    if line:
        try:
            parsed = json.loads(line.decode("utf-8"))
            for key, into in (("secrets", secrets), ("evaluationEnv", evaluation_env)):
                for item in parsed.get(key, []):
                    if isinstance(item.get("name"), str) and isinstance(item.get("value"), str):
                        into.append((item["name"], item["value"]))
        except (ValueError, AttributeError, UnicodeDecodeError):
            log("the secrets line on stdin is not the expected JSON; recording without redaction")
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, fd)
    os.close(null)
    if ready_fd is not None:
        try:
            os.write(ready_fd, ("SECRETS %d %d\n" % (len(secrets), len(evaluation_env))).encode("ascii"))
        except OSError:
            pass
        try:
            os.close(ready_fd)
        except OSError:
            pass
    return secrets, evaluation_env
