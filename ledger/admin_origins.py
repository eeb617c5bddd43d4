"""The admin's view of origins (see ledger.origins): a column that names what made a row,
linked to its page, and a filter by it."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html

from ledger.origins import origin_describe, origins_describe

FILTER_CHOICES = 100  # the most recent origins offered as filters; older ones by URL


def origin_link(obj) -> str:
    origin = origin_describe(obj.origin_type, obj.origin_id)
    if origin is None:
        return "—"
    return format_html('<a href="{}">{}</a>', origin.url, origin.name) if origin.url else origin.name


class OriginFilter(admin.SimpleListFilter):
    """By what made the rows (a campaign): the origins found among the rows, by name."""

    title = "made by"
    parameter_name = "origin"

    def lookups(self, request, model_admin):
        pairs = list(
            model_admin.model.objects.exclude(origin_type="")
            .exclude(origin_id=None)
            .order_by()
            .values_list("origin_type", "origin_id")
            .distinct()[:FILTER_CHOICES]
        )
        origins = origins_describe(pairs)
        named = sorted(origins.values(), key=lambda origin: origin.name.lower())
        return [(f"{origin.type}:{origin.id}", origin.name) for origin in named]

    def queryset(self, request, queryset):
        origin_type, _, origin_id = (self.value() or "").partition(":")
        if not origin_type or not origin_id.isdigit():
            return queryset
        return queryset.filter(origin_type=origin_type, origin_id=int(origin_id))
