"""The data package file (报送包, *.jzpkg): a signed zip of JSON Lines members. No database, no Qt.

Layout (format version 1; README "报送包格式 / Package format" documents it for people):
  manifest.json   what the package is (kind, unit, month, sequence, who and when, schema revision),
                  the SHA-256, size and record count of every other member, and the signer's public key
  signature.sig   the 64-byte Ed25519 signature of the exact bytes of manifest.json
  *.jsonl         one JSON object per line, UTF-8; which members a package holds depends on its kind

`read_package` checks a file completely before anything uses it: the zip's structure and member names
(no paths), sizes and compression ratios (no zip bombs), the manifest's fields, the signature and every
member's hash. Members are read into memory with size limits; nothing is ever extracted to disk.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import json
import os
import re
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from jzair_desktop.domain.ledgers import LEDGERS
from jzair_desktop.domain.months import MONTH_TEXT
from jzair_desktop.domain.validation import loads_finite
from jzair_desktop.errors import JzairError
from jzair_desktop.fsutil import replace_file

FORMAT = "jzair-package"
FORMAT_VERSION = 1
SUFFIX = ".jzpkg"

KIND_COUNTY = "county"
KIND_TARGETS = "targets"
KIND_LABELS = {KIND_COUNTY: "县级报送包", KIND_TARGETS: "市级任务包"}

MANIFEST = "manifest.json"
SIGNATURE = "signature.sig"


def ledger_members() -> tuple[str, ...]:
    """The members holding the ledgers' records, one per registered ledger (LedgerDef.member)."""
    return tuple(d.member for d in LEDGERS.values())


_OTHER_MEMBERS: dict[str, tuple[str, ...]] = {
    KIND_COUNTY: (
        "closeouts.jsonl",
        "monthly_figures.jsonl",
        "air_quality.jsonl",
        "submissions.jsonl",
        "audit.jsonl",
    ),
    KIND_TARGETS: ("county_targets.jsonl", "air_quality_targets.jsonl"),
}


class _Members(Mapping[str, tuple[str, ...]]):
    """The members every package of a kind holds; a county package's ledger members come from the registry."""

    def __getitem__(self, kind: str) -> tuple[str, ...]:
        others = _OTHER_MEMBERS[kind]
        return (*ledger_members(), *others) if kind == KIND_COUNTY else others

    def __iter__(self) -> Iterator[str]:
        return iter(_OTHER_MEMBERS)

    def __len__(self) -> int:
        return len(_OTHER_MEMBERS)


MEMBERS: Mapping[str, tuple[str, ...]] = _Members()
# Members a package may lack (written since a later version): a county package's audit chain links
# (seq and hash of every entry of the county's chain, the head in the manifest's "audit_head") and its
# milestones (节点任务: the day each was done and the evidence).
CHAIN_MEMBER = "audit_chain.jsonl"
MILESTONES_MEMBER = "milestones.jsonl"
OPTIONAL_MEMBERS: dict[str, tuple[str, ...]] = {KIND_COUNTY: (CHAIN_MEMBER, MILESTONES_MEMBER), KIND_TARGETS: ()}

MB = 1024 * 1024
MAX_FILE_BYTES = 200 * MB  # the package file itself
MAX_UNPACKED_BYTES = 200 * MB  # all members together, unpacked
MAX_RATIO = 100  # unpacked size / compressed size of any member
MAX_MANIFEST_BYTES = 1 * MB
MAX_ENTRIES = 32
SIGNATURE_BYTES = 64
COMPRESS_LEVEL = 3  # deflate: most of level 9's saving on JSON Lines at a fraction of its time

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_UNIT = re.compile(r"^\d{6}$")
_DRIVE = re.compile(r"^[A-Za-z]:")


class PackageError(JzairError):
    """A package file that cannot be accepted; the message names the file and the reason."""


# --- keys and fingerprints ------------------------------------------------------------------------


def new_private_key() -> bytes:
    """A fresh Ed25519 private key, raw 32 bytes."""
    return Ed25519PrivateKey.generate().private_bytes_raw()


def public_key_of(private_key: bytes) -> bytes:
    return Ed25519PrivateKey.from_private_bytes(private_key).public_key().public_bytes_raw()


def sign(private_key: bytes, data: bytes) -> bytes:
    return Ed25519PrivateKey.from_private_bytes(private_key).sign(data)


def signature_valid(public_key: bytes, signature: bytes, data: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, data)
    except (InvalidSignature, ValueError):
        return False
    return True


def fingerprint_of(public_key: bytes) -> str:
    """SHA-256 of the raw public key, lower-case hex (64 characters)."""
    return hashlib.sha256(public_key).hexdigest()


def format_fingerprint(fingerprint: str) -> str:
    """For reading aloud: upper-case groups of four, e.g. '3F2A 9C01 …' (16 groups)."""
    text = fingerprint.upper()
    return " ".join(text[i:i + 4] for i in range(0, len(text), 4))


def parse_fingerprint(text: str) -> str:
    """A fingerprint as typed (any case, spaces, dashes or colons between groups) → 64 lower-case hex."""
    cleaned = re.sub(r"[\s:\-]", "", str(text or "")).lower()
    if not _HEX64.match(cleaned):
        raise JzairError(
            f"公钥指纹格式不正确：“{str(text)[:100]}”。应为 64 位十六进制字符（0-9、A-F），"
            "通常分为 16 组、每组 4 个字符。"
        )
    return cleaned


# --- JSON Lines -----------------------------------------------------------------------------------


def _iso(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


# One encoder for every line (json.dumps with options builds a new one per call).
_LINE = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False, default=_iso)


def dumps(obj: Any) -> str:
    """One JSON line: sorted keys, no spaces, Chinese as is, dates and datetimes ISO 8601, floats by
    repr (they read back exactly)."""
    return _LINE.encode(obj)


def jsonl_bytes(rows: Iterable[Mapping[str, Any]]) -> bytes:
    text = "\n".join(map(_LINE.encode, rows))
    return (text + "\n").encode("utf-8") if text else b""


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


# A number literal that could overflow to infinity (1e400, or hundreds of digits): only then is each float
# checked as it is read (a check per float would slow the import of a large package).
_HUGE_LITERAL = re.compile(r"[0-9][eE]\+?[0-9]{3}|[0-9]{300}")


def _loads(text: str) -> Any:
    """json.loads refusing NaN and Infinity, and numbers that read as infinity (ValueError)."""
    if _HUGE_LITERAL.search(text):
        return loads_finite(text)
    return json.loads(text, parse_constant=_reject_constant)


def parse_jsonl(member: str, data: bytes, *, where: str = "") -> list[dict[str, Any]]:
    """The objects of a JSON Lines member; a PackageError names the member and line of anything else."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PackageError(f"{where}文件 {member} 不是 UTF-8 文本（第 {exc.start} 字节起无法解码）。") from None
    if not text:
        return []
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    # Fast path: all lines as one JSON array (one call into the C parser); anything unusual is
    # parsed again line by line, which names the line at fault.
    try:
        rows = _loads("[" + ",".join(lines) + "]")
        if len(rows) == len(lines) and all(type(r) is dict for r in rows):
            return rows
    except ValueError:
        pass
    rows = []
    for n, line in enumerate(lines, start=1):
        try:
            obj = _loads(line)
        except ValueError:
            raise PackageError(f"{where}文件 {member} 第 {n} 行不是有效的 JSON。") from None
        if not isinstance(obj, dict):
            raise PackageError(f"{where}文件 {member} 第 {n} 行应为一个 JSON 对象。")
        rows.append(obj)
    return rows


# --- writing --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Written:
    path: Path
    manifest: dict[str, Any]
    manifest_sha256: str
    size: int


def manifest_bytes(manifest: Mapping[str, Any]) -> bytes:
    return (json.dumps(manifest, ensure_ascii=False, sort_keys=True, indent=2, allow_nan=False) + "\n").encode("utf-8")


def write_package(
    path: Path | str,
    manifest: Mapping[str, Any],
    members: Mapping[str, bytes],
    *,
    private_key: bytes,
    records: Mapping[str, int] | None = None,
) -> Written:
    """Write a signed package: `manifest` gets "members" (hash, size, records) and "signer" added.

    Written to a temporary file beside `path` first and moved into place with os.replace, so an
    interrupted write never leaves a half-written package under the final name.
    """
    path = Path(path)
    public_key = public_key_of(private_key)
    full = dict(manifest)
    full["members"] = {
        name: {
            "sha256": hashlib.sha256(data).hexdigest(),
            "size": len(data),
            "records": int((records or {}).get(name, 0)),
        }
        for name, data in members.items()
    }
    full["signer"] = {"public_key": public_key.hex(), "fingerprint": fingerprint_of(public_key)}
    body = manifest_bytes(full)
    signature = sign(private_key, body)
    folder = path.parent if str(path.parent) else Path(".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=".jzpkg-", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise JzairError(f"无法在文件夹中写入报送包：{folder}（{exc.strerror or exc}）") from exc
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh, zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED,
                                                          compresslevel=COMPRESS_LEVEL) as zf:
            zf.writestr(_entry(MANIFEST), body, compresslevel=COMPRESS_LEVEL)
            zf.writestr(_entry(SIGNATURE), signature, compress_type=zipfile.ZIP_STORED)
            for name, data in members.items():
                zf.writestr(_entry(name), data, compresslevel=COMPRESS_LEVEL)
        size = tmp.stat().st_size
        replace_file(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise JzairError(f"写入报送包失败：{path}（{exc.strerror or exc}）。没有生成报送包。") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return Written(path, full, hashlib.sha256(body).hexdigest(), size)


def _entry(name: str) -> zipfile.ZipInfo:
    # A fixed timestamp: the bytes of a package depend on its content only.
    info = zipfile.ZipInfo(name, date_time=(2020, 10, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


# --- reading --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignedPackage:
    """A package that passed every check of the file itself (not yet those against a database)."""

    path: Path
    manifest: dict[str, Any]
    manifest_sha256: str
    members: dict[str, bytes]
    public_key: bytes
    fingerprint: str
    _parsed: dict[str, list[dict[str, Any]]] = field(default_factory=dict, repr=False, compare=False)

    @property
    def kind(self) -> str:
        return self.manifest["kind"]

    @property
    def sequence(self) -> int:
        return self.manifest["sequence"]

    @property
    def unit_code(self) -> str | None:
        return self.manifest.get("unit_code")

    @property
    def month(self) -> str | None:
        return self.manifest.get("month")

    def rows(self, member: str) -> list[dict[str, Any]]:
        """The member's JSON Lines objects (parsed once)."""
        rows = self._parsed.get(member)
        if rows is None:
            rows = self._parsed[member] = parse_jsonl(member, self.members[member], where=f"报送包“{self.path.name}”被拒绝：")
        return rows


def unsafe_name(name: str) -> bool:
    """A member name that is a path rather than a plain file name (../, absolute, drive, backslash)."""
    if not name or "\x00" in name or "\\" in name or name.startswith("/") or _DRIVE.match(name):
        return True
    parts = name.split("/")
    return any(p in ("", ".", "..") for p in parts) or len(parts) > 1


def read_package(
    path: Path | str, *, schema_revision: str, progress: Callable[[str], None] | None = None
) -> SignedPackage:
    """Open and check a package file completely; raise PackageError (Chinese, naming the reason) otherwise.

    Checks, in order: the file; the zip's directory; member names; total unpacked size and each member's
    compression ratio; the manifest's fields, format and format version; the signature; the schema
    revision; the set of members; each member's size and SHA-256.
    """
    path = Path(path)
    label = f"报送包“{path.name}”"
    say = progress or (lambda _text: None)

    def refuse(reason: str) -> PackageError:
        return PackageError(f"{label}被拒绝：{reason}")

    try:
        if not path.is_file():
            raise PackageError(f"找不到报送包文件：{path}")
        size = path.stat().st_size
    except OSError as exc:
        raise PackageError(f"无法读取报送包文件：{path}（{exc.strerror or exc}）") from exc
    if size == 0:
        raise refuse("文件是空的（0 字节），可能复制不完整。")
    if size > MAX_FILE_BYTES:
        raise refuse(f"文件大小 {size / MB:.1f} MB 超过 {MAX_FILE_BYTES // MB} MB 上限。")

    say("正在检查报送包结构……")
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            _check_directory(infos, refuse)
            manifest_raw = _read_member(zf, zf.getinfo(MANIFEST), MAX_MANIFEST_BYTES, refuse)
            signature = _read_member(zf, zf.getinfo(SIGNATURE), SIGNATURE_BYTES, refuse)
            manifest = _parse_manifest(manifest_raw, refuse)
            public_key = bytes.fromhex(manifest["signer"]["public_key"])
            if len(signature) != SIGNATURE_BYTES or not signature_valid(public_key, signature, manifest_raw):
                raise refuse("数字签名无效：清单（manifest.json）在签名后被改动过，或签名不是用包中声明的密钥生成的。"
                              "报送包可能被篡改或损坏。")
            if fingerprint_of(public_key) != manifest["signer"]["fingerprint"]:
                raise refuse("清单中签名公钥的指纹与公钥不符。")
            if manifest["schema_revision"] != schema_revision:
                raise refuse(
                    f"数据库架构版本不同：报送包由架构版本 {manifest['schema_revision']} 的程序生成，"
                    f"本机程序的架构版本是 {schema_revision}。请双方安装同一版本的程序后重新导出。"
                )
            declared = manifest["members"]
            present = [i.filename for i in infos if i.filename not in (MANIFEST, SIGNATURE)]
            expected = (*MEMBERS[manifest["kind"]],
                        *(m for m in OPTIONAL_MEMBERS[manifest["kind"]] if m in present or m in declared))
            extra = sorted(set(present) - set(expected))
            if extra:
                raise refuse(f"包含不应有的文件：{'、'.join(extra)}。")
            missing = sorted(set(expected) - set(present))
            if missing:
                raise refuse(f"缺少文件：{'、'.join(missing)}。")
            if set(declared) != set(expected):
                raise refuse("清单中列出的文件与报送包的内容不一致。")
            members: dict[str, bytes] = {}
            for n, name in enumerate(expected, start=1):
                say(f"正在校验文件 {n}/{len(expected)}：{name}……")
                info = zf.getinfo(name)
                want = declared[name]
                if info.file_size != want["size"]:
                    raise refuse(f"文件 {name} 的大小与清单不符（清单 {want['size']} 字节，实际 {info.file_size} 字节）。")
                data = _read_member(zf, info, want["size"], refuse)
                if hashlib.sha256(data).hexdigest() != want["sha256"]:
                    raise refuse(f"文件 {name} 的校验值（SHA-256）与清单不符，内容已被改动或损坏。")
                members[name] = data
    except PackageError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, zlib.error, EOFError,
            KeyError, ValueError, OverflowError, struct.error) as exc:
        # What zipfile raises for damaged bytes: an unknown "version needed" or compression method
        # (NotImplementedError), a flipped encryption flag (RuntimeError), bad lengths, CRC or deflate data.
        raise refuse(f"文件已损坏或不完整，不是有效的报送包（{_zip_reason(exc)}）。") from exc
    except OSError as exc:
        if exc.errno == errno.EINVAL:  # a seek to a damaged offset
            raise refuse("文件已损坏或不完整，不是有效的报送包（ZIP 结构错误）。") from exc
        raise PackageError(f"无法读取报送包文件：{path}（{exc.strerror or exc}）") from exc
    return SignedPackage(path, manifest, hashlib.sha256(manifest_raw).hexdigest(), members, public_key,
                         manifest["signer"]["fingerprint"])


def _zip_reason(exc: BaseException) -> str:
    text = str(exc)
    if "CRC" in text:
        return "校验和错误"
    if isinstance(exc, KeyError):
        return "缺少必要的文件"
    if "File is not a zip file" in text or "not a zip file" in text:
        return "不是 ZIP 文件或文件末尾缺失"
    if isinstance(exc, zlib.error | EOFError):
        return "压缩数据损坏"
    if isinstance(exc, NotImplementedError | RuntimeError):
        return "ZIP 版本、压缩方式或加密标志不正确"
    return "ZIP 结构错误"


def _check_directory(infos: list[zipfile.ZipInfo], refuse: Callable[[str], PackageError]) -> None:
    if len(infos) > MAX_ENTRIES:
        raise refuse(f"包含 {len(infos)} 个文件，超过上限 {MAX_ENTRIES} 个。")
    seen: set[str] = set()
    for info in infos:
        name = info.filename
        if unsafe_name(name):
            raise refuse(f"包含不安全的文件路径“{name[:80]}”（带目录、“../”或绝对路径），可能是恶意文件。")
        if name in seen:
            raise refuse(f"文件 {name} 重复出现。")
        seen.add(name)
        if info.flag_bits & 0x1:
            raise refuse(f"文件 {name} 已加密，报送包不应加密。")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise refuse(f"文件 {name} 使用了不支持的压缩方式。")
    total = sum(i.file_size for i in infos)
    if total > MAX_UNPACKED_BYTES:
        raise refuse(f"解压后总大小 {total / MB:.0f} MB 超过 {MAX_UNPACKED_BYTES // MB} MB 上限（可能是“压缩炸弹”）。")
    for info in infos:
        if info.file_size == 0:
            continue
        ratio = info.file_size / max(info.compress_size, 1)
        if ratio > MAX_RATIO:
            raise refuse(f"文件 {info.filename} 的压缩比约为 {ratio:.0f} 倍，超过 {MAX_RATIO} 倍上限（可能是“压缩炸弹”）。")
    for required in (MANIFEST, SIGNATURE):
        if required not in seen:
            raise refuse(f"缺少文件 {required}，不是有效的报送包。")


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, refuse: Callable[[str], PackageError]) -> bytes:
    """A member's bytes, never more than `limit` (whatever its header claims)."""
    if info.file_size > limit:
        raise refuse(f"文件 {info.filename} 过大（{info.file_size} 字节，上限 {limit} 字节）。")
    with zf.open(info) as fh:
        data = fh.read(limit + 1)
    if len(data) > limit or len(data) != info.file_size:
        raise refuse(f"文件 {info.filename} 的实际大小与记录的大小不符。")
    return data


def _parse_manifest(raw: bytes, refuse: Callable[[str], PackageError]) -> dict[str, Any]:
    try:
        manifest = _loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise refuse("清单（manifest.json）不是有效的 JSON。") from None
    if not isinstance(manifest, dict):
        raise refuse("清单（manifest.json）格式不正确。")
    if manifest.get("format") != FORMAT:
        raise refuse("不是本程序的报送包（清单中的格式标识不符）。")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise refuse(f"报送包格式版本为 {version}，本程序只支持格式版本 {FORMAT_VERSION}。请双方安装同一版本的程序。")

    def need(key: str, kinds: type | tuple[type, ...], *, optional: bool = False) -> Any:
        value = manifest.get(key)
        if value is None and optional:
            return None
        if not isinstance(value, kinds) or isinstance(value, bool):
            raise refuse(f"清单（manifest.json）中的“{key}”缺失或类型不正确。")
        return value

    kind = need("kind", str)
    if kind not in MEMBERS:
        raise refuse(f"未知的报送包类型“{kind[:20]}”。")
    need("schema_revision", str)
    if len(need("created_by", str)) > 64 or len(need("app_version", str)) > 16:
        raise refuse("清单中的导出人或程序版本过长。")
    try:
        created = dt.datetime.fromisoformat(need("created_at", str))
    except ValueError:
        created = None
    if created is None or created.tzinfo is not None:
        raise refuse("清单中的导出时间格式不正确。")
    sequence = need("sequence", int)
    if sequence < 1:
        raise refuse("清单中的序号必须是正整数。")
    counts = need("counts", dict)
    if any(not isinstance(v, int) or isinstance(v, bool) for v in counts.values()):
        raise refuse("清单（manifest.json）中的“counts”格式不正确。")
    if kind == KIND_COUNTY:
        unit = need("unit_code", str)
        need("unit_name", str)
        month = need("month", str)
        if not _UNIT.match(unit):
            raise refuse(f"清单中的县（区、市）代码“{unit[:20]}”格式不正确。")
        if not MONTH_TEXT.match(month):
            raise refuse(f"清单中的月份“{month[:20]}”格式不正确。")
    members = need("members", dict)
    for name, meta in members.items():
        if not isinstance(meta, dict):
            raise refuse(f"清单中文件 {name} 的说明格式不正确。")
        sha, size, records = meta.get("sha256"), meta.get("size"), meta.get("records")
        if not isinstance(sha, str) or not _HEX64.match(sha):
            raise refuse(f"清单中文件 {name} 的校验值格式不正确。")
        for value in (size, records):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise refuse(f"清单中文件 {name} 的大小或记录数格式不正确。")
    signer = need("signer", dict)
    key, fp = signer.get("public_key"), signer.get("fingerprint")
    if not isinstance(key, str) or not re.fullmatch(r"[0-9a-f]{64}", key):
        raise refuse("清单中的签名公钥格式不正确。")
    if not isinstance(fp, str) or not _HEX64.match(fp):
        raise refuse("清单中的公钥指纹格式不正确。")
    return manifest
