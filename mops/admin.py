"""The admin pages that several apps build together, composed once here, above them all:
each app exports its part as a class and none registers or patches another's."""

from django.contrib import admin

from contacts.admin import ContactAdmin, TouchpointAdmin
from contacts.models import Contact, Touchpoint
from intents.admin import ContactIntentsAdmin, TouchpointIntentsAdmin
from privacy.admin import ContactPrivacyAdmin


@admin.register(Contact)
class ContactPageAdmin(ContactPrivacyAdmin, ContactIntentsAdmin, ContactAdmin):
    actions = [*ContactAdmin.actions, *ContactPrivacyAdmin.privacy_actions]


@admin.register(Touchpoint)
class TouchpointPageAdmin(TouchpointIntentsAdmin, TouchpointAdmin):
    pass
