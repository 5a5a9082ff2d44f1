"""The sandbox's user and the last line behind it (docs/run-folder.md, "The sandbox and the host")."""

import os
import re
import stat

# The uid/gid a run's containers get when the supervisor is root (src/main/runs/sandbox-policy.ts): never root.
SANDBOX_ROOTLESS_ID = 61000
# How many paths a sandbox-sanitized event names (the count is always whole).
SANITIZE_REPORT_LIMIT = 50


def default_sandbox_user():
    """The supervisor's own uid:gid when it is not root, else SANDBOX_ROOTLESS_ID (what the launcher picks)."""
    uid, gid = os.geteuid(), os.getegid()
    if uid > 0 and gid > 0:
        return "%d:%d" % (uid, gid)
    return "%d:%d" % (SANDBOX_ROOTLESS_ID, SANDBOX_ROOTLESS_ID)


def parse_user(user):
    """`uid:gid` -> (uid, gid); a name or anything else -> None (only numeric ids are ever planned)."""
    match = re.match(r"^(\d{1,10}):(\d{1,10})$", user or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


def sanitize_tree(root, report_limit=SANITIZE_REPORT_LIMIT):
    """
    Clears setuid and setgid bits and removes device nodes under `root`, never following a link. The agent runs
    unprivileged with no capability, so it can neither make a device nor a setuid file of anyone but itself; this
    catches what an older sandbox or an image's own files left. Returns {"cleared": [...], "removed": [...],
    "count": n, "errors": [...]}.
    """
    report = {"cleared": [], "removed": [], "count": 0, "errors": []}

    def note(kind, path):
        report["count"] += 1
        if len(report[kind]) < report_limit:
            report[kind].append(os.path.relpath(path, root))

    def visit(path, info):
        mode = info.st_mode
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
            os.unlink(path)
            note("removed", path)
        elif (stat.S_ISREG(mode) or stat.S_ISDIR(mode)) and mode & (stat.S_ISUID | stat.S_ISGID):
            os.chmod(path, stat.S_IMODE(mode) & ~(stat.S_ISUID | stat.S_ISGID))
            note("cleared", path)

    def on_error(err):
        if len(report["errors"]) < report_limit:
            report["errors"].append(str(err))

    if not os.path.isdir(root) or os.path.islink(root):
        return report
    try:
        visit(root, os.lstat(root))
    except OSError as err:
        on_error(err)
    for dirpath, dirnames, filenames in os.walk(root, onerror=on_error):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            try:
                visit(path, os.lstat(path))
            except OSError as err:
                on_error(err)
    return report
