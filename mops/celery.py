import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mops.settings")

# Every task runs as an algorithmic actor (ledger.tasks.ActorTask), so the ledger
# knows who did what without each task having to say it.
app = Celery("mops", task_cls="ledger.tasks:ActorTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
