"""Attachments: storage under generated keys, content sniffing, comments with files, and safe downloads."""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask

from frontdesk import hookimpl, migrate
from frontdesk.attachments import (
    attachment_for_download,
    sanitize_filename,
    served_content_type,
    sniff_content_type,
)
from frontdesk.config import Config
from frontdesk.desk import Desk
from frontdesk.errors import ConfigError, NotFound, PermissionDenied, TooLarge
from frontdesk.models import Attachment, Comment, Ticket
from frontdesk.permissions import SYSTEM
from frontdesk.services import comments, people, tickets, tokens
from frontdesk.storage import FilesystemStorage, Upload
from frontdesk_webui.api import attachments as attachments_api
from frontdesk_webui.api import register
from frontdesk_webui.app import create_app

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(64))
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'
)
EVIL_NAME = '"><svg onload=alert(1)>.jpg'


def stored_files(root: Path) -> list[Path]:
    """Every file under a storage root (temporary files included)."""
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


# Storage


def test_storage_saves_under_a_generated_fanned_out_key(tmp_path: Path) -> None:
    storage = FilesystemStorage(tmp_path / "files")
    data = b"hello world" * 10_000
    stored = storage.save(io.BytesIO(data), max_size=len(data))
    assert stored.size == len(data)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert len(stored.key) == 32
    assert set(stored.key) <= set("0123456789abcdef")
    path = tmp_path / "files" / stored.key[:2] / stored.key[2:4] / stored.key
    assert stored_files(tmp_path / "files") == [path]
    with storage.open(stored.key) as stream:
        assert stream.read() == data
    other = storage.save(io.BytesIO(data), max_size=len(data))
    assert other.key != stored.key
    storage.delete(stored.key)
    storage.delete(stored.key)  # deleting twice is no error
    assert stored_files(tmp_path / "files") == [storage.path(other.key)]
    with pytest.raises(FileNotFoundError):
        storage.open(stored.key)


def test_storage_refuses_a_file_over_the_limit_while_streaming_and_keeps_nothing(tmp_path: Path) -> None:
    storage = FilesystemStorage(tmp_path)

    class Endless(io.RawIOBase):
        """A stream that never ends: the limit must stop reading, not the end of the data."""

        reads = 0

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: Any) -> int:
            self.reads += 1
            buffer[:] = b"x" * len(buffer)
            return len(buffer)

    endless = Endless()
    with pytest.raises(TooLarge, match="larger than the limit of 1 MiB") as caught:
        storage.save(endless, max_size=1024 * 1024)  # type: ignore[arg-type]
    assert caught.value.code == "too_large"
    assert caught.value.http_status == 413
    assert endless.reads < 100
    assert stored_files(tmp_path) == []
    exact = storage.save(io.BytesIO(b"12345"), max_size=5)
    assert exact.size == 5
    with pytest.raises(TooLarge):
        storage.save(io.BytesIO(b"123456"), max_size=5)
    assert stored_files(tmp_path) == [storage.path(exact.key)]


def test_storage_syncs_every_file_to_disk_unless_told_the_source_keeps_the_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "files"
    storage = FilesystemStorage(root)
    synced: list[str] = []
    monkeypatch.setattr(
        "frontdesk.storage.os.fsync", lambda descriptor: synced.append(os.readlink(f"/proc/self/fd/{descriptor}"))
    )
    durable = storage.save(io.BytesIO(b"uploaded"), max_size=100)
    folder = storage.path(durable.key).parent
    # The file, the folder it was renamed into, and each folder made for it, in the folder holding it.
    assert synced[0].startswith(str(folder / ".upload-"))
    assert sorted(synced[1:]) == sorted(str(path) for path in (folder, folder.parent, root, tmp_path))
    synced.clear()
    beside = durable.key[:4] + "0" * 28  # a key whose folder exists: only that folder is synced
    with monkeypatch.context() as keyed:
        keyed.setattr("frontdesk.storage.uuid.uuid4", lambda: SimpleNamespace(hex=beside))
        again = storage.save(io.BytesIO(b"uploaded again"), max_size=100)
    assert (again.key, synced[1:]) == (beside, [str(folder)])
    synced.clear()
    copy = storage.save(io.BytesIO(b"imported"), max_size=100, durable=False)
    assert synced == []
    for stored, data in ((durable, b"uploaded"), (copy, b"imported")):
        with storage.open(stored.key) as stream:
            assert stream.read() == data
        assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert stored_files(tmp_path) == sorted([storage.path(key) for key in (durable.key, again.key, copy.key)])


@pytest.mark.parametrize(
    "key", ["../../etc/passwd", "/etc/passwd", "..", "", "ab/../../x", "0" * 31, "G" * 32, "0" * 32 + "/"]
)
def test_storage_accepts_only_its_own_keys(tmp_path: Path, key: str) -> None:
    storage = FilesystemStorage(tmp_path / "files")
    with pytest.raises(ValueError, match="not an attachment storage key"):
        storage.path(key)
    with pytest.raises(ValueError, match="not an attachment storage key"):
        storage.open(key)
    with pytest.raises(ValueError, match="not an attachment storage key"):
        storage.delete(key)


def test_the_desk_stores_attachments_in_the_instance_folder_by_default(tmp_path: Path) -> None:
    config = Config(instance_path=tmp_path / "inst", database_url="sqlite://")
    assert config.attachments_root == tmp_path / "inst" / "attachments"
    assert config.max_attachment_bytes == 25 * 1024 * 1024
    assert config.max_attachments_per_comment == 20
    assert replace(config, attachments_path=tmp_path / "elsewhere").attachments_root == tmp_path / "elsewhere"
    assert config.masked()["attachments_path"] == str(tmp_path / "inst" / "attachments")


def test_attachment_settings_come_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRONTDESK_ATTACHMENTS_PATH", str(tmp_path / "files"))
    monkeypatch.setenv("FRONTDESK_MAX_ATTACHMENT_MB", "1.5")
    config = Config.from_env(tmp_path / "inst")
    assert config.attachments_root == tmp_path / "files"
    assert config.max_attachment_bytes == 1536 * 1024
    monkeypatch.setenv("FRONTDESK_MAX_ATTACHMENT_MB", "lots")
    with pytest.raises(ConfigError, match="FRONTDESK_MAX_ATTACHMENT_MB must be a number of megabytes"):
        Config.from_env(tmp_path / "inst")


# Names and types


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\ann\\Desktop\\plan.xlsx", "plan.xlsx"),
        ("a\x00b\x07c.txt", "abc.txt"),
        ("line\nbreak\tname.txt", "line break name.txt"),
        ("invoice\u202egpj.exe", "invoicegpj.exe"),
        (EVIL_NAME, EVIL_NAME),
        ("  spaced.txt  ", "spaced.txt"),
        ("..", "attachment"),
        ("", "attachment"),
        (None, "attachment"),
        ("dir/", "attachment"),
        ("Déjà vu.txt", "Déjà vu.txt"),
    ],
)
def test_file_names_are_cleaned_for_display(raw: str | None, expected: str) -> None:
    assert sanitize_filename(raw) == expected


def test_long_file_names_are_cut_to_255_characters_keeping_the_extension() -> None:
    name = sanitize_filename("é" * 400 + ".pdf")
    assert len(name) == 255
    assert name.endswith("é.pdf")
    assert len(sanitize_filename("x" * 400)) == 255


def office_file(part: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("_rels/.rels", "<Relationships/>")
        archive.writestr(part, "<document/>")
    return buffer.getvalue()


def open_document() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text", compress_type=zipfile.ZIP_STORED)
        archive.writestr("content.xml", "<office:document-content/>", compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("head", "filename", "expected"),
    [
        (PNG, "x.png", "image/png"),
        (PNG, "looks-like.html", "image/png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "photo.jpg", "image/jpeg"),
        (b"GIF89a\x01\x00\x01\x00", "a.gif", "image/gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "a.webp", "image/webp"),
        (PDF, "doc.pdf", "application/pdf"),
        (
            office_file("word/document.xml"),
            "letter.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (
            office_file("xl/workbook.xml"),
            "sheet.bin",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        (open_document(), "letter.odt", "application/vnd.oasis.opendocument.text"),
        (office_file("other/thing.xml"), "archive.zip", "application/zip"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(50), "old.xls", "application/vnd.ms-excel"),
        (b"Hello,\r\nthe printer on floor 3 is jammed.\n", "notes.txt", "text/plain"),
        ("Grüße aus Köln".encode(), "notes", "text/plain"),
        (HTML, "page.png", "text/html"),
        (b"  \n<html><p>hi", "x.txt", "text/html"),
        (b"<script>alert(1)</script>", "x.txt", "text/html"),
        (SVG, "image.png", "image/svg+xml"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "a.jpg", "image/svg+xml"),
        (b'<?xml version="1.0"?><note/>', "a.xml", "application/xml"),
        (b"\x00\x01\x02\x03binary", "a.txt", "application/octet-stream"),
        (b"MZ\x90\x00\x03\x00\x00\x00", "setup.exe", "application/octet-stream"),
        (b"", "empty.txt", "text/plain"),
    ],
)
def test_content_types_are_sniffed_from_the_bytes(head: bytes, filename: str, expected: str) -> None:
    assert sniff_content_type(head, filename, complete=True) == expected


def test_a_multibyte_character_cut_by_the_sniffing_window_is_still_text() -> None:
    head = ("ä" * 4096).encode()[:8191]
    assert sniff_content_type(head, "a.txt") == "text/plain"
    assert sniff_content_type(head, "a.txt", complete=True) == "application/octet-stream"


@pytest.mark.parametrize(
    ("stored", "served"),
    [
        ("text/html", "application/octet-stream"),
        ("image/svg+xml", "application/octet-stream"),
        ("application/xml", "application/octet-stream"),
        ("application/xhtml+xml", "application/octet-stream"),
        ("image/png", "image/png"),
        ("text/plain", "text/plain; charset=utf-8"),
    ],
)
def test_active_types_are_served_as_opaque_bytes(stored: str, served: str) -> None:
    assert served_content_type(stored) == served


# Service


@pytest.fixture
def world(desk: Desk, make_user: Any) -> dict[str, Any]:
    """A group with an agent, two requesters, and Rita's ticket."""
    with desk.action(SYSTEM, source="test") as uow:
        people.create_group(uow, {"name": "Support"})
    world = {
        "agent": make_user(email="agent@example.com", role="agent", groups=["Support"]),
        "rita": make_user(email="rita@example.com", name="Rita"),
        "bob": make_user(email="bob@example.com", name="Bob"),
    }
    with desk.action(SYSTEM, source="test") as uow:
        world["ticket"] = tickets.create_ticket(
            uow, {"subject": "Printer jammed", "requester": "rita@example.com", "group": "Support"}
        ).number
    return world


def upload(name: str, data: bytes) -> Upload:
    return Upload(filename=name, stream=io.BytesIO(data))


def comment_with(desk: Desk, actor: Any, number: int, *files: Upload, public: bool = True) -> Comment:
    with desk.action(actor, source="test") as uow:
        return comments.add_comment(uow, number, {"body": "See the files.", "public": public}, files)


def download(desk: Desk, actor: Any, attachment_id: int) -> tuple[Attachment, bytes]:
    with desk.reading(actor) as uow:
        attachment, stream = attachment_for_download(uow, attachment_id)
    with stream:
        return attachment, stream.read()


def test_a_requester_attaches_files_to_a_reply(desk: Desk, world: dict[str, Any]) -> None:
    comment = comment_with(desk, world["rita"], world["ticket"], upload("../scan.pdf", PDF), upload("p.png", PNG))
    first, second = comment.attachments
    assert (first.filename, first.content_type, first.size) == ("scan.pdf", "application/pdf", len(PDF))
    assert first.sha256 == hashlib.sha256(PDF).hexdigest()
    assert (second.filename, second.content_type) == ("p.png", "image/png")
    assert len(stored_files(desk.config.attachments_root)) == 2
    for actor in (world["rita"], world["agent"], SYSTEM):
        attachment, data = download(desk, actor, first.id)
        assert (attachment.filename, data) == ("scan.pdf", PDF)
    with desk.db.reading() as session:
        assert session.get(Ticket, world["ticket"]).status_category == "new"


def test_note_attachments_are_for_staff_only(desk: Desk, world: dict[str, Any]) -> None:
    note = comment_with(desk, world["agent"], world["ticket"], upload("internal.txt", b"secret"), public=False)
    attachment_id = note.attachments[0].id
    assert download(desk, world["agent"], attachment_id)[1] == b"secret"
    with pytest.raises(NotFound, match=f"attachment {attachment_id} not found"):
        download(desk, world["rita"], attachment_id)
    with pytest.raises(PermissionDenied, match="only agents can add internal notes"):
        comment_with(desk, world["rita"], world["ticket"], upload("x.txt", b"x"), public=False)
    assert len(stored_files(desk.config.attachments_root)) == 1


def test_other_peoples_attachments_are_not_found_alike(desk: Desk, world: dict[str, Any]) -> None:
    reply = comment_with(desk, world["rita"], world["ticket"], upload("mine.txt", b"mine"))
    attachment_id = reply.attachments[0].id
    for actor in (world["bob"], None):
        with pytest.raises(NotFound) as caught:
            download(desk, actor, attachment_id)
        assert caught.value.message == f"attachment {attachment_id} not found"
    with pytest.raises(NotFound) as caught:
        download(desk, world["bob"], attachment_id + 1000)
    assert caught.value.message == f"attachment {attachment_id + 1000} not found"


def test_a_failing_transaction_leaves_no_stored_file(desk: Desk, world: dict[str, Any]) -> None:
    with pytest.raises(RuntimeError, match="crash after the comment"), desk.action(world["rita"], source="t") as uow:
        comments.add_comment(uow, world["ticket"], {"body": "x"}, [upload("a.txt", b"a"), upload("b.png", PNG)])
        assert len(stored_files(desk.config.attachments_root)) == 2
        raise RuntimeError("crash after the comment")
    assert stored_files(desk.config.attachments_root) == []
    with desk.db.reading() as session:
        assert session.query(Attachment).count() == 0


def test_a_comment_refused_by_a_hook_leaves_no_stored_file(
    desk: Desk, world: dict[str, Any], register_plugin: Any
) -> None:
    class Refuse:
        @hookimpl
        def frontdesk_ticket_before_comment(self, comment: Comment) -> None:
            assert [a.filename for a in comment.attachments] == ["a.txt"]  # hooks see the files
            raise PermissionDenied("no comments today")

    register_plugin(Refuse(), "refuse")
    with pytest.raises(PermissionDenied, match="no comments today"):
        comment_with(desk, world["rita"], world["ticket"], upload("a.txt", b"a"))
    assert stored_files(desk.config.attachments_root) == []


def test_a_file_over_the_limit_stores_nothing(desk_config: Config, world: dict[str, Any]) -> None:
    with Desk(replace(desk_config, max_attachment_bytes=1000), plugins=["webui"]) as small:
        with pytest.raises(TooLarge, match=r"^big: The file is larger than the limit of 1000 bytes"):
            comment_with(
                small, world["rita"], world["ticket"], upload("ok.txt", b"a" * 1000), upload("big", bytes(1001))
            )
        assert stored_files(small.config.attachments_root) == []
        with small.db.reading() as session:
            assert session.query(Comment).count() == 0


def test_too_many_files_are_refused_before_storing_any(desk_config: Config, world: dict[str, Any]) -> None:
    with Desk(replace(desk_config, max_attachments_per_comment=2), plugins=["webui"]) as small:
        files = [upload(f"{n}.txt", b"x") for n in range(3)]
        with pytest.raises(TooLarge, match="At most 2 files"):
            comment_with(small, world["rita"], world["ticket"], *files)
        assert stored_files(small.config.attachments_root) == []
        assert len(comment_with(small, world["rita"], world["ticket"], *files[:2]).attachments) == 2


def test_savepoints_keep_or_drop_their_files(desk: Desk, world: dict[str, Any]) -> None:
    with desk.action(world["agent"], source="test") as uow:
        with pytest.raises(RuntimeError), uow.session.begin_nested():
            comments.add_comment(uow, world["ticket"], {"body": "dropped"}, [upload("dropped.txt", b"dropped")])
            raise RuntimeError("roll back this savepoint only")
        with uow.session.begin_nested():
            kept = comments.add_comment(uow, world["ticket"], {"body": "kept"}, [upload("kept.txt", b"kept")])
    files = stored_files(desk.config.attachments_root)
    assert [path.read_bytes() for path in files] == [b"kept"]
    assert download(desk, world["agent"], kept.attachments[0].id)[1] == b"kept"

    with pytest.raises(RuntimeError), desk.action(world["agent"], source="test") as uow:
        with uow.session.begin_nested():
            comments.add_comment(uow, world["ticket"], {"body": "later"}, [upload("later.txt", b"later")])
        raise RuntimeError("the outer transaction fails after the savepoint was released")
    assert stored_files(desk.config.attachments_root) == files


def test_comments_without_files_are_unchanged(desk: Desk, world: dict[str, Any]) -> None:
    comment = comment_with(desk, world["rita"], world["ticket"])
    assert comment.attachments == []
    assert not desk.config.attachments_root.exists()


# API


def with_api(app: Flask, *blueprints: Any) -> Flask:
    """Mount API blueprints the application does not mount yet (the lead registers them in the API)."""
    api = app.extensions["flask-smorest"]["apis"][""]["ext_obj"]
    for blueprint in blueprints:
        if blueprint.name not in app.blueprints:
            register(api, blueprint)
    return app


@pytest.fixture
def app(app: Flask) -> Flask:
    return with_api(app, attachments_api.blp)


def bearer(desk: Desk, email: str, scope: str = "write") -> dict[str, str]:
    with desk.action(SYSTEM, source="test") as uow:
        secret = tokens.create_token(uow, {"user": email, "scope": scope})[1]
    return {"Authorization": f"Bearer {secret}"}


def post_files(client: Any, number: int, headers: dict[str, str], *files: tuple[bytes, str], **form: Any) -> Any:
    data = {"body": "Files attached.", **form, "files": [(io.BytesIO(content), name) for content, name in files]}
    return client.post(
        f"/api/v1/tickets/{number}/comments/upload", data=data, headers=headers, content_type="multipart/form-data"
    )


def fetch(client: Any, attachment_id: int, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    with client.get(f"/api/v1/attachments/{attachment_id}", headers=headers) as response:
        return response.status_code, dict(response.headers), response.get_data()


def test_api_comment_with_files(client: Any, desk: Desk, world: dict[str, Any]) -> None:
    rita = bearer(desk, "rita@example.com")
    response = post_files(client, world["ticket"], rita, (PDF, "scan.pdf"), (b"plain words", "notes.txt"))
    assert response.status_code == 201, response.json
    comment = response.json
    assert comment["body"] == "<p>Files attached.</p>"
    assert comment["public"] is True
    assert [(a["filename"], a["content_type"], a["size"]) for a in comment["attachments"]] == [
        ("scan.pdf", "application/pdf", len(PDF)),
        ("notes.txt", "text/plain", 11),
    ]
    listed = client.get(f"/api/v1/tickets/{world['ticket']}/comments", headers=rita).json
    assert listed[-1]["attachments"] == comment["attachments"]
    status, headers, data = fetch(client, comment["attachments"][0]["id"], rita)
    assert (status, headers["Content-Type"], data) == (200, "application/pdf", PDF)
    assert headers["Content-Length"] == str(len(PDF))
    status, headers, data = fetch(client, comment["attachments"][1]["id"], rita)
    assert (headers["Content-Type"], data) == ("text/plain; charset=utf-8", b"plain words")


def test_api_comment_without_files_and_as_a_note(client: Any, desk: Desk, world: dict[str, Any]) -> None:
    agent = bearer(desk, "agent@example.com")
    response = post_files(client, world["ticket"], agent, public="false")
    assert response.status_code == 201
    assert (response.json["public"], response.json["attachments"]) == (False, [])
    refused = post_files(client, world["ticket"], bearer(desk, "rita@example.com"), (b"x", "x.txt"), public="false")
    assert refused.status_code == 403
    assert stored_files(desk.config.attachments_root) == []


@pytest.mark.parametrize(("content", "name"), [(HTML, "page.html"), (SVG, "drawing.svg"), (HTML, "innocent.png")])
def test_api_active_content_is_only_ever_downloaded(
    client: Any, desk: Desk, world: dict[str, Any], content: bytes, name: str
) -> None:
    rita = bearer(desk, "rita@example.com")
    attachment = post_files(client, world["ticket"], rita, (content, name)).json["attachments"][0]
    assert attachment["content_type"] == ("image/svg+xml" if name.endswith(".svg") else "text/html")
    status, headers, data = fetch(client, attachment["id"], rita)
    assert (status, data) == (200, content)
    assert headers["Content-Type"] == "application/octet-stream"
    assert headers["Content-Disposition"].startswith("attachment; ")
    assert f"filename*=UTF-8''{name}" in headers["Content-Disposition"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert headers["Cache-Control"] == "private, no-store"


def multipart(files: list[tuple[bytes, str]], **form: str) -> tuple[bytes, str]:
    """A multipart body as curl builds it (a quote in a file name escaped as \\"), and its content type."""
    parts = [f'Content-Disposition: form-data; name="{name}"\r\n\r\n{value}'.encode() for name, value in form.items()]
    for content, filename in files:
        quoted = filename.replace("\\", "\\\\").replace('"', '\\"')
        header = f'Content-Disposition: form-data; name="files"; filename="{quoted}"\r\nContent-Type: image/jpeg'
        parts.append(header.encode() + b"\r\n\r\n" + content)
    body = b"".join(b"--BOUNDARY\r\n" + part + b"\r\n" for part in parts) + b"--BOUNDARY--\r\n"
    return body, "multipart/form-data; boundary=BOUNDARY"


def test_api_a_hostile_file_name_is_kept_as_text_and_encoded_in_the_header(
    client: Any, desk: Desk, world: dict[str, Any]
) -> None:
    rita = bearer(desk, "rita@example.com")
    body, content_type = multipart([(PNG, EVIL_NAME), (PNG, "../../etc/passwd"), (PNG, "Über.png")], body="Look")
    response = client.post(
        f"/api/v1/tickets/{world['ticket']}/comments/upload", data=body, content_type=content_type, headers=rita
    )
    assert response.status_code == 201, response.json
    evil, traversal, umlaut = response.json["attachments"]
    assert evil["filename"] == EVIL_NAME
    assert response.mimetype == "application/json"
    assert traversal["filename"] == "passwd"
    assert umlaut["filename"] == "Über.png"
    _, headers, _ = fetch(client, evil["id"], rita)
    assert headers["Content-Disposition"] == (
        'attachment; filename="___svg onload=alert(1)_.jpg"; '
        "filename*=UTF-8''%22%3E%3Csvg%20onload%3Dalert%281%29%3E.jpg"
    )
    assert headers["Content-Type"] == "image/png"  # the bytes decide, not the name or the client
    _, headers, _ = fetch(client, umlaut["id"], rita)
    assert headers["Content-Disposition"] == "attachment; filename=\"Uber.png\"; filename*=UTF-8''%C3%9Cber.png"
    with desk.db.reading() as session:
        keys = [row.storage_key for row in session.query(Attachment)]
    assert sorted(stored_files(desk.config.attachments_root)) == sorted(
        desk.config.attachments_root / key[:2] / key[2:4] / key for key in keys
    )


@pytest.fixture
def small_client(desk_config: Config, desk: Desk) -> Iterator[Any]:
    """A client of a desk that takes files of at most 1000 bytes and requests of at most 64 KiB."""
    with Desk(replace(desk_config, max_attachment_bytes=1000), plugins=["webui"]) as small:
        migrate.upgrade_all(small)
        app = with_api(create_app(small), attachments_api.blp)
        app.config.update(TESTING=True, MAX_CONTENT_LENGTH=64 * 1024)
        yield app.test_client()


def test_api_files_over_the_limit_answer_413(small_client: Any, desk: Desk, world: dict[str, Any]) -> None:
    rita = bearer(desk, "rita@example.com")
    response = post_files(small_client, world["ticket"], rita, (b"a" * 1000, "ok.txt"), (bytes(1001), "big.bin"))
    assert response.status_code == 413
    assert response.json == {
        "code": "too_large",
        "message": "big.bin: The file is larger than the limit of 1000 bytes.",
        "errors": {},
    }
    assert stored_files(desk.config.attachments_root) == []
    whole = post_files(small_client, world["ticket"], rita, (bytes(100 * 1024), "huge.bin"))
    assert whole.status_code == 413
    assert whole.json["code"] == "request_entity_too_large"
    with desk.db.reading() as session:
        assert session.query(Comment).count() == 0


def test_api_too_many_files_answer_413(client: Any, desk: Desk, world: dict[str, Any]) -> None:
    files = [(b"x", f"{n}.txt") for n in range(desk.config.max_attachments_per_comment + 1)]
    response = post_files(client, world["ticket"], bearer(desk, "rita@example.com"), *files)
    assert response.status_code == 413
    assert response.json["code"] == "too_large"
    assert stored_files(desk.config.attachments_root) == []


def test_api_files_must_be_file_parts(client: Any, desk: Desk, world: dict[str, Any]) -> None:
    response = client.post(
        f"/api/v1/tickets/{world['ticket']}/comments/upload",
        data={"body": "hi", "files": "not a file"},
        headers=bearer(desk, "rita@example.com"),
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "Not a file" in response.json["errors"]["files.0"][0]


def test_api_foreign_and_missing_attachments_are_404(client: Any, desk: Desk, world: dict[str, Any]) -> None:
    rita, bob = bearer(desk, "rita@example.com"), bearer(desk, "bob@example.com")
    mine = post_files(client, world["ticket"], rita, (b"mine", "mine.txt")).json["attachments"][0]["id"]
    note = post_files(client, world["ticket"], bearer(desk, "agent@example.com"), (b"n", "n.txt"), public="false")
    note_id = note.json["attachments"][0]["id"]
    for headers, attachment_id in ((bob, mine), (rita, note_id), (rita, 999_999), (rita, 2**31), (rita, 2**63)):
        status, _, data = fetch(client, attachment_id, headers)
        assert status == 404
        assert b"mine" not in data
    assert post_files(client, world["ticket"], bob, (b"x", "x.txt")).status_code == 404
    assert post_files(client, 2**31, rita, (b"x", "x.txt")).status_code == 404
    assert len(stored_files(desk.config.attachments_root)) == 2


def test_api_anonymous_callers_get_401(client: Any, desk: Desk, world: dict[str, Any]) -> None:
    attachment_id = post_files(client, world["ticket"], bearer(desk, "rita@example.com"), (b"x", "x.txt"))
    assert fetch(client, attachment_id.json["attachments"][0]["id"], {})[0] == 401
    assert post_files(client, world["ticket"], {}, (b"x", "x.txt")).status_code == 401
    assert len(stored_files(desk.config.attachments_root)) == 1


def test_api_document_describes_the_multipart_body(client: Any) -> None:
    spec = client.get("/api/openapi.json").json
    operation = spec["paths"]["/api/v1/tickets/{number}/comments/upload"]["post"]
    assert "parameters" not in operation
    body = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
    schema = spec["components"]["schemas"][body["$ref"].rsplit("/", 1)[-1]]
    assert schema["properties"]["files"] == {
        "type": "array",
        "description": "The files to attach (repeat)",
        "items": {"type": "string", "format": "binary"},
    }
    assert {"body", "public", "body_format"} <= set(schema["properties"])
    download = spec["paths"]["/api/v1/attachments/{attachment_id}"]["get"]
    assert download["responses"]["200"]["content"]["*/*"]["schema"] == {"type": "string", "format": "binary"}
