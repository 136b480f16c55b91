"""The Order admin's big XLSX exports: written by a worker, followed on a page, then downloaded.

orders.services.export_jobs decides which exports a worker writes.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.views.decorators.vary import vary_on_headers

from .models import ExportJob
from .services.export_jobs import ExportJobError, export_job_file


class OrderExportJobMixin:
    """Adds export/<job>/ (the job's page, polled with HTMX) and export/<job>/download/ to the Order admin."""

    def get_urls(self):
        views = [
            path(
                "export/<uuid:job_id>/",
                self.admin_site.admin_view(vary_on_headers("HX-Request")(self.export_job_view)),
                name="orders_order_export_job",
            ),
            path(
                "export/<uuid:job_id>/download/",
                self.admin_site.admin_view(self.export_job_download_view),
                name="orders_order_export_job_download",
            ),
        ]
        return views + super().get_urls()

    def _export_job_get(self, request, job_id) -> ExportJob:
        if not self.has_export_permission(request):
            raise PermissionDenied
        job = get_object_or_404(ExportJob, pk=job_id)
        # An export holds whatever its filters chose: only the one who asked for it (or a superuser) sees it.
        if job.requested_by_id != request.user.pk and not request.user.is_superuser:
            raise PermissionDenied
        return job

    def export_job_view(self, request, job_id):
        job = self._export_job_get(request, job_id)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Export {job.file_name}",
            "job": job,
        }
        if request.htmx:  # the polled region alone
            return TemplateResponse(request, "admin/orders/order/_export_job_body.html", context)
        return TemplateResponse(request, "admin/orders/order/export_job.html", context)

    def export_job_download_view(self, request, job_id):
        job = self._export_job_get(request, job_id)
        try:
            file = export_job_file(job=job)
        except ExportJobError as error:
            messages.error(request, str(error))
            return redirect("admin:orders_order_export_job", job_id=job.pk)
        return FileResponse(
            file,
            as_attachment=True,
            filename=job.file_name,
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
