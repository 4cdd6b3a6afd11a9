"""A database on a network share (SMB/CIFS, NFS; a UNC path or a mapped drive on Windows) is refused with one
Chinese message that points to a local copy or the shared-server mode, and nothing is written anywhere."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jzair_desktop.cli import main
from jzair_desktop.errors import DatabaseError
from jzair_desktop.services.database import open_database
from jzair_desktop.storage import netshare
from jzair_desktop.storage.engine import sqlite_url

MOUNTINFO_LINE = "{id} 1 0:{id} / {point} rw,relatime shared:1 - {fstype} {source} rw\n"


def _mountinfo(*mounts: tuple[str, str, str]) -> str:
    text = MOUNTINFO_LINE.format(id=20, point="/", fstype="ext4", source="/dev/vda")
    for i, (point, fstype, source) in enumerate(mounts, start=21):
        escaped = point.replace("\\", "\\134").replace(" ", "\\040").replace("\t", "\\011").replace("\n", "\\012")
        text += MOUNTINFO_LINE.format(id=i, point=escaped, fstype=fstype, source=source)
    return text


def _assert_network_refusal(message: str, path_text: str) -> None:
    assert "网络共享" in message
    assert path_text in message
    assert "复制到本机硬盘" in message and "共享服务器模式" in message


# --- Linux: the file system of the mount holding the path ---------------------------------------------------


@pytest.mark.parametrize("fstype", ["nfs", "nfs4", "cifs", "smb3", "smbfs", "fuse.sshfs"])
def test_linux_network_file_systems_are_recognised(fstype):
    info = _mountinfo(("/mnt/共享 盘", fstype, "//server/share"))
    assert netshare.linux_network_location("/mnt/共享 盘/台账/x.sqlite3", info) == f"{fstype} //server/share"
    assert netshare.linux_network_location("/mnt/共享 盘", info) is not None
    assert netshare.linux_network_location("/mnt/共享 盘2/x.sqlite3", info) is None  # a sibling, not inside
    assert netshare.linux_network_location("/home/u/x.sqlite3", info) is None


def test_linux_the_longest_mount_point_decides():
    info = _mountinfo(("/srv", "nfs4", "nas:/srv"), ("/srv/local", "ext4", "/dev/vdb"))
    assert netshare.linux_network_location("/srv/local/x.sqlite3", info) is None
    assert netshare.linux_network_location("/srv/other/x.sqlite3", info) == "nfs4 nas:/srv"


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00/"), min_size=1))
def test_mountinfo_escapes_round_trip(name):
    point = "/mnt/" + name
    info = _mountinfo((point, "cifs", "//s/x"))
    assert (point, "cifs", "//s/x") in netshare.parse_mountinfo(info)


def _fake_mountinfo(tmp_path: Path, monkeypatch, share: Path, fstype: str = "cifs") -> None:
    real = os.path.realpath(share)
    file = tmp_path / "mountinfo"
    file.write_text(_mountinfo((real, fstype, "//文件服务器/台账")), encoding="utf-8")
    monkeypatch.setattr(netshare, "MOUNTINFO", file)


# --- Windows: UNC paths and mapped network drives ------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "where"),
    [
        (r"\\server\share\台账\x.sqlite3", r"\\server\share"),
        (r"\\?\UNC\server\share\x.sqlite3", r"\\server\share"),
        ("//server/share/x.sqlite3", r"\\server\share"),
        (r"\\?\C:\台账\x.sqlite3", None),
        (r"C:\台账\x.sqlite3", None),
        (r"Z:\台账\x.sqlite3", "Z:"),
        (r"z:\x.sqlite3", "Z:"),
    ],
)
def test_windows_unc_paths_and_network_drives(path, where):
    def drive_type(root: str) -> int:
        return netshare.DRIVE_REMOTE if root == "Z:\\" else 3  # DRIVE_FIXED

    assert netshare.windows_network_location(path, drive_type) == where


# --- The refusal, through the real open path and the CLI -----------------------------------------------------


def _network_db(tmp_path: Path, monkeypatch) -> str:
    """A database path that is on a network share on this platform, as the user would type it."""
    if sys.platform == "win32":
        return r"\\jzair-no-such-server\共享\台账.sqlite3"  # refused by its spelling, no network call
    share = tmp_path / "共享"
    share.mkdir()
    _fake_mountinfo(tmp_path, monkeypatch, share)
    return str(share / "台账.sqlite3")


def test_opening_a_database_on_a_share_is_refused_and_writes_nothing(tmp_path, monkeypatch):
    path = _network_db(tmp_path, monkeypatch)
    for create in (True, False):
        with pytest.raises(DatabaseError) as err:
            open_database(sqlite_url(Path(path)) if sys.platform != "win32" else "sqlite:///" + path, create=create)
        _assert_network_refusal(str(err.value), "台账.sqlite3")
    if sys.platform != "win32":
        assert os.listdir(Path(path).parent) == []


def test_an_existing_database_copied_onto_a_share_is_refused_unchanged(tmp_path, monkeypatch, db_path):
    if sys.platform == "win32":
        pytest.skip("the Linux half: a real file under a (simulated) CIFS mount; Windows: the UNC tests")
    database, _ = open_database(sqlite_url(db_path), create=True)
    database.dispose()
    before = db_path.read_bytes()
    _fake_mountinfo(tmp_path, monkeypatch, db_path.parent, fstype="nfs4")
    with pytest.raises(DatabaseError) as err:
        open_database(sqlite_url(db_path))
    _assert_network_refusal(str(err.value), str(db_path))
    assert "nfs4" in str(err.value)
    assert db_path.read_bytes() == before
    assert not Path(str(db_path) + "-wal").exists()


def test_the_cli_refuses_a_database_on_a_share(tmp_path, monkeypatch, capsys):
    path = _network_db(tmp_path, monkeypatch)
    assert main(["--db", path, "init"]) == DatabaseError.exit_code
    err = capsys.readouterr().err
    assert err.startswith("错误：")
    _assert_network_refusal(err, "台账.sqlite3")


@pytest.mark.skipif(not os.environ.get("JZAIR_TEST_NETWORK_DRIVE"), reason="needs a mapped network drive")
def test_a_real_mapped_network_drive_is_refused(capsys):
    """.ci/windows maps a drive letter as a network drive in Wine (JZAIR_TEST_NETWORK_DRIVE=N:) and asks the
    real GetDriveTypeW; on a Windows PC, map a share and set the variable to run this by hand."""
    drive = os.environ["JZAIR_TEST_NETWORK_DRIVE"].rstrip("\\")
    assert netshare.network_location(drive + "\\x.sqlite3") == drive.upper()
    assert main(["--db", drive + "\\台账.sqlite3", "init"]) == DatabaseError.exit_code
    _assert_network_refusal(capsys.readouterr().err, "台账.sqlite3")
