"""Attachments: comments with files (multipart) and downloading a file as an opaque, sandboxed attachment."""

from __future__ import annotations

import re
import unicodedata
from typing import Any
from urllib.parse import quote

from flask import Request, Response, request
from flask.views import MethodView
from flask_smorest import Blueprint
from flask_smorest.fields import Upload as UploadField
from marshmallow import Schema, ValidationError, fields
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import CombinedMultiDict, FileStorage
from werkzeug.wsgi import wrap_file

from frontdesk import queries
from frontdesk.attachments import attachment_for_download, served_content_type
from frontdesk.db import MAX_ID
from frontdesk.errors import NotFound
from frontdesk.schemas.tickets import CommentCreateSchema, CommentSchema
from frontdesk.services import comments
from frontdesk.storage import Upload
from frontdesk_webui.api.auth import actor, require_actor
from frontdesk_webui.context import desk


class MultipartParser(FlaskParser):
    """webargs' Flask parser plus a ``multipart`` location: form fields and files in one schema.

    flask-smorest documents one request body per operation; two ``arguments`` (``form`` and
    ``files``) would leave the form fields as invalid ``in: formData`` parameters in OpenAPI 3.
    """

    __location_map__ = {**FlaskParser.__location_map__, "multipart": "load_multipart"}

    def load_multipart(self, req: Request, schema: Schema) -> Any:
        return self._makeproxy(CombinedMultiDict([req.form, req.files]), schema)


class MultipartBlueprint(Blueprint):
    """A flask-smorest blueprint that also parses and documents ``multipart/form-data`` bodies."""

    ARGUMENTS_PARSER = MultipartParser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {
        **Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
        "multipart": "multipart/form-data",
    }


blp = MultipartBlueprint(
    "attachments",
    __name__,
    url_prefix="/api/v1",
    description="Files attached to comments: upload with a comment, download as an attachment.",
)

# Downloads are never rendered by the browser: no sniffing, no scripts, no plugins, not cached.
DOWNLOAD_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "sandbox; default-src 'none'",
    "Cache-Control": "private, no-store",
    "Cross-Origin-Resource-Policy": "same-origin",
}


class FileField(UploadField):
    """An uploaded file part (documented as binary); a plain form value in its place is refused."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> FileStorage:
        if not isinstance(value, FileStorage):
            raise ValidationError("Not a file: send it as a file part of a multipart/form-data body.")
        return value


class CommentUploadSchema(CommentCreateSchema):
    """A reply or internal note with files: form fields, and one ``files`` part per file."""

    files = fields.List(FileField(), load_default=list, metadata={"description": "The files to attach (repeat)"})


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII ``filename`` fallback and the exact name as RFC 5987 ``filename*``."""
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    ascii_name = re.sub(r"[^A-Za-z0-9 !#$&+,.=@^_`{}~()\[\]-]", "_", ascii_name).strip() or "attachment"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _uploads(files: list[FileStorage]) -> list[Upload]:
    """The uploaded parts as service uploads; an empty part (a form's "no file chosen") is skipped."""
    return [Upload(filename=part.filename or "", stream=part.stream) for part in files if part.filename]


@blp.route("/tickets/<int:number>/comments/upload")
class CommentWithFiles(MethodView):
    @blp.arguments(CommentUploadSchema, location="multipart")
    @blp.response(201, CommentSchema)
    def post(self, data: dict[str, Any], number: int) -> Any:
        """Reply, or add an internal note (``public: false``, agents only), with files attached.

        Each file must stay within the desk's size limit (413 otherwise); the type is read from the bytes.
        """
        if number > MAX_ID:
            raise NotFound(f"ticket #{number} not found")
        uploads = _uploads(data.pop("files"))
        with desk().action(require_actor(), source="api") as uow:
            comment_id = comments.add_comment(uow, number, data, uploads).id
        with desk().reading(actor()) as uow:
            return next(c for c in queries.comments_of(uow, number) if c.id == comment_id), 201


@blp.route("/attachments/<int:attachment_id>")
class AttachmentFile(MethodView):
    @blp.response(
        200,
        {"type": "string", "format": "binary"},
        content_type="*/*",
        description=(
            "The file as a download, typed by its bytes (image/png, application/pdf, text/plain...); "
            "HTML, SVG and XML are sent as application/octet-stream"
        ),
    )
    def get(self, attachment_id: int) -> Response:
        """Download a file of a comment the caller may read."""
        with desk().reading(require_actor()) as uow:
            attachment, stream = attachment_for_download(uow, attachment_id)
            filename, content_type, size = attachment.filename, attachment.content_type, attachment.size
        try:
            response = Response(
                wrap_file(request.environ, stream),
                status=200,
                content_type=served_content_type(content_type),
                direct_passthrough=True,
            )
            response.content_length = size
            response.headers["Content-Disposition"] = content_disposition(filename)
            response.headers.update(DOWNLOAD_HEADERS)
        except BaseException:
            stream.close()
            raise
        return response
