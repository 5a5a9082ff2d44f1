"""The time budget, as pure arithmetic: the deadline, which warnings are due, and the stop sequence's next step.

The supervisor owns the clock and the side effects (signals, events, state.json); everything here takes the time as
an argument, so it is tested without Docker or waiting.
"""

import time

# A SIGKILL the agent outlived (or that failed) is sent again this often.
KILL_RETRY_SECONDS = 5.0
# A SIGTERM that could not be sent is tried again after this long.
SIGNAL_RETRY_SECONDS = 1.0


def deadline_for(started_ms, budget_seconds):
    """Epoch ms at which an agent started at `started_ms` runs out of `budget_seconds`."""
    return started_ms + int(round(budget_seconds * 1000))


def extended(deadline_ms, seconds):
    return deadline_ms + int(round(seconds * 1000))


def due_warnings(warn_seconds, sent, started_ms, deadline_ms, now_ms):
    """The `warn_seconds` entries due at `now_ms` and not yet sent. A warning not less than the budget (it would be
    due at or before the start) is never armed."""
    due = []
    for seconds in warn_seconds:
        if seconds in sent:
            continue
        at = deadline_ms - int(seconds * 1000)
        if at <= started_ms:
            continue
        if now_ms >= at:
            due.append(seconds)
    return due


def rearm_warnings(sent, deadline_ms, now_ms):
    """After an extension: the sent warnings that are still in the past; those now in the future are armed again."""
    return [w for w in sent if deadline_ms - int(w * 1000) <= now_ms]


def human_seconds(seconds):
    seconds = int(seconds)
    if seconds >= 3600 and seconds % 3600 == 0:
        return "%d h" % (seconds // 3600)
    if seconds >= 60 and seconds % 60 == 0:
        return "%d min" % (seconds // 60)
    return "%d s" % seconds


def warning_text(seconds_left, deadline_ms):
    # CR LF around it so it stands on its own line even when the agent is mid-line or its TTY is raw.
    return "\r\n[ptw] %s left in the time budget: the run stops at %s UTC. Leave your best model in final_model/.\r\n" % (
        human_seconds(seconds_left),
        time.strftime("%H:%M:%S", time.gmtime(deadline_ms / 1000.0)),
    )


class StopSequence:
    """Why the agent is being stopped and which signal goes next: SIGTERM, then SIGKILL after the grace period
    (at once for a kill), SIGKILL again every KILL_RETRY_SECONDS until the agent is gone. Times are monotonic
    seconds; the caller sends the signals and reports each with sent() or failed()."""

    def __init__(self, grace_seconds, reason=None):
        self.grace_seconds = grace_seconds
        self.reason = reason
        self.term_sent_at = None
        self.kill_sent_at = None
        self.signal_error_at = None

    def begin(self, reason, hard=False):
        """Records why (a kill overrides an earlier reason; nothing else does); returns the signal to send or None."""
        if self.reason is None or reason == "killed":
            self.reason = reason
        if hard:
            return "SIGKILL" if self.kill_sent_at is None or reason == "killed" else None
        return "SIGTERM" if self.term_sent_at is None and self.kill_sent_at is None else None

    def sent(self, sig, now):
        if sig == "SIGTERM":
            self.term_sent_at = now
        else:
            self.kill_sent_at = now

    def failed(self, now):
        self.signal_error_at = now

    def next_step(self, now):
        """What the stop needs at `now`: ("signal", sig) (a new step, worth an event), ("kill-again", None) (the
        SIGKILL retried), or None. A kill-again is counted as sent."""
        if self.kill_sent_at is None:
            if self.term_sent_at is not None and now - self.term_sent_at >= self.grace_seconds:
                return ("signal", "SIGKILL")
            if self.signal_error_at is not None and now - self.signal_error_at >= SIGNAL_RETRY_SECONDS:
                self.signal_error_at = None
                return ("signal", "SIGTERM")
            return None
        if now - self.kill_sent_at >= KILL_RETRY_SECONDS:
            self.kill_sent_at = now
            return ("kill-again", None)
        return None
