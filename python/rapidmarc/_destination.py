"""How rapidmarc writes an output file: the destination is written, never replaced by something else.

One rule for every writer that takes a path (``convert()`` natively, the command line's
conversions through the pymarc-compatible writers, ``split``):

* A **regular file** (or a new name) is written to a new hidden file beside it,
  ``.<name>.<random>.partial`` (created exclusively and readable by its owner only while it is
  written), and renamed over it only once the output is complete, with the mode (and, for root,
  the owner) the old file had, or the mode a new file gets from the umask. An error, a
  strict-mode exception or Ctrl-C removes that file and leaves the old one as it was. No other
  file is ever removed or overwritten on the way: not a file named ``<name>.partial``, not the
  input. A destination the user cannot write, or whose directory does not exist or cannot take a
  new file, is refused before anything is read.
* A **symbolic link** is followed: its target is written (by the rule above), the link stays.
* A **FIFO, a character or block device or a socket** (``/dev/null``, a named pipe) is opened and
  written in place, as a stream: there is nothing to rename.
* A **name of an open descriptor** (``/dev/stdout``, ``/dev/fd/N``, ``/proc/self/fd/N``) is
  written in place, appending, whatever it is open on: as writing to that descriptor would, so
  ``> out.mrc`` and ``>> out.mrc`` behave as the shell means them and nothing is renamed.
* A directory is refused with ``IsADirectoryError``.

Not done: the temporary file is not ``fsync``-ed before the rename (as ``yaz-marcdump`` and ``cp``
do not), and a file with several hard links is replaced, so its other names keep the old contents.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import BinaryIO

PARTIAL_SUFFIX = ".partial"


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """True when the paths name one file (through symbolic links and hard links)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


_DESCRIPTOR = re.compile(r"/(?:proc/(?:self|thread-self|\d+)/fd|dev/fd)/\d+")


def names_open_descriptor(path: str) -> bool:
    """True for a name of a descriptor a process already has open (``/dev/stdout``,
    ``/dev/fd/3``, ``/proc/self/fd/1``), directly or through symbolic links: written in place,
    appending, as writing to the descriptor itself would (``>>`` keeps what the file held)."""
    current = os.path.abspath(path)
    for _ in range(40):  # the kernel's limit on a chain of links
        if _DESCRIPTOR.fullmatch(current):
            return True
        if not os.path.islink(current):
            return False
        current = os.path.normpath(os.path.join(os.path.dirname(current), os.readlink(current)))
    return False


@contextmanager
def open_destination(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """A binary file to write ``path``'s new contents to, committed when the block ends without
    an exception (see the module's docstring for the rule)."""
    name = os.fsdecode(path)
    if names_open_descriptor(name):
        with open(name, "ab") as stream:
            yield stream
        return
    real = os.path.realpath(name)  # a symbolic link (or a chain of them): the file it names
    try:
        old: os.stat_result | None = os.stat(real)
    except FileNotFoundError:
        old = None
    if old is not None and stat.S_ISDIR(old.st_mode):
        raise IsADirectoryError(errno.EISDIR, "the destination is a directory", name)
    if old is not None and not stat.S_ISREG(old.st_mode):
        with open(real, "wb") as stream:  # a FIFO, device or socket: written in place
            yield stream
        return
    if old is not None and not os.access(real, os.W_OK):
        raise PermissionError(errno.EACCES, "the destination is not writable", name)
    directory = os.path.dirname(real)
    if not os.path.isdir(directory):
        raise FileNotFoundError(errno.ENOENT, "the destination's directory does not exist", name)
    if not os.access(directory, os.W_OK | os.X_OK):
        raise PermissionError(
            errno.EACCES,
            "the destination's directory is not writable (the output is made beside it, then renamed)",
            name,
        )
    # A new name of bounded length (the destination's may be up to NAME_MAX already), made with
    # O_EXCL and mode 0600: nothing existing is touched, and nobody else reads it half-written.
    fd, partial = tempfile.mkstemp(prefix=f".{os.path.basename(real)[:64]}.", suffix=PARTIAL_SUFFIX, dir=directory)
    committed = False
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
        os.chmod(partial, stat.S_IMODE(old.st_mode) if old is not None else 0o666 & ~_umask())
        if old is not None and os.geteuid() == 0 and (old.st_uid, old.st_gid) != (os.getuid(), os.getgid()):
            os.chown(partial, old.st_uid, old.st_gid)
        os.replace(partial, real)
        committed = True
    finally:
        if not committed:
            with suppress(FileNotFoundError):
                os.unlink(partial)


def _umask() -> int:
    """The process's umask, read without changing it (Linux: /proc/self/status)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # elsewhere: read by setting it, and put back at once
    os.umask(mask)
    return mask
