"""Is a database file on a network share? SQLite over SMB/NFS is unsafe (its locks are not reliable there),
so the application refuses such a file with one message, on Windows and on Linux alike.

- Windows: a UNC path (``\\\\server\\share\\…``, also ``\\\\?\\UNC\\…``) or a drive letter whose type is
  DRIVE_REMOTE (a mapped network drive), asked of ``GetDriveTypeW``.
- Linux: the file system of the longest mount point holding the path, read from ``/proc/self/mountinfo``
  (NFS, SMB/CIFS and the other network file systems below).

No Qt; nothing here touches the network (a UNC path is recognised by its spelling before any file call).
"""

from __future__ import annotations

import os
import posixpath
import sys
from collections.abc import Callable
from pathlib import Path, PureWindowsPath

NETWORK_SHARE_MESSAGE = (
    "数据库文件位于网络共享（{where}）上：{path}\n"
    "多台电脑通过网络共享同时使用同一个数据库文件会损坏数据，本程序不打开网络上的数据库。"
    "请把数据库文件复制到本机硬盘（如“文档”文件夹）后用 --db 指定这份本地副本，"
    "或改用共享服务器模式（以后的版本提供）。"
)

# Linux file-system types that live on another machine.
NETWORK_FSTYPES = frozenset(
    {
        "nfs", "nfs4", "cifs", "smb3", "smbfs", "ncpfs", "afs", "coda", "ceph", "glusterfs",
        "fuse.glusterfs", "fuse.sshfs", "sshfs", "fuse.smbnetfs", "fuse.cephfs", "lustre", "gpfs",
    }
)

DRIVE_REMOTE = 4  # GetDriveTypeW
MOUNTINFO = Path("/proc/self/mountinfo")


def is_unc(path: str) -> bool:
    """A Windows UNC path (\\\\server\\share…, also \\\\?\\UNC\\…), on Windows only."""
    if sys.platform != "win32":
        return False
    text = path.replace("/", "\\")
    return text.startswith("\\\\") and not text.upper().startswith(("\\\\?\\", "\\\\.\\")) or text.upper().startswith(
        "\\\\?\\UNC\\"
    )


def windows_network_location(path: str, drive_type: Callable[[str], int] | None = None) -> str | None:
    """'\\\\server\\share' for a UNC path, 'Z:' for a mapped network drive, None for a local path.

    `drive_type(root)` answers GetDriveTypeW for a drive root such as 'Z:\\' (the real API by default)."""
    text = str(path).replace("/", "\\")
    upper = text.upper()
    if upper.startswith("\\\\?\\UNC\\"):
        text = "\\\\" + text[8:]
    elif upper.startswith(("\\\\?\\", "\\\\.\\")):
        text = text[4:]
    if text.startswith("\\\\"):
        parts = [p for p in text[2:].split("\\") if p]
        return "\\\\" + "\\".join(parts[:2]) if parts else "\\\\"
    drive = PureWindowsPath(text).drive
    if len(drive) == 2 and drive[1] == ":":
        ask = drive_type or _get_drive_type
        if ask(drive.upper() + "\\") == DRIVE_REMOTE:
            return drive.upper()
    return None


def _get_drive_type(root: str) -> int:
    if sys.platform != "win32":
        return 0
    import ctypes

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    kernel32.GetDriveTypeW.argtypes = [ctypes.c_wchar_p]
    kernel32.GetDriveTypeW.restype = ctypes.c_uint
    return int(kernel32.GetDriveTypeW(root))


def _unescape_mount_field(field: str) -> str:
    """mountinfo writes space, tab, newline and backslash in paths as octal escapes (\\040 …)."""
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and i + 3 < len(field) and field[i + 1 : i + 4].isdigit():
            out.append(chr(int(field[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def parse_mountinfo(text: str) -> list[tuple[str, str, str]]:
    """(mount point, file-system type, source) for each line of /proc/self/mountinfo."""
    mounts = []
    for line in text.split("\n"):  # only \n ends a line; other control characters are kept as they are
        left, sep, right = line.partition(" - ")
        if not sep:
            continue
        fields, tail = left.split(" "), right.split(" ")  # the kernel separates fields by one space
        if len(fields) < 5 or len(tail) < 2:
            continue
        mounts.append((_unescape_mount_field(fields[4]), tail[0], _unescape_mount_field(tail[1])))
    return mounts


def linux_network_location(path: str | Path, mountinfo: str | None = None) -> str | None:
    """'nfs4 server:/export' when `path` lies on a network file system, else None.

    Without `mountinfo`, /proc/self/mountinfo is read (None where it cannot be) and the path is resolved
    (symbolic links followed) as far as it exists; with it, `path` is taken as it is."""
    if mountinfo is None:
        try:
            mountinfo = MOUNTINFO.read_text(encoding="utf-8", errors="surrogateescape")
        except OSError:
            return None
        target = _existing_resolved(Path(path))
    else:  # the rule alone, on any platform: `path` is taken as an absolute POSIX path
        target = posixpath.normpath(str(path))
    best: tuple[str, str, str] | None = None
    for mount_point, fstype, source in parse_mountinfo(mountinfo):
        if _is_under(target, mount_point) and (best is None or len(mount_point) >= len(best[0])):
            best = (mount_point, fstype, source)
    if best is None:
        return None
    fstype = best[1]
    if fstype in NETWORK_FSTYPES or fstype.split(".")[0] in {"nfs", "cifs", "smb3"}:
        return f"{fstype} {best[2]}"
    return None


def _existing_resolved(path: Path) -> str:
    path = Path(os.path.abspath(path))
    tail: list[str] = []
    while not path.exists() and path.parent != path:
        tail.insert(0, path.name)
        path = path.parent
    try:
        path = path.resolve()
    except OSError:
        pass
    return str(path.joinpath(*tail)) if tail else str(path)


def _is_under(path: str, mount_point: str) -> bool:
    if mount_point == "/":
        return path.startswith("/")
    return path == mount_point or path.startswith(mount_point.rstrip("/") + "/")


def network_location(path: str | Path) -> str | None:
    """Where the network share is ('\\\\server\\share', 'Z:', 'cifs //server/share'), or None when local."""
    if sys.platform == "win32":
        return windows_network_location(str(path))
    if sys.platform.startswith("linux"):
        return linux_network_location(path)
    return None


def network_share_message(path: str | Path, where: str) -> str:
    return NETWORK_SHARE_MESSAGE.format(where=where, path=path)
