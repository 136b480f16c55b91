"""Size limits on request bodies that apply before the body is read, let alone written to disk.

Every view takes a body of at most DATA_UPLOAD_MAX_MEMORY_SIZE, refused by its declared length
before anything reads it; CSRF's check would otherwise parse (and spool to disk) whatever a
signed-out client sends. A view that takes an upload says so with `bounds_own_body` and counts
the upload as it arrives with an `UploadSizeLimit` handler. A reverse proxy in front of the app
has the matching limit (docs/deploy.md).
"""

import logging

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import HttpResponse

logger = logging.getLogger("salesproject.app")

BODY_TOO_BIG = "The request body is {size} bytes; the largest accepted here is {limit} bytes."


def bounds_own_body(view):
    """Mark a view that limits its own body (an upload handler): the middleware lets it through."""
    view.bounds_own_body = True
    return view


class RequestBodyLimitMiddleware:
    """413 for a body declared larger than DATA_UPLOAD_MAX_MEMORY_SIZE, unless its view bounds its own."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if getattr(view_func, "bounds_own_body", False):
            return None
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0  # Django reads no body then either
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if declared <= limit:
            return None
        logger.warning("request body refused unread: %s %s declares %d bytes", request.method, request.path, declared)
        return HttpResponse(
            BODY_TOO_BIG.format(size=declared, limit=limit), status=413, content_type="text/plain; charset=utf-8"
        )


class UploadSizeLimit(FileUploadHandler):
    """Count each uploaded file's bytes as they arrive; past max_bytes, drop the file.

    Put it first among the request's upload handlers: it sees each chunk before the next
    handler stores it. Past the limit the file is skipped, so the temporary file holding its
    first part is closed and deleted, and the rest of it is read and thrown away; the form's
    other fields still arrive. `exceeded` tells the view.
    """

    def __init__(self, request=None, *, max_bytes: int):
        super().__init__(request)
        self.max_bytes = max_bytes
        self.exceeded = False

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > self.max_bytes:
            self.exceeded = True
            raise SkipFile
        return raw_data

    def file_complete(self, file_size):
        return None  # the next handler makes the file
