from django.apps import AppConfig
from django.db.models.signals import post_migrate


class MopsConfig(AppConfig):
    """The project itself as an app: roles, demo data, benchmarks. It sits on top of
    every other app; nothing imports from it."""

    name = "mops"
    verbose_name = "MOps back-office"

    def ready(self) -> None:
        from mops.roles import roles_sync_on_migrate

        post_migrate.connect(roles_sync_on_migrate, sender=self)
