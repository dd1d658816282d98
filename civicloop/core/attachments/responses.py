"""An attachment as an HTTP response, for the views that have checked who may see it
(the web app's case pages, a module's own pages such as a thread reached by its link)."""

from __future__ import annotations

from django.http import FileResponse, Http404

from civicloop.core.attachments.models import Attachment


def attachment_response(attachment: Attachment, *, thumbnail: bool = False) -> FileResponse:
    """The file (or its JPEG thumbnail) shown inline, private to the browser's cache.
    Raises Http404 when a thumbnail is asked of an attachment that has none."""
    if thumbnail:
        if not attachment.thumbnail:
            raise Http404("no thumbnail")
        field, content_type, name = attachment.thumbnail, "image/jpeg", f"{attachment.pk}_thumb.jpg"
    else:
        extension = (attachment.file.name or "").rsplit(".", 1)[-1]
        field, content_type, name = (
            attachment.file,
            attachment.content_type,
            f"{attachment.pk}.{extension}",
        )
    response = FileResponse(field.open("rb"), content_type=content_type)
    response["Content-Disposition"] = f'inline; filename="{name}"'
    response["Cache-Control"] = "private, max-age=3600"
    return response
