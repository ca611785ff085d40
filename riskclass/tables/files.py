"""Writing files whole or not at all: batch outputs, reports and the terminal app's exports share one mechanism.

Standard library only, so importing it keeps `riskclass --help` instant.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path
from typing import BinaryIO

from riskclass.errors import InputError


def default_mode(mode: int) -> int:
    """`mode` (0o666 for a file, 0o777 for a directory) as the user's umask leaves it: what a new file would get."""
    umask = os.umask(0)
    os.umask(umask)
    return mode & ~umask


class AtomicOutput:
    """A hidden temporary file beside `path`, renamed over it by `commit` once complete and on disk; removed if not."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.stream: BinaryIO | None = None
        self.tmp: str | None = None

    def __enter__(self) -> BinaryIO:
        if self.path == "-":
            return sys.stdout.buffer
        directory = os.path.dirname(os.path.abspath(self.path))
        fd, self.tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(self.path)}.", suffix=".partial")
        self.stream = os.fdopen(fd, "wb")
        return self.stream

    def commit(self) -> None:
        if self.path == "-":
            sys.stdout.buffer.flush()
            return
        assert self.stream is not None and self.tmp is not None
        self.stream.flush()
        os.fsync(self.stream.fileno())
        self.stream.close()
        mode = os.stat(self.path).st_mode & 0o7777 if os.path.exists(self.path) else default_mode(0o666)
        os.chmod(self.tmp, mode)  # mkstemp makes it 0600; the output should look like any file the user writes
        os.replace(self.tmp, self.path)
        self.tmp = None
        try:
            dir_fd = os.open(os.path.dirname(os.path.abspath(self.path)), os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(dir_fd)  # the rename itself survives a crash
        except OSError:
            pass
        finally:
            os.close(dir_fd)

    def __exit__(self, *exc: object) -> None:
        if self.stream is not None and not self.stream.closed:
            self.stream.close()
        if self.tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.tmp)
            self.tmp = None


def write_text_atomic(path: str | os.PathLike, text: str, force: bool = False) -> None:
    """Write a whole UTF-8 text file or nothing (an AtomicOutput). An existing file is kept unless `force`."""
    path = Path(path)
    if path.exists() and not force:
        raise InputError(f"{path} exists: pass --force to overwrite it")
    if path.is_dir():
        raise InputError(f"{path} is a directory")
    output = AtomicOutput(str(path))
    try:
        with output as stream:
            stream.write(text.encode("utf-8"))
            output.commit()
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
