"""The privacy actions on contacts (export, erase), offered to the contacts' admin as a
mixin: the project composes the contact admin from each app's part (mops/admin.py)."""

from __future__ import annotations

import json

from django.contrib import admin
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.template.response import TemplateResponse

from privacy.services import contact_erase, contact_export


@admin.action(description="Export personal data (JSON)", permissions=["view"])
def export_personal_data(modeladmin, request, queryset):
    documents = [contact_export(contact=contact) for contact in queryset.order_by("pk")]
    body = documents[0] if len(documents) == 1 else documents
    response = HttpResponse(
        json.dumps(body, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2),
        content_type="application/json",
    )
    name = f"contact-{documents[0]['contact']['id']}" if len(documents) == 1 else "contacts"
    response["Content-Disposition"] = f'attachment; filename="{name}-personal-data.json"'
    return response


@admin.action(description="Erase personal data", permissions=["delete"])
def erase_personal_data(modeladmin, request, queryset):
    if request.POST.get("post") == "yes":
        reason = request.POST.get("reason", "")
        for contact in queryset:
            contact_erase(contact=contact, reason=reason)
        modeladmin.message_user(request, f"Erased the personal data of {queryset.count()} contact(s).")
        return None
    return TemplateResponse(
        request,
        "admin/privacy/erase_confirm.html",
        {
            **modeladmin.admin_site.each_context(request),
            "contacts": list(queryset),
            "title": "Erase personal data",
        },
    )


class ContactPrivacyAdmin:
    """The contact admin's part from privacy: a copy of a person's data, and its erasure."""

    privacy_actions = (export_personal_data, erase_personal_data)
