"""Writing files whole or not at all: batch outputs, reports and the terminal app's exports share one mechanism.

Standard library only, so importing it keeps `riskclass --help` instant.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import sys
import tempfile
from pathlib import Path
from typing import BinaryIO

from riskclass.errors import InputError, Text

# Write failures that mean the disk is full, not a fault of riskclass: no space, a quota, a file-size limit
# (`ulimit -f`, a FAT32 stick's 4 GiB). They are reported as one line with exit 2 (issue 12).
NO_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


STDOUT = Text("standard output", "标准输出")


def write_failure(exc: OSError, what: str | Text) -> Text:
    """One line naming `what` could not be written and why, in the words a user searches for ("no space left on"),
    in both languages (a path is the same in both)."""
    what = what if isinstance(what, Text) else Text(what, what)
    if exc.errno == errno.ENOSPC:
        why = Text("no space left on the device", "设备上没有剩余空间")
    elif exc.errno == errno.EDQUOT:
        why = Text("no space left on the device: disk quota exceeded", "设备上没有剩余空间：超出磁盘配额")
    elif exc.errno == errno.EFBIG:
        why = Text(
            "no space left on the device for a file this large (file size limit reached)",
            "设备上容不下这么大的文件（达到文件大小上限）",
        )
    elif exc.errno == errno.EROFS:
        why = Text("the file system is read-only", "文件系统为只读")
    else:
        why = Text((exc.strerror or str(exc)).lower(), exc.strerror or str(exc))
    stdout = what.en == STDOUT.en
    outcome = (
        Text("the output is incomplete", "输出不完整") if stdout else Text("nothing was written", "未写入任何内容")
    )
    return Text(f"cannot write {what.en}: {why.en}; {outcome.en}", f"无法写入{what.zh}：{why.zh}；{outcome.zh}")


def check_output_path(raw: str, force: bool = False) -> None:
    """Refuse, before any work, an output path that cannot be written: a name ending in /, a directory, a missing or
    unwritable parent, an existing file without `force`. The parent is probed by creating and removing a hidden file,
    which is the only test root, read-only mounts and ACLs all answer truthfully."""
    if raw == "-":
        return
    if raw.endswith(("/", os.sep)) or (os.altsep and raw.endswith(os.altsep)):
        raise InputError(
            f"{raw} ends in a path separator: give a file name, not a directory",
            zh=f"{raw} 以路径分隔符结尾：请给出文件名，而不是目录",
        )
    if os.path.isdir(raw):
        raise InputError(f"{raw} is a directory: give the output file's name", zh=f"{raw} 是目录：请给出输出文件的名字")
    directory = os.path.dirname(os.path.abspath(raw))
    if not os.path.isdir(directory):
        raise InputError(
            f"cannot write {raw}: the directory {directory} does not exist",
            zh=f"无法写入 {raw}：目录 {directory} 不存在",
        )
    if os.path.exists(raw) and not force:
        raise InputError(
            f"{raw} already exists: pass --force to replace it, or choose another name",
            zh=f"{raw} 已存在：加 --force 覆盖它，或另选一个名字",
        )
    probe_directory(directory, raw)


def probe_directory(directory: str, what: str | Text) -> None:
    """Create and remove a hidden file in `directory`: an InputError now rather than after the whole run."""
    try:
        fd, probe = tempfile.mkstemp(dir=directory, prefix=".riskclass-probe.", suffix=".partial")
    except OSError as exc:
        named = what if isinstance(what, Text) else Text(what, what)
        where = Text(f"{named.en} (in {directory})", f"{named.zh}（在 {directory} 中）")
        raise InputError(write_failure(exc, where)) from None
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(probe)


def not_a_data_file(mode: int, path: object, what: Text, option: str) -> Text | None:
    """Why a path of this `stat` mode cannot be a file riskclass keeps data in (the audit log, the register), naming
    the option that gives another path; None for a regular file. A directory cannot be opened as one, and a FIFO or
    device would block or never end (issue 12). The caller raises it as its own error."""
    if stat.S_ISDIR(mode):
        return Text(
            f"the {what.en} {path} is a directory: give a file path with {option}",
            f"{what.zh} {path} 是目录：请用 {option} 给出文件路径",
        )
    if not stat.S_ISREG(mode):
        return Text(
            f"the {what.en} {path} is not a regular file (a pipe, device or socket): give a file with {option}",
            f"{what.zh} {path} 不是普通文件（是管道、设备或套接字）：请用 {option} 给出文件",
        )
    return None


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
        check_output_path(self.path, force=True)  # a name ending in / would otherwise fail only at the rename
        directory = os.path.dirname(os.path.abspath(self.path))
        try:
            fd, self.tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(self.path)}.", suffix=".partial")
        except OSError as exc:
            raise InputError(write_failure(exc, self.path)) from None
        self.stream = os.fdopen(fd, "wb")
        return self.stream

    def flush(self) -> None:
        """Everything written so far on disk (where a full disk shows up last); `commit` then only renames."""
        if self.path == "-":
            sys.stdout.buffer.flush()
            return
        assert self.stream is not None and self.tmp is not None
        if self.stream.closed:
            return
        try:
            self.stream.flush()
            os.fsync(self.stream.fileno())
            self.stream.close()
        except OSError as exc:
            self._discard()
            raise InputError(write_failure(exc, self.path)) from None

    def commit(self) -> None:
        self.flush()
        if self.path == "-":
            return
        assert self.tmp is not None
        try:
            mode = os.stat(self.path).st_mode & 0o7777 if os.path.exists(self.path) else default_mode(0o666)
            os.chmod(self.tmp, mode)  # mkstemp makes it 0600; the output should look like any file the user writes
            os.replace(self.tmp, self.path)
        except OSError as exc:
            self._discard()
            raise InputError(write_failure(exc, self.path)) from None
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

    def _discard(self) -> None:
        """Close and remove the temporary file whatever state it is in (closing can fail again on a full disk)."""
        if self.stream is not None and not self.stream.closed:
            with contextlib.suppress(OSError):
                self.stream.close()
        if self.tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.tmp)
            self.tmp = None

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._discard()
        if isinstance(exc, OSError) and exc.errno in NO_SPACE:  # a write into the temporary file failed
            where = STDOUT if self.path == "-" else self.path
            raise InputError(write_failure(exc, where)) from None


def write_text_atomic(path: str | os.PathLike, text: str, force: bool = False) -> None:
    """Write a whole UTF-8 text file or nothing (an AtomicOutput). An existing file is kept unless `force`."""
    raw = os.fspath(path)
    if Path(raw).exists() and not force:
        raise InputError(f"{raw} exists: pass --force to overwrite it", zh=f"{raw} 已存在：加 --force 覆盖它")
    check_output_path(raw, force=True)
    output = AtomicOutput(raw)
    try:
        with output as stream:
            stream.write(text.encode("utf-8"))
            output.commit()
    except OSError as exc:
        raise InputError(write_failure(exc, raw)) from None
