"""The archive: every received file's bytes as received, found again by the path recorded with it.

One address, two layouts (`Submission.archive_path`, relative to the home):
- a file on its own (`submit FILE`, a file over the byte limit): `archive/ab/<sha256><suffix>`;
- a file of a batch (`submit FILE FILE...`): a member of the batch's pack,
  `archive/packs/ab/<pack>.zip!/<sha256><suffix>`. A pack is an uncompressed zip (any zip tool opens
  it; its members are the files' bytes unchanged), written in one pass and synced once: archiving
  thousands of files costs the disk one new file, not thousands (issue 16). The pack is named by
  its members, so a batch sent again after a crash lands on the same pack.

Either is written to a temporary `.part` file first and renamed into place just before the
transaction that records it commits (`keep_recorded`); bytes the archive already holds are not
written again. `pilotzones check` reads both layouts (`Reader`, `walk`).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, TypeVar

from sqlalchemy import select

from pilotzones.errors import ConfigError, os_reason
from pilotzones.settings import settings
from pilotzones.store import models as m
from pilotzones.store.locks import file_lock
from pilotzones.store.session import session

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from pilotzones.store.home import Home

PART = ".part"  # a file on its way into the archive (or the outbox, or the home)
WRITERS_LOCK = ".writers.lock"
PACKS = "packs"  # the folder of the packs, inside the archive
MEMBER = "!/"  # between a pack's path and a member's name in an archive path
_CHUNK = 2**20
T = TypeVar("T")


@dataclass(frozen=True)
class Entry:
    """Where a received file's bytes are kept, and what they are."""

    digest: str  # SHA-256, hex
    size: int
    rel: str  # its archive path, relative to the home


@dataclass
class Staged:
    """A file written to a temporary name in the archive, to be kept (put in place) or discarded."""

    home: Path
    rel: str  # its place, relative to the home
    tmp: Path | None  # None: nothing to put in place

    def keep(self) -> None:
        """Move the file to its place (atomic; another writer may have put the same bytes there)."""
        if self.tmp is None:
            return
        target = self.home / self.rel
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self.tmp, target)
        except OSError as exc:
            raise ConfigError(f"无法写入存档 {target.parent}：{os_reason(exc)}；请检查主目录的权限和剩余空间") from exc
        self.tmp = None

    def discard(self) -> None:
        if self.tmp is not None:
            self.tmp.unlink(missing_ok=True)
            self.tmp = None


def stage(home: Home, source: bytes | BinaryIO, filename: str) -> tuple[Entry, Staged]:
    """Write one received file aside in the archive, hashing it on the way.

    `source`: the file's bytes, or an open file too large to hold in memory (copied a megabyte
    at a time). Nothing is in the archive until `Staged.keep()`; a writer killed meanwhile
    leaves only its `.part` file (`pilotzones check --repair` removes it).
    """
    suffix = _suffix(filename)
    with _refused(home.archive):
        if isinstance(source, bytes):
            digest = hashlib.sha256(source).hexdigest()
            rel = _loose_rel(digest, suffix)
            kept = home.path / rel
            if kept.is_file() and kept.stat().st_size == len(source):
                return Entry(digest, len(source), rel), Staged(home.path, rel, None)
            tmp, _, size = _copy_in(home, [source])
        else:
            tmp, digest, size = _copy_in(home, iter(lambda: source.read(_CHUNK), b""))
            rel = _loose_rel(digest, suffix)
    return Entry(digest, size, rel), Staged(home.path, rel, tmp)


def stage_batch(home: Home, files: list[tuple[bytes, str]]) -> tuple[list[Entry], Staged]:
    """Write a batch of received files (bytes, filename) aside as one pack; one entry per file, in order.

    Bytes the archive already holds (recorded, and their file in place) keep their place; a batch
    that brings nothing new writes nothing.
    """
    digests = [hashlib.sha256(data).hexdigest() for data, _ in files]
    held = _held(home, set(digests))
    members: dict[str, bytes] = {}
    names = []
    for (data, filename), digest in zip(files, digests, strict=True):
        name = f"{digest}{_suffix(filename)}"
        names.append(name)
        if digest not in held:
            members.setdefault(name, data)
    if not members:
        entries = [Entry(d, len(data), held[d]) for (data, _), d in zip(files, digests, strict=True)]
        return entries, Staged(home.path, "", None)
    pack = hashlib.sha256("\n".join(members).encode()).hexdigest()
    pack_rel = str(Path("archive") / PACKS / pack[:2] / f"{pack}.zip")
    with _refused(home.archive):
        tmp = _write_pack(home, members)
    entries = [
        Entry(d, len(data), held.get(d) or f"{pack_rel}{MEMBER}{name}")
        for (data, _), d, name in zip(files, digests, names, strict=True)
    ]
    return entries, Staged(home.path, pack_rel, tmp)


def _held(home: Home, digests: set[str]) -> dict[str, str]:
    """Of these SHA-256 digests, those a recorded file already keeps in place: digest -> archive path."""
    found: dict[str, str] = {}
    wanted = sorted(digests)
    with session(home.db_url) as s:
        for start in range(0, len(wanted), 500):  # within any database's limit on bound parameters
            chunk = wanted[start : start + 500]
            rows = s.execute(
                select(m.Submission.sha256, m.Submission.archive_path).where(m.Submission.sha256.in_(chunk))
            )
            for digest, rel in rows:
                found.setdefault(digest, rel)
    # A kept file that has gone missing since (restored from no backup) is written again.
    return {d: rel for d, rel in found.items() if (home.path / rel.partition(MEMBER)[0]).is_file()}


def _write_pack(home: Home, members: dict[str, bytes]) -> Path:
    fd, name = tempfile.mkstemp(dir=home.archive, prefix="incoming-", suffix=PART)
    when = time.localtime()[:6]
    try:
        with os.fdopen(fd, "wb") as out:
            with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as pack:
                for member, data in members.items():
                    info = zipfile.ZipInfo(member, when)
                    info.external_attr = 0o644 << 16  # unpacked as a plain readable file
                    pack.writestr(info, data)
            out.flush()
            # The one sync of the batch: the record that names these bytes commits durably next.
            os.fsync(out.fileno())
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)


def _copy_in(home: Home, chunks: Iterable[bytes]) -> tuple[Path, str, int]:
    fd, name = tempfile.mkstemp(dir=home.archive, prefix="incoming-", suffix=PART)
    try:
        h, size = hashlib.sha256(), 0
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
                h.update(chunk)
                size += len(chunk)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name), h.hexdigest(), size


@contextmanager
def _refused(archive: Path) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        raise ConfigError(f"无法写入存档 {archive}：{os_reason(exc)}；请检查主目录的权限和剩余空间") from exc


def _suffix(filename: str) -> str:
    return Path(filename).suffix.lower()[:10]


def _loose_rel(digest: str, suffix: str) -> str:
    return str(Path("archive") / digest[:2] / f"{digest}{suffix}")


@contextmanager
def writing(home: Home) -> Iterator[None]:
    """Held (shared) while a process writes into the archive: `check --repair` removes
    temporary files only when it can take it alone."""
    try:
        lock = file_lock(home.archive / WRITERS_LOCK, shared=True)
        lock.__enter__()
    except OSError as exc:
        raise ConfigError(f"无法写入存档 {home.archive}：{os_reason(exc)}；请检查主目录的权限") from exc
    try:
        yield
    finally:
        lock.__exit__(None, None, None)


def keep_recorded(home: Home, staged: list[Staged], record: Callable[[Session], T]) -> T:
    """Record received files in one transaction, putting them in the archive just before it commits.

    A database that refuses the record (read-only, unreachable) leaves nothing in the archive, and
    an archive that refuses the file leaves nothing recorded. Only a crash between the two leaves a
    file archived and not recorded (`pilotzones check` finds it), never a record without its file.
    """
    try:
        with session(home.db_url) as s:
            _drill("archive-staged")
            out = record(s)
            s.flush()
            for st in staged:
                st.keep()
            _drill("archive-kept")
        return out
    finally:
        for st in staged:
            st.discard()


def _drill(point: str) -> None:
    """PILOTZONES_FAULT=POINT:kill: the process dies here, as `kill -9` would (the drill of `check`)."""
    if settings().fault == f"{point}:kill":
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


# --- reading ----------------------------------------------------------------------------------------


@dataclass
class Kept:
    """A file the archive holds: a loose file, or a member of a pack."""

    rel: str
    size: int
    modified: float  # the loose file's or the pack's modification time (epoch seconds)


def walk(home: Home) -> Iterator[Kept]:
    """Every file the archive holds, loose or packed (not its lock, not a write in progress)."""
    packs = home.archive / PACKS
    for path in sorted(home.archive.rglob("*")):
        if not path.is_file() or path.name.endswith(PART) or path.name == WRITERS_LOCK:
            continue
        rel = str(path.relative_to(home.path))
        stat = path.stat()
        if path.parent.parent == packs and path.suffix == ".zip":
            try:
                with zipfile.ZipFile(path) as pack:
                    infos = pack.infolist()
            except (zipfile.BadZipFile, OSError):
                yield Kept(rel, stat.st_size, stat.st_mtime)  # damaged: shown whole
                continue
            for info in infos:
                yield Kept(f"{rel}{MEMBER}{info.filename}", info.file_size, stat.st_mtime)
        else:
            yield Kept(rel, stat.st_size, stat.st_mtime)


class Reader:
    """Reads archived files by their archive path; a pack is opened once for all its members."""

    def __init__(self, home: Home) -> None:
        self.home = home
        self._packs: dict[str, zipfile.ZipFile | None] = {}

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        for pack in self._packs.values():
            if pack is not None:
                pack.close()

    def sha256(self, rel: str) -> str | None:
        """The SHA-256 of the bytes kept at `rel`; None when they are not there (or cannot be read)."""
        h = hashlib.sha256()
        try:
            with self.open(rel) as f:
                while chunk := f.read(_CHUNK):
                    h.update(chunk)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError, KeyError, zipfile.BadZipFile):
            return None
        return h.hexdigest()

    def read(self, rel: str) -> bytes:
        with self.open(rel) as f:
            return f.read()

    def open(self, rel: str) -> BinaryIO:
        """The kept bytes at `rel`; FileNotFoundError (or KeyError: no such member) when not there."""
        pack_rel, sep, member = rel.partition(MEMBER)
        if not sep:
            return (self.home.path / rel).open("rb")
        if pack_rel not in self._packs:
            try:
                self._packs[pack_rel] = zipfile.ZipFile(self.home.path / pack_rel)
            except zipfile.BadZipFile:
                self._packs[pack_rel] = None
        pack = self._packs[pack_rel]
        if pack is None:
            raise zipfile.BadZipFile(pack_rel)
        return pack.open(member)  # type: ignore[return-value]
