"""The heartbeat: state.json rewritten every HEARTBEAT_SECONDS for as long as the supervisor lives, so the app can
tell a live supervisor from a dead one (src/shared/runs/run-status.ts SUPERVISOR_STALE_AFTER_MS)."""

import threading
import time

HEARTBEAT_SECONDS = 5.0


def start_heartbeat(state, on_error, seconds=HEARTBEAT_SECONDS):
    """A daemon thread that calls state.heartbeat() every `seconds`; a failure goes to on_error(where, err)."""

    def beat():
        while True:
            time.sleep(seconds)
            try:
                state.heartbeat()
            except Exception as err:
                on_error("heartbeat", err)

    thread = threading.Thread(target=beat, name="heartbeat", daemon=True)
    thread.start()
    return thread
