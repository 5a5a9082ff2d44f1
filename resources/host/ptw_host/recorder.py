"""The agent's terminal, recorded: record/terminal.cast (asciicast v2) and record/agent-stream.jsonl (the JSON
lines the agent printed), from Docker's attach stream, redacted before anything reaches a file."""

import codecs
import errno
import json
import os
import select
import socket
import threading
import time
import traceback

from ptw_host.docker_api import StreamDemuxer
from ptw_host.host_log import log
from ptw_host.redaction import StreamRedactor
from ptw_host.run_config import is_number
from ptw_host.run_folder import json_bytes

# Reads are coalesced into one cast event while more comes within CAST_COALESCE_SECONDS of the last (short: it is
# latency every live viewer sees), for at most CAST_COALESCE_MAX_SECONDS.
CAST_COALESCE_SECONDS = 0.005
CAST_COALESCE_MAX_SECONDS = 0.02
CAST_FSYNC_SECONDS = 1.0
CAST_MAX_BATCH = 256 * 1024
MAX_JSON_LINE = 32 * 1024 * 1024


def cast_header(cols, rows, started_ms):
    return {
        "version": 2,
        "width": cols,
        "height": rows,
        "timestamp": started_ms // 1000,
        "env": {"TERM": "xterm-256color"},
    }


class LineSplitter:
    """Cuts decoded text into lines and hands each complete one to `emit`; an endless line is dropped, not kept."""

    def __init__(self, emit):
        self._emit = emit
        self._parts = []
        self._size = 0
        self._overflow = False

    def feed(self, text):
        if "{" not in text:
            # No line in this text can begin a JSON object, so only the line it completes (one begun in an earlier
            # text) can be one: a flood of plain output costs O(1) Python steps per read, not one per line.
            first = text.find("\n")
            if first < 0:
                self._take(text)
                return
            if self._parts:
                self._take(text[:first])
                if self._parts and not self._overflow:
                    self._emit("".join(self._parts))
            self._parts, self._size, self._overflow = [], 0, False
            self._take(text[text.rfind("\n") + 1 :])
            return
        pieces = text.split("\n")
        for i, piece in enumerate(pieces):
            self._take(piece)
            if i < len(pieces) - 1:
                if self._parts and not self._overflow:
                    self._emit("".join(self._parts))
                self._parts, self._size, self._overflow = [], 0, False

    def _take(self, piece):
        """Part of the current line, no newline in it."""
        if piece and not self._overflow:
            self._parts.append(piece)
            self._size += len(piece)
            if self._size > MAX_JSON_LINE:
                self._overflow = True
                self._parts = []

    def finish(self):
        """The stream ended: its last line is complete even without a newline."""
        if self._parts and not self._overflow:
            self._emit("".join(self._parts))
        self._parts, self._size, self._overflow = [], 0, False


class TerminalRecorder:
    """Reads the attach stream and writes record/terminal.cast and record/agent-stream.jsonl.

    Nothing here may block the agent: if writing fails the socket is still drained (the daemon would otherwise
    stall the container's output once its buffers fill) and the failure is reported once.
    """

    def __init__(self, paths, secrets, report_event, sock, leftover, tty, t0_monotonic, header):
        """`paths`: the RunPaths (cast, agent_stream); `secrets`: [(name, value)] to redact; `report_event(type,
        **fields)`: writes an event and never raises."""
        self._paths = paths
        self._secrets = secrets
        self._report_event = report_event
        self._sock = sock
        self._leftover = leftover
        self._demuxer = None if tty else StreamDemuxer()
        self._t0 = t0_monotonic
        self._lock = threading.Lock()
        self._last_t = 0.0
        self._last_fsync = time.monotonic()
        self._dirty = False
        # One decoder and one line buffer per stream (TTY: the one stream 0; else stdout 1 and stderr 2), so a
        # character or a JSON line split across frames is not cut by the other stream's bytes.
        self._decoders = {}
        self._lines = {}
        self._redactors = {}
        self._errors = 0
        self.done = threading.Event()
        self._cast = open(paths.cast, "ab")
        self._jsonl = open(paths.agent_stream, "ab")
        self.gap_from_t = self._repair_tail()
        if self._cast.tell() == 0:
            self._cast.write(json_bytes(header))
            self._cast.flush()
        self._thread = threading.Thread(target=self._run, name="recorder", daemon=True)

    def _repair_tail(self):
        """On resume: drops a last line cut short by a killed supervisor (it is not JSON) and returns its last t."""
        size = self._cast.seek(0, os.SEEK_END)
        if size == 0:
            return None
        # The last complete line ends at the last newline; find the newline before it too (events can be long).
        with open(self._paths.cast, "rb") as reader:
            last_newline = self._rfind_newline(reader, size)
            if last_newline + 1 < size:
                self._report_event(
                    "supervisor-error",
                    message="terminal.cast ended in a partial line (the previous supervisor was killed mid-write); "
                    "dropped %d bytes" % (size - last_newline - 1),
                )
                os.truncate(self._paths.cast, last_newline + 1)
                self._cast.seek(0, os.SEEK_END)
            if last_newline < 0:
                return None
            line_start = self._rfind_newline(reader, last_newline) + 1
            reader.seek(line_start)
            line = reader.read(last_newline - line_start)
        try:
            last = json.loads(line.decode("utf-8"))
        except ValueError:
            return None
        if isinstance(last, list) and last and is_number(last[0]):
            self._last_t = float(last[0])
            return self._last_t
        return None

    @staticmethod
    def _rfind_newline(reader, end):
        """Offset of the last b"\\n" before `end`, or -1."""
        while end > 0:
            start = max(0, end - 65536)
            reader.seek(start)
            at = reader.read(end - start).rfind(b"\n")
            if at >= 0:
                return start + at
            end = start
        return -1

    def start(self):
        self._thread.start()

    def join(self, timeout):
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def close_socket(self):
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def t_now(self):
        return max(0.0, time.monotonic() - self._t0)

    def write_event(self, t, code, data):
        with self._lock:
            # Events from other threads (resize) can land between a batch's first read and its write.
            t = max(t, self._last_t)
            self._last_t = t
            line = "[%.6f, %s, %s]\n" % (t, json.dumps(code), json.dumps(data, ensure_ascii=False))
            self._cast.write(line.encode("utf-8"))
            self._cast.flush()
            self._dirty = True
            self._maybe_fsync()

    def _maybe_fsync(self, force=False):
        if self._dirty and (force or time.monotonic() - self._last_fsync >= CAST_FSYNC_SECONDS):
            os.fsync(self._cast.fileno())
            self._jsonl.flush()
            os.fsync(self._jsonl.fileno())
            self._last_fsync = time.monotonic()
            self._dirty = False

    def resize(self, cols, rows):
        self.write_event(self.t_now(), "r", "%dx%d" % (cols, rows))

    def marker(self, label):
        self.write_event(self.t_now(), "m", label)

    def _run(self):
        try:
            self._pump()
        except Exception as err:  # the supervisor goes on enforcing the budget without a recorder
            self._report("the terminal recorder stopped: %s" % err)
            log(traceback.format_exc())
        finally:
            try:
                self._finish()
            except Exception as err:
                self._report("finishing terminal.cast failed: %s" % err)
            try:
                self._sock.close()
            except OSError:
                pass
            self.done.set()

    def _pump(self):
        sock = self._sock
        if self._leftover:
            self._process(self._leftover, self.t_now())
            self._leftover = b""
        while True:
            readable, _, _ = select.select([sock], [], [], 1.0)
            if not readable:
                self._idle()
                continue
            try:
                data = sock.recv(65536)
            except OSError as err:
                if err.errno in (errno.EINTR, errno.EAGAIN):
                    continue
                raise
            if not data:
                return
            t = self.t_now()
            chunks = [data]
            size = len(data)
            eof = False
            # Coalesce reads into one event, stamped with its first byte's time: wait CAST_COALESCE_SECONDS after
            # each read for more (a lone line goes out at once), up to CAST_COALESCE_MAX_SECONDS in all (a flood
            # makes few large events).
            now = time.monotonic()
            cap = now + CAST_COALESCE_MAX_SECONDS
            until = now + CAST_COALESCE_SECONDS
            while size < CAST_MAX_BATCH:
                remaining = min(until, cap) - time.monotonic()
                if remaining <= 0:
                    break
                readable, _, _ = select.select([sock], [], [], remaining)
                if not readable:
                    break
                more = sock.recv(65536)
                if not more:
                    eof = True
                    break
                chunks.append(more)
                size += len(more)
                until = time.monotonic() + CAST_COALESCE_SECONDS
            self._process(b"".join(chunks), t)
            if eof:
                return

    def _idle(self):
        try:
            with self._lock:
                self._maybe_fsync(force=True)
        except Exception as err:
            self._report("fsync of terminal.cast failed: %s" % err)

    def _channel(self, stream_id):
        if stream_id not in self._decoders:
            self._decoders[stream_id] = codecs.getincrementaldecoder("utf-8")(errors="replace")
            self._lines[stream_id] = LineSplitter(self._emit_line)
            self._redactors[stream_id] = StreamRedactor(self._secrets)
        return self._decoders[stream_id], self._lines[stream_id]

    def _process(self, raw, t):
        try:
            frames = [(0, raw)] if self._demuxer is None else self._demuxer.feed(raw)
            texts = []
            for stream_id, payload in frames:
                decoder, lines = self._channel(stream_id)
                text = self._redactors[stream_id].push(decoder.decode(payload))
                if text:
                    texts.append(text)
                    lines.feed(text)
            if texts:
                self.write_event(t, "o", "".join(texts))
        except Exception as err:
            self._report("writing terminal.cast failed: %s" % err)

    def _finish(self):
        for stream_id in sorted(self._decoders):
            decoder, lines = self._channel(stream_id)
            redactor = self._redactors[stream_id]
            text = redactor.push(decoder.decode(b"", final=True)) + redactor.flush()
            if text:
                self.write_event(self.t_now(), "o", text)
                lines.feed(text)
            lines.finish()
        with self._lock:
            self._maybe_fsync(force=True)

    def _emit_line(self, line):
        # The TTY turns \n into \r\n (and a warning may add a \r): normalise the ending, keep the rest verbatim.
        line = line.rstrip("\r")
        stripped = line.strip()
        if not (stripped.startswith("{") and stripped.endswith("}")):
            return
        try:
            parsed = json.loads(stripped)
        except ValueError:
            return
        if isinstance(parsed, dict):
            self._jsonl.write((line + "\n").encode("utf-8"))
            self._jsonl.flush()

    def _report(self, message):
        self._errors += 1
        if self._errors <= 3:
            self._report_event("supervisor-error", message=message)
        log(message)
