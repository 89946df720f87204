"""Uploaded zips: a zip that points outside its folder, holds too many files or unpacks too large
is refused with one sentence and writes nothing; a safe one unpacks only under the caller's folder."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from studio.errors import UserError
from studio.insight.batch_rows import read_rows
from studio.uploads.archives import checked_files, extract, open_zip

NOT_A_ZIP = "upload a .zip of files."
FEWER = "upload fewer or smaller files"


def make_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def unpack(path: Path, folder: Path) -> list[Path]:
    """The whole path a caller takes: open, check, unpack each file at its own name."""
    with open_zip(path, NOT_A_ZIP) as archive:
        files = checked_files(archive, path.name, 100, FEWER)
        return extract(archive, path.name, [(info, info.filename) for info in files], folder)


def files_under(folder: Path) -> set[str]:
    return {path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file()}


def assert_one_sentence(message: str) -> None:
    assert "\n" not in message and message.endswith(".") and "/tmp" not in message


@pytest.mark.parametrize(
    "escaping", ["../evil.txt", "a/../../evil.txt", "/etc/evil.txt", "C:/evil.txt", "..\\evil.txt"]
)
def test_a_path_outside_the_folder_is_refused_and_nothing_is_written(tmp_path: Path, escaping: str) -> None:
    upload = make_zip(tmp_path / "slip.zip", {"ok.txt": b"fine", escaping: b"x"})
    folder = tmp_path / "nested" / "unpacked"
    folder.mkdir(parents=True)
    before = files_under(tmp_path)
    with pytest.raises(UserError) as caught:
        unpack(upload, folder)
    message = str(caught.value)
    assert message.startswith("slip.zip names a file outside its own folder") and repr(escaping) in message
    assert_one_sentence(message)
    assert files_under(tmp_path) == before  # not even the safe member: the zip is refused whole
    assert not Path("/etc/evil.txt").exists()


def test_too_many_files_are_refused_with_a_sentence(tmp_path: Path) -> None:
    upload = make_zip(tmp_path / "many.zip", {f"f{number}.txt": b"x" for number in range(101)})
    with pytest.raises(UserError) as caught:
        unpack(upload, tmp_path / "out")
    assert str(caught.value) == f"many.zip holds 101 files and this app takes at most 100; {FEWER}."
    assert not (tmp_path / "out").exists()


def test_too_many_unpacked_bytes_are_refused_with_a_sentence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUDIO_MAX_UPLOAD_MB", "1")
    upload = make_zip(tmp_path / "bomb.zip", {"zeros.bin": bytes(3 * 2**20)})  # a few KB packed
    assert upload.stat().st_size < 2**20
    with pytest.raises(UserError) as caught:
        unpack(upload, tmp_path / "out")
    assert str(caught.value) == f"bomb.zip unpacks to 3 MB and this app takes at most 1 MB; {FEWER}."
    assert not (tmp_path / "out").exists()


def test_unpacking_stops_at_the_byte_cap_whatever_was_listed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    upload = make_zip(tmp_path / "big.zip", {"a.bin": bytes(2**20), "b.bin": bytes(2**20)})
    with open_zip(upload, NOT_A_ZIP) as archive:
        files = checked_files(archive, upload.name, 100, FEWER)
        monkeypatch.setenv("STUDIO_MAX_UPLOAD_MB", "1")  # the cap falls after the listing passed
        with pytest.raises(UserError, match=r"^big\.zip unpacks to more than 1 MB, the most this app takes"):
            extract(archive, upload.name, [(info, info.filename) for info in files], tmp_path / "out")


def test_a_zip_too_large_itself_or_not_a_zip_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = tmp_path / "table.zip"
    text.write_text("file,text\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"^table\.zip is not a zip archive; upload a \.zip of files\.$"):
        unpack(text, tmp_path / "out")
    monkeypatch.setenv("STUDIO_MAX_UPLOAD_MB", "0")
    with pytest.raises(UserError, match=r"^table\.zip is 0 MB and this app takes at most 0 MB"):
        unpack(text, tmp_path / "out")


def test_a_safe_zip_unpacks_its_files_only_under_the_folder(tmp_path: Path) -> None:
    members = {
        "clips/a.wav": b"a",
        "clips\\b.wav": b"b",  # a Windows archiver's separator
        "__MACOSX/clips/._a.wav": b"fork",
        ".hidden/c.wav": b"c",
        "clips/.DS_Store": b"finder",
        "clips/": b"",
    }
    folder = tmp_path / "out"
    written = unpack(make_zip(tmp_path / "ok.zip", members), folder)
    assert written == [folder / "clips" / "a.wav", folder / "clips" / "b.wav"]
    assert files_under(folder) == {"clips/a.wav", "clips/b.wav"}
    assert (folder / "clips" / "b.wav").read_bytes() == b"b"


def test_the_caller_names_the_paths_and_they_stay_inside(tmp_path: Path) -> None:
    upload = make_zip(tmp_path / "ok.zip", {"../../x.png": b"x"})
    with zipfile.ZipFile(upload) as archive:  # the caller's own names are used, never the zip's
        [info] = archive.infolist()
        assert extract(archive, upload.name, [(info, "cat/0.png")], tmp_path / "out") == [tmp_path / "out/cat/0.png"]
        with pytest.raises(ValueError, match="not a relative path inside the folder"):
            extract(archive, upload.name, [(info, "../0.png")], tmp_path / "out")
    assert files_under(tmp_path) == {"ok.zip", "out/cat/0.png"}


def test_a_damaged_member_is_left_empty_for_its_reader_to_refuse(tmp_path: Path) -> None:
    upload = tmp_path / "damaged.zip"
    with zipfile.ZipFile(upload, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("good.txt", b"good data")
        archive.writestr("bad.txt", b"BADBADBAD")
    upload.write_bytes(upload.read_bytes().replace(b"BADBADBAD", b"XXXXXXXXX"))  # its CRC no longer matches
    folder = tmp_path / "out"
    written = unpack(upload, folder)
    assert [path.read_bytes() for path in written] == [b"good data", b""]


def test_a_batch_zip_unpacks_to_its_own_names_and_is_removed_after(tmp_path: Path) -> None:
    upload = make_zip(tmp_path / "photos.zip", {"../up.png": b"x"})
    with pytest.raises(UserError, match="names a file outside its own folder"):
        read_rows(str(upload))
    upload = make_zip(tmp_path / "photos2.zip", {"a/1.png": b"x", "b/2.weird-suffix": b"y"})
    rows = read_rows(str(upload))
    assert rows.values == [{"image": "a/1.png"}, {"image": "b/2.weird-suffix"}]
    assert [path.name for path in rows.images] == ["000000.png", "000001"]
    assert rows.folder is not None and all(path.parent == rows.folder for path in rows.images)
    rows.remove_images()
    assert not rows.folder.exists()
