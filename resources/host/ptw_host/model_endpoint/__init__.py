"""``ptw-host.pyz model-endpoint``: a scripted model for one run, speaking the providers' streaming APIs
(docs/model-script.md).

    python3 ptw-host.pyz model-endpoint --script FILE [--listen HOST:PORT] [--ready-file FILE]
        [--problems FILE] [--log FILE] [--key-env NAME] [--check]

--check validates the script and exits (0, or 2 with the error naming the turn). Otherwise it serves until SIGTERM
or SIGINT; --ready-file gets the bound port once it accepts connections. The expected API key comes from the
environment variable --key-env names (never argv); requests without it get 401, as from a real provider.
"""

import argparse
import os
import signal
import sys
import threading

from ptw_host.model_endpoint.script import ScriptError, load_script
from ptw_host.model_endpoint.server import serve


def parse_listen(value):
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise argparse.ArgumentTypeError("--listen takes HOST:PORT, e.g. 127.0.0.1:8765, not %r" % value)
    return host or "127.0.0.1", int(port)


def main(argv):
    parser = argparse.ArgumentParser(prog="ptw-host.pyz model-endpoint", description=__doc__.splitlines()[0])
    parser.add_argument("--script", required=True, help="the model script (JSON, docs/model-script.md)")
    parser.add_argument("--listen", type=parse_listen, default=("127.0.0.1", 0), help="HOST:PORT (default a free port)")
    parser.add_argument("--ready-file", help="written with the bound port once serving")
    parser.add_argument("--problems", help="JSON lines: the problem that stopped the replay, naming the turn")
    parser.add_argument("--log", help="JSON lines: one per request (path, protocol, turn, status; never headers)")
    parser.add_argument("--key-env", help="the environment variable holding the API key requests must carry")
    parser.add_argument("--check", action="store_true", help="validate the script and exit")
    args = parser.parse_args(argv)
    try:
        script = load_script(args.script)
    except ScriptError as err:
        sys.stderr.write("model-endpoint: %s\n" % err)
        return 2
    if args.check:
        sys.stdout.write("%s: %d turns, valid\n" % (args.script, len(script.turns)))
        return 0
    key = None
    if args.key_env:
        key = os.environ.get(args.key_env)
        if not key:
            sys.stderr.write("model-endpoint: --key-env %s names an unset variable\n" % args.key_env)
            return 2
    host, port = args.listen
    try:
        server = serve(script, host, port, args.problems, args.log, key)
    except OSError as err:
        sys.stderr.write("model-endpoint: cannot listen on %s:%d: %s\n" % (host, port, err.strerror or err))
        return 1
    bound = server.server_address[1]
    if args.ready_file:
        partial = args.ready_file + ".partial"
        with open(partial, "w", encoding="ascii") as out:
            out.write("%d\n" % bound)
        os.replace(partial, args.ready_file)
    sys.stdout.write("model-endpoint: serving %d turns on http://%s:%d\n" % (len(script.turns), host, bound))
    sys.stdout.flush()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    while not stop.wait(1.0):
        pass
    server.shutdown()
    return 0
