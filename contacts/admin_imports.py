"""The admin's import pages: upload, map the columns with a preview, follow the run."""

from pathlib import Path

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.html import format_html

from contacts.imports.browser import FIELDS, IGNORE, import_preview, import_queue, import_upload
from contacts.models import ImportJob

KIND_PERMISSION = {
    ImportJob.Kind.CONTACTS: "contacts.add_contact",
    ImportJob.Kind.TOUCHPOINTS: "contacts.add_touchpoint",
}


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(choices=ImportJob.Kind.choices, label="What the file holds")
    file = forms.FileField(
        help_text="CSV (comma or semicolon separated, UTF-8) or JSON Lines (.jsonl), with a header row."
    )


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ["started_at", "kind", "file_name_link", "status", "progress", "summary", "actor_name"]
    list_filter = ["kind", "status"]
    search_fields = ["file_name"]
    change_list_template = "admin/contacts/importjob/change_list.html"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("upload/", view(self.upload_view), name="contacts_importjob_upload"),
            path("<int:job_id>/map/", view(self.map_view), name="contacts_importjob_map"),
            path("<int:job_id>/status/", view(self.status_view), name="contacts_importjob_status"),
            path("<int:job_id>/rejects/", view(self.rejects_view), name="contacts_importjob_rejects"),
            *super().get_urls(),
        ]

    @admin.display(description="file", ordering="file_name")
    def file_name_link(self, job):
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:contacts_importjob_status", args=[job.pk]), job.file_name
        )

    @admin.display(description="progress")
    def progress(self, job):
        return f"{job.percent_done} %"

    @admin.display(description="result")
    def summary(self, job):
        return ", ".join(f"{key} {value}" for key, value in job.counts.items()) or job.error[:80]

    def _context(self, request, **extra):
        return {**self.admin_site.each_context(request), "opts": self.model._meta, **extra}

    def upload_view(self, request):
        form = ImportUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            kind = form.cleaned_data["kind"]
            if not request.user.has_perm(KIND_PERMISSION[kind]):
                raise PermissionDenied
            try:
                job = import_upload(kind=kind, uploaded=form.cleaned_data["file"], user=request.user)
            except ValidationError as error:
                for field, messages_ in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, messages_)
            else:
                return redirect("admin:contacts_importjob_map", job.pk)
        return render(
            request,
            "admin/contacts/importjob/upload.html",
            self._context(request, form=form, title="Import a file"),
        )

    def map_view(self, request, job_id):
        job = get_object_or_404(ImportJob, pk=job_id)
        if not request.user.has_perm(KIND_PERMISSION[job.kind]):
            raise PermissionDenied
        if job.status != ImportJob.Status.UPLOADED:
            return redirect("admin:contacts_importjob_status", job.pk)
        columns, rows = import_preview(job=job)
        error = ""
        if request.method == "POST":
            mapping = {
                column: request.POST.get(f"map-{index}", column) for index, column in enumerate(columns)
            }
            try:
                import_queue(job=job, mapping=mapping if job.mapping else {})
            except ValidationError as problem:
                error = " ".join(problem.messages)
                job.mapping = mapping
            else:
                messages.success(request, f"{job.file_name} is being imported.")
                return redirect("admin:contacts_importjob_status", job.pk)
        fields = FIELDS[job.kind]
        keep_label = "keep as attribute" if job.kind == ImportJob.Kind.CONTACTS else "keep as property"
        choices = [
            {
                "index": index,
                "column": column,
                "selected": job.mapping.get(column, column),
                "options": [
                    *((field, field) for field in fields),
                    (column, f"{keep_label} “{column}”"),
                    (IGNORE, "leave out"),
                ],
            }
            for index, column in enumerate(columns)
        ]
        context = self._context(
            request,
            job=job,
            choices=choices,
            rows=rows,
            error=error,
            title=f"Map the columns of {job.file_name}",
        )
        return render(request, "admin/contacts/importjob/map.html", context)

    def status_view(self, request, job_id):
        job = get_object_or_404(ImportJob, pk=job_id)
        finished = job.status in (ImportJob.Status.DONE, ImportJob.Status.FAILED)
        counts = [(key.replace("_", " ").capitalize(), value) for key, value in job.counts.items()]
        context = self._context(
            request, job=job, counts=counts, finished=finished, title=f"Import of {job.file_name}"
        )
        return render(request, "admin/contacts/importjob/status.html", context)

    def rejects_view(self, request, job_id):
        job = get_object_or_404(ImportJob, pk=job_id)
        if not (self.has_view_permission(request, job) and job.rejects):
            raise Http404("no rejected rows for this import")
        return FileResponse(job.rejects.open("rb"), as_attachment=True, filename=Path(job.rejects.name).name)
