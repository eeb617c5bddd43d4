"""The three roles and what each may do. Groups are kept in step with this table
after every migrate, so a new model's permissions reach the roles by themselves."""

from django.contrib.auth.models import Group, Permission

VIEWER, MARKETER, ADMIN = "Viewer", "Marketer", "Admin"

OUR_APPS = ("ledger", "contacts", "intents", "segments", "messaging", "routing", "campaigns", "reporting")
# Marketers build segments and campaigns and edit contacts; they read the rest.
MARKETER_EDITS = ("contacts", "intents", "segments", "messaging", "routing", "campaigns")
# Configuration only an Admin changes, even inside the apps marketers edit.
ADMIN_ONLY_MODELS = {("contacts", "touchpointkind")}


def role_permissions() -> dict[str, list[Permission]]:
    ours = list(
        Permission.objects.filter(content_type__app_label__in=OUR_APPS).select_related("content_type")
    )
    view = [p for p in ours if p.codename.startswith("view_")]
    marketer = view + [
        p
        for p in ours
        if not p.codename.startswith("view_")
        and p.content_type.app_label in MARKETER_EDITS
        and (p.content_type.app_label, p.content_type.model) not in ADMIN_ONLY_MODELS
    ]
    admin = ours + list(Permission.objects.filter(content_type__app_label__in=("auth", "django_celery_beat")))
    return {VIEWER: view, MARKETER: marketer, ADMIN: admin}


def roles_sync() -> None:
    for name, permissions in role_permissions().items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(permissions)


def roles_sync_on_migrate(sender, **kwargs) -> None:
    roles_sync()
