"""``ptw-host.pyz version``: the content hash the app stamped into the zipapp when it built it."""

import pkgutil
import sys


def package_hash():
    """The hash of the package's sources (BUILD written by the app's builder), or "source" when run from the tree."""
    try:
        data = pkgutil.get_data("ptw_host", "BUILD")
    except (OSError, FileNotFoundError):
        data = None
    return data.decode("ascii").strip() if data else "source"


def main(argv):
    sys.stdout.write(package_hash() + "\n")
    return 0
