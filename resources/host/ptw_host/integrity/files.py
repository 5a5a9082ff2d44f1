"""Reading the files of a run safely: never through a symlink, compressed content bounded (a zip bomb costs time,
never memory), and every file that cannot be read listed with the reason instead of passed over."""

import bz2
import gzip
import hashlib
import io
import lzma
import os
import tarfile
import zipfile

CHUNK = 1 << 20  # bytes read at a time from a file (a single 2 GB line is read in these)
MAX_DECOMPRESSED = 2 << 30  # a compressed file (or archive member) is read up to this many bytes of its content
# All compressed content one pass reads, together: many small archives that each expand a lot (zip bombs) cost a
# bounded time, and what is left unread is listed as skipped.
DECOMPRESS_BUDGET = {"left": 16 << 30}  # reset by each run_checks


class Skip(Exception):
    """A file that cannot be read as text: it is listed with the reason, never silently passed over."""


def rel(root, path):
    return os.path.relpath(path, root).replace(os.sep, "/")


def inside(root, path):
    real_root = os.path.realpath(root)
    real = os.path.realpath(path)
    return real == real_root or real.startswith(real_root + os.sep)


def walk_files(top, root, skipped, skip_dirs=()):
    """Regular files under `top`, never through a symlink; links are listed as skipped with where they point."""
    if not os.path.isdir(top) or os.path.islink(top):
        return
    stack = [top]
    while stack:
        folder = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as err:
            skipped.append({"file": rel(root, folder), "reason": "folder not readable: %s" % err.strerror})
            continue
        for entry in entries:
            path = entry.path
            try:
                if entry.is_symlink():
                    try:
                        target = os.readlink(path)
                    except OSError:
                        target = "?"
                    where = "inside" if inside(root, path) else "outside"
                    skipped.append({"file": rel(root, path), "reason": "symlink to %s (%s the run folder), not followed" % (target, where)})
                    continue
                if entry.is_dir(follow_symlinks=False):
                    if entry.name in skip_dirs:
                        continue
                    stack.append(path)
                elif entry.is_file(follow_symlinks=False):
                    yield path
                else:
                    skipped.append({"file": rel(root, path), "reason": "not a regular file"})
            except OSError as err:
                skipped.append({"file": rel(root, path), "reason": "not readable: %s" % err.strerror})


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as handle:
        while True:
            block = handle.read(CHUNK)
            if not block:
                break
            h.update(block)
    return h.hexdigest()


def looks_binary(head):
    if not head:
        return False
    if b"\x00" in head:
        return True
    try:
        head.decode("utf-8")
        return False
    except UnicodeDecodeError as err:
        # A multi-byte character cut at the end of the sample is still text.
        if err.start >= len(head) - 4:
            return False
    bad = sum(1 for b in head if b < 9 or (13 < b < 32))
    return bad > len(head) // 20


class LimitedReader(io.RawIOBase):
    """Stops a decompressor after MAX_DECOMPRESSED bytes (a zip bomb costs time, never memory)."""

    def __init__(self, inner, limit):
        self.inner = inner
        self.left = limit
        self.cut = False

    def readable(self):
        return True

    def read(self, n=-1):
        left = min(self.left, DECOMPRESS_BUDGET["left"])
        if left <= 0:
            if self.inner.read(1):
                self.cut = True
            return b""
        n = left if n is None or n < 0 else min(n, left)
        data = self.inner.read(n)
        self.left -= len(data)
        DECOMPRESS_BUDGET["left"] -= len(data)
        return data


def open_streams(path, name):
    """(label, binary stream) pairs for the content of `path`: itself, or the members of an archive."""
    lower = name.lower()
    if lower.endswith((".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar")):
        try:
            tar = tarfile.open(path, "r:*")
        except (tarfile.TarError, OSError, EOFError) as err:
            raise Skip("not a readable tar archive (%s)" % err)
        with tar:
            for member in tar:
                if member.isfile():
                    handle = tar.extractfile(member)
                    if handle is not None:
                        yield member.name, LimitedReader(handle, MAX_DECOMPRESSED)
        return
    if lower.endswith(".zip"):
        try:
            archive = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as err:
            raise Skip("not a readable zip archive (%s)" % err)
        with archive:
            for info in archive.infolist():
                if not info.is_dir():
                    with archive.open(info) as handle:
                        yield info.filename, LimitedReader(handle, MAX_DECOMPRESSED)
        return
    if lower.endswith(".zst"):
        raise Skip("zstd-compressed (the host's Python cannot read it)")
    opener = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}.get(os.path.splitext(lower)[1])
    if opener:
        with opener(path, "rb") as handle:
            yield None, LimitedReader(handle, MAX_DECOMPRESSED)
        return
    with open(path, "rb") as handle:
        yield None, handle


def read_text_file(path, limit=4 << 20):
    with open(path, "rb") as handle:
        return handle.read(limit).decode("utf-8", errors="replace")
