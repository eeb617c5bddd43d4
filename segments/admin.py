import re

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from common.admin_saving import adopt
from contacts.models import Contact
from segments import services
from segments.models import Membership, Segment
from segments.selectors import builder_catalog, segment_explanation

MEMBERS_SHOWN = 20
SIZES_SHOWN = 60  # the latest rebuilds


class SegmentAdminForm(forms.ModelForm):
    add_emails = forms.CharField(
        label="Add to the list",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Static lists only: e-mail addresses of contacts, separated by commas, spaces or lines.",
    )
    remove_emails = forms.CharField(
        label="Take off the list",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text="Static lists only: e-mail addresses to take off.",
    )

    class Meta:
        model = Segment
        fields = ["name", "slug", "description", "kind", "conditions"]
        widgets = {"conditions": forms.Textarea(attrs={"rows": 8, "cols": 100, "spellcheck": "false"})}
        help_texts = {
            "slug": "How the API and other segments name it; made from the name when left empty.",
            "conditions": "The stored form of the rules above; it can be read and pasted here.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slug"].required = False
        self.fields["conditions"].required = False

    def _contacts(self, field: str) -> list[int]:
        """The ids behind the addresses typed in; an address nobody has is an error."""
        addresses = {
            address.lower() for address in re.split(r"[\s,;]+", self.cleaned_data.get(field, "")) if address
        }
        if not addresses:
            return []
        if self.cleaned_data.get("kind") != Segment.Kind.STATIC:
            self.add_error(
                field, "Only a static list takes contacts by hand; this segment follows its conditions."
            )
            return []
        found = dict(Contact.objects.filter(email__in=addresses).values_list("email", "pk"))
        missing = sorted(addresses - set(found))
        if missing:
            self.add_error(field, f"No contact has these addresses: {', '.join(missing)}")
        return sorted(found.values())

    def clean(self):
        data = super().clean()
        data["add_ids"] = self._contacts("add_emails")
        data["remove_ids"] = self._contacts("remove_emails")
        candidate = Segment(
            pk=self.instance.pk,
            name=data.get("name") or "",
            slug=data.get("slug") or "",
            kind=data.get("kind") or Segment.Kind.DYNAMIC,
            conditions=data.get("conditions") if data.get("conditions") is not None else {"all": []},
        )
        try:
            services.segment_check(candidate)
        except services.SegmentError as error:
            for path, message in error.errors:
                field = path.split(".", 1)[0] if path.split(".", 1)[0] in self.fields else None
                self.add_error(
                    field, f"{path}: {message}" if field == "conditions" and path != field else message
                )
        return data


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    form = SegmentAdminForm
    change_form_template = "admin/segments/segment/change_form.html"
    list_display = ["name", "slug", "kind", "size", "described", "uses_time", "rebuilt_at"]
    list_filter = ["kind", "uses_time"]
    search_fields = ["name", "slug"]
    readonly_fields = ["size", "rebuilt_at"]
    actions = ["rebuild"]

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "from-topic/<int:topic_id>/",
                view(require_POST(self.from_topic_view)),
                name="segments_segment_from_topic",
            ),
            *super().get_urls(),
        ]

    def from_topic_view(self, request, topic_id: int):
        """The contacts who wrote a discovered topic's texts (the topic's page posts here), as a
        new static list."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        segment = services.segment_from_topic_create(topic_id=topic_id)
        segment.refresh_from_db(fields=["size"])
        messages.success(
            request, f"The static list “{segment.name}” holds the {segment.size} contacts who wrote these."
        )
        return redirect(reverse("admin:segments_segment_change", args=[segment.pk]))

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        return fields if obj is not None else [field for field in fields if field not in self.readonly_fields]

    @admin.display(description="conditions")
    def described(self, segment):
        return segment_explanation(segment) or "(invalid)"

    def save_model(self, request, obj, form, change):
        data = {
            field: form.cleaned_data[field] for field in form.changed_data if field in services.SEGMENT_FIELDS
        }
        if change:
            services.segment_update(segment=Segment.objects.get(pk=obj.pk), data=data)
            obj.refresh_from_db()
        else:
            adopt(obj, services.segment_create(**{**data, "name": form.cleaned_data["name"]}))
        if form.cleaned_data["add_ids"]:
            services.static_members_add(segment=obj, contact_ids=form.cleaned_data["add_ids"])
        if form.cleaned_data["remove_ids"]:
            services.static_members_remove(segment=obj, contact_ids=form.cleaned_data["remove_ids"])
        obj.refresh_from_db()

    def delete_model(self, request, obj):
        services.segment_delete(segment=obj)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["builder_catalog"] = builder_catalog()
        if obj is not None:
            measures = list(obj.sizes.order_by("-measured_at")[:SIZES_SHOWN])[::-1]
            context["sizes"] = {
                "labels": [f"{measure.measured_at:%-d %b %H:%M}" for measure in measures],
                "sizes": [measure.size for measure in measures],
            }
            context["members"] = (
                Membership.objects.filter(segment=obj)
                .select_related("contact")
                .order_by("-entered_at")[:MEMBERS_SHOWN]
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    @admin.action(description="Rebuild the selected segments now")
    def rebuild(self, request, queryset):
        now = timezone.now()
        for segment in queryset:
            results = services.segment_rebuild(segment=segment, now=now)
            diff = results[segment.slug]
            self.message_user(
                request, f"{segment.name}: {diff.size} members, {diff.entered} entered, {diff.exited} left",
                messages.SUCCESS,
            )  # fmt: skip
