"""Regent settings: one module, read from the environment.

With nothing set, Regent runs on SQLite, the in-memory channel layer and in-process Celery so a
newcomer sees it working with one command. Production sets DATABASE_URL, REDIS_URL and SECRET_KEY;
setting SECRET_KEY turns DEBUG off unless DEBUG is given explicitly.
"""

import os
from decimal import Decimal, InvalidOperation
from pathlib import Path

import babel
import babel.numbers
import dj_database_url
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    """A variable set but empty (`DATABASE_URL= make demo`) counts as unset, as it does for the other helpers."""
    return os.environ.get(name) or default


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use true or false).")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer.") from None


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number.") from None


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


SECRET_KEY = env_str("SECRET_KEY")
DEBUG = env_bool("DEBUG", default=not SECRET_KEY)
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off. Set SECRET_KEY to a long random string "
            "(python -c 'import secrets; print(secrets.token_urlsafe(50))')."
        )
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "*" if DEBUG else "localhost,127.0.0.1")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
# The port pages open the live stream's socket on, when WebSockets are served apart from pages (the Procfile's
# `stream` process beside its WSGI `web`, docs/deployment.md); empty: the page's own host and port, as behind a
# load balancer that routes /ws/ to the stream processes. The page's origin must then be in CSRF_TRUSTED_ORIGINS.
STREAM_PORT = env_str("STREAM_PORT")
if STREAM_PORT and not (STREAM_PORT.isdigit() and 0 < int(STREAM_PORT) < 65536):
    raise ImproperlyConfigured(f"STREAM_PORT={STREAM_PORT!r} is not a TCP port (1-65535), or leave it empty.")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "channels",
    # Regent's apps, lowest layer first (the import contract in pyproject.toml holds them to it).
    "audit",
    "orchestration",
    "governance",
    "accounts",
    "traces",
    "workflows",
    "gateway",
    "integrations",
    "notifications",
    "dashboard",
    "alerting",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.csp.StreamPortCSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "audit.middleware.AuditActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "restapi.unavailable.ServiceUnavailableMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"

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
                "dashboard.context_processors.navigation",
                "dashboard.context_processors.live_stream",
            ],
        },
    },
]

DB_POOL_MAX = env_int("DB_POOL_MAX", 20)
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env_int("DB_CONNECT_TIMEOUT", 5)
    # Under ASGI each request runs in a new thread, so persistent connections are never reused:
    # a pool per process is what keeps a new connection (2-4 ms) off every request.
    # A request that finds every connection busy waits DB_POOL_TIMEOUT seconds, then is answered 503 with
    # Retry-After (restapi.errors): a short wait keeps overload an answer instead of a queue of 10 s waits.
    if env_bool("DB_POOL", default=True):
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"]["OPTIONS"]["pool"] = {
            "min_size": env_int("DB_POOL_MIN", 2),
            "max_size": DB_POOL_MAX,
            "timeout": env_float("DB_POOL_TIMEOUT", 1.0),
        }
# HTTP requests each server process serves at once; past it a request is answered 503 with Retry-After at once
# (restapi.admission). Never more than the pool has connections, so an admitted request does not wait for one; and
# at most 8, since a process runs its Python on one core: at 10x overload on the 2-core VM (bench/overload.py), 8 in
# flight kept admitted requests' p99 at 0.4-0.5 s against 0.9-1.2 s with 20, for as many decisions per second.
MAX_REQUESTS_IN_FLIGHT = env_int("MAX_REQUESTS_IN_FLIGHT", min(DB_POOL_MAX, 8))
if MAX_REQUESTS_IN_FLIGHT < 1:
    raise ImproperlyConfigured(f"MAX_REQUESTS_IN_FLIGHT={MAX_REQUESTS_IN_FLIGHT} admits nothing; use 1 or more.")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # One writer at a time: wait for the lock instead of failing while the simulator writes.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# How audit events reach the chain (README, Architecture, "DESIGN: the audit chain is sequenced…"): "queued", the
# default on PostgreSQL, written to a queue that the sequencer (`manage.py sequence_audit`, which must run beside
# the web processes) links in batches, so no writer waits for another's commit; or "inline", linked under the chain
# head's lock in the writer's transaction: the default on SQLite, one process and no sequencer.
AUDIT_SEQUENCING = env_str(
    "AUDIT_SEQUENCING", "queued" if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" else "inline"
)
if AUDIT_SEQUENCING not in ("inline", "queued"):
    raise ImproperlyConfigured(f"AUDIT_SEQUENCING={AUDIT_SEQUENCING!r} is not inline or queued.")
if AUDIT_SEQUENCING == "queued" and DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("AUDIT_SEQUENCING=queued needs PostgreSQL (DATABASE_URL=postgres://…).")
# Readiness (/readyz) fails when the oldest queued audit event has waited longer than this: the sequencer is down or
# behind, and decisions are being made that auditors, the live stream and webhooks cannot see yet.
AUDIT_QUEUE_MAX_AGE_SECONDS = env_float("AUDIT_QUEUE_MAX_AGE_SECONDS", 5.0)
# /metrics (Prometheus) answers only `Authorization: Bearer <METRICS_TOKEN>`; unset, the endpoint does not exist.
METRICS_TOKEN = env_str("METRICS_TOKEN")
if METRICS_TOKEN and len(METRICS_TOKEN) < 32:
    raise ImproperlyConfigured("METRICS_TOKEN must be at least 32 characters (e.g. `openssl rand -hex 32`).")
if AUDIT_QUEUE_MAX_AGE_SECONDS <= 0:
    raise ImproperlyConfigured(f"AUDIT_QUEUE_MAX_AGE_SECONDS={AUDIT_QUEUE_MAX_AGE_SECONDS} must be more than 0.")

# The organisation's currency (ISO 4217) and the locale its figures are written in: agent costs, spend and budgets
# are in ORG_CURRENCY; an action's amount in another currency is shown in that currency, never summed with them.
ORG_CURRENCY = env_str("ORG_CURRENCY", "USD").upper()
if not babel.numbers.is_currency(ORG_CURRENCY):
    raise ImproperlyConfigured(f"ORG_CURRENCY={ORG_CURRENCY!r} is not an ISO 4217 currency code (e.g. USD, EUR, GBP).")
ORG_LOCALE = env_str("ORG_LOCALE", "en_US")
try:
    babel.Locale.parse(ORG_LOCALE)
except (ValueError, babel.UnknownLocaleError):
    raise ImproperlyConfigured(f"ORG_LOCALE={ORG_LOCALE!r} is not a locale (e.g. en_US, en_GB, de_DE).") from None


def parse_exchange_rates(text: str) -> dict[str, Decimal]:
    """`EUR=1.08,GBP=1.27`: how many units of ORG_CURRENCY one unit of each other currency is worth."""
    rates = {}
    for pair in filter(None, (part.strip() for part in text.split(","))):
        code, _, rate = pair.partition("=")
        code = code.strip().upper()
        try:
            value = Decimal(rate.strip())
        except InvalidOperation:
            value = Decimal("NaN")
        if not babel.numbers.is_currency(code) or not value.is_finite() or value <= 0:
            raise ImproperlyConfigured(
                f"EXCHANGE_RATES: {pair!r} is not CODE=rate with an ISO 4217 code and a rate above 0 (e.g. EUR=1.08)."
            )
        rates[code] = value
    return rates


# Budgets are kept in ORG_CURRENCY. An action's amount in another currency is charged to them at its rate here, and
# denied when it has none: never added to them as if it were ORG_CURRENCY (governance.budgets).
EXCHANGE_RATES = parse_exchange_rates(env_str("EXCHANGE_RATES"))

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard:overview"
LOGOUT_REDIRECT_URL = "login"

# Single sign-on with OpenID Connect (mozilla-django-oidc; docs/sign-in.md): on when OIDC_RP_CLIENT_ID is set.
AUTHENTICATION_BACKENDS = ["accounts.passwords.PasswordBackend", "accounts.oidc.SignInBackend"]
OIDC_RP_CLIENT_ID = env_str("OIDC_RP_CLIENT_ID")
OIDC_RP_CLIENT_SECRET = env_str("OIDC_RP_CLIENT_SECRET")
OIDC_OP_AUTHORIZATION_ENDPOINT = env_str("OIDC_OP_AUTHORIZATION_ENDPOINT")
OIDC_OP_TOKEN_ENDPOINT = env_str("OIDC_OP_TOKEN_ENDPOINT")
OIDC_OP_USER_ENDPOINT = env_str("OIDC_OP_USER_ENDPOINT")
OIDC_OP_JWKS_ENDPOINT = env_str("OIDC_OP_JWKS_ENDPOINT")
OIDC_OP_ISSUER = env_str("OIDC_OP_ISSUER")  # when set, ID tokens must name it as their issuer (`iss`)
OIDC_RP_SIGN_ALGO = env_str("OIDC_RP_SIGN_ALGO", "RS256")
OIDC_RP_SCOPES = env_str("OIDC_RP_SCOPES", "openid email profile groups")
OIDC_GROUPS_CLAIM = env_str("OIDC_GROUPS_CLAIM", "groups")
OIDC_PROVIDER_NAME = env_str("OIDC_PROVIDER_NAME", "SSO")
OIDC_TIMEOUT = env_int("OIDC_TIMEOUT_SECONDS", 10)
OIDC_TOKEN_USE_BASIC_AUTH = True  # client_secret_basic, which every provider must accept (RFC 6749 2.3.1)
if OIDC_RP_CLIENT_ID:
    _missing = [
        name
        for name in (
            "OIDC_RP_CLIENT_SECRET",
            "OIDC_OP_AUTHORIZATION_ENDPOINT",
            "OIDC_OP_TOKEN_ENDPOINT",
            "OIDC_OP_USER_ENDPOINT",
            "OIDC_OP_JWKS_ENDPOINT",
        )
        if not globals()[name]
    ]
    if _missing:
        raise ImproperlyConfigured(f"Single sign-on (OIDC_RP_CLIENT_ID) also needs {', '.join(_missing)}.")
# Local passwords; off, only single sign-on signs people in, superusers too (docs/sign-in.md, emergency access).
PASSWORD_LOGIN = env_bool("PASSWORD_LOGIN", default=True)
if not PASSWORD_LOGIN and not OIDC_RP_CLIENT_ID:
    raise ImproperlyConfigured("PASSWORD_LOGIN=false needs single sign-on (OIDC_RP_CLIENT_ID…), or nobody can log in.")
# A username's password login is locked for LOGIN_LOCKOUT_SECONDS after this many failures within that time.
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_LOCKOUT_SECONDS = env_int("LOGIN_LOCKOUT_SECONDS", 900)
if LOGIN_FAILURE_LIMIT < 1 or LOGIN_LOCKOUT_SECONDS < 1:
    raise ImproperlyConfigured("LOGIN_FAILURE_LIMIT and LOGIN_LOCKOUT_SECONDS must be 1 or more.")

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "dashboard.staticfiles.PlotlyFinder",
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Serve straight from the finders when collectstatic has not run (the demo, the tests).
WHITENOISE_USE_FINDERS = env_bool("WHITENOISE_USE_FINDERS", default=True)

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "capacity": env_int("CHANNEL_CAPACITY", 1000)},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Celery's Django fixup would close the database pool around every task of a prefork worker (celery#10554),
# so each task opened new connections; config.celery hands them back between tasks instead. The fixup still
# gives each worker process fresh connections, and renews them after this many tasks.
CELERY_DB_REUSE_MAX = 1000
# A task whose worker died is put back on the queue by a worker's sweep of unacknowledged tasks older than the
# visibility timeout. kombu sweeps every 10 s but scans Redis only on every 10th sweep by default, so a lost
# task could wait 100 s past its timeout; scanning on every sweep costs one small sorted-set read per 10 s.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600),
    "unacked_restore_interval": 10,
    "unacked_restore_throttle": 1,
}
CELERY_TIMEZONE = TIME_ZONE
# A step pending this long with nothing started is sent again (its task was lost between commit and publish).
STEP_RESEND_SECONDS = env_int("STEP_RESEND_SECONDS", 10)
# How often beat evaluates the alert rules (alerting.evaluation).
ALERT_EVALUATION_SECONDS = env_int("ALERT_EVALUATION_SECONDS", 60)
CELERY_BEAT_SCHEDULE = {
    "escalate-overdue-approvals": {
        "task": "governance.tasks.escalate_overdue_approvals",
        "schedule": env_int("APPROVAL_ESCALATION_SECONDS", 60),
    },
    "detect-stuck-steps": {"task": "workflows.tasks.detect_stuck_steps", "schedule": 60},
    "resend-unsent-steps": {"task": "workflows.tasks.resend_unsent_steps", "schedule": STEP_RESEND_SECONDS / 2},
    "fold-rollups": {"task": "dashboard.tasks.fold_rollups", "schedule": env_int("ROLLUP_FOLD_SECONDS", 5)},
    "resend-overdue-webhooks": {"task": "integrations.tasks.resend_overdue_webhooks", "schedule": 60},
    "evaluate-alert-rules": {"task": "alerting.tasks.evaluate_alert_rules", "schedule": ALERT_EVALUATION_SECONDS},
}

# The simulated provider's work takes up to this long (uniformly), to look like a model call.
SIMULATED_PROVIDER_LATENCY_MS = env_int("SIMULATED_PROVIDER_LATENCY_MS", 20)

# Share of work (%) above which one model provider is shown as a lock-in risk on the strategy page.
PROVIDER_CONCENTRATION_WARNING = env_int("PROVIDER_CONCENTRATION_WARNING", 60)

# Base64 of a 32-byte Ed25519 seed that signs evidence packs; unset, one is derived from SECRET_KEY.
EVIDENCE_SIGNING_KEY = env_str("EVIDENCE_SIGNING_KEY")
# Where signed checkpoints of the audit chain are copied, outside the database (audit.witnesses): a comma-separated
# list of file:///absolute/dir, s3://bucket/prefix (S3-compatible, AWS_* settings) and https://host/path (a signed
# webhook). Beat signs one every AUDIT_CHECKPOINT_SECONDS.
AUDIT_WITNESSES = env_list("AUDIT_WITNESSES", "")
for _witness in AUDIT_WITNESSES:
    if not _witness.startswith(("file:///", "s3://", "http://", "https://")):
        raise ImproperlyConfigured(
            f"AUDIT_WITNESSES entry {_witness!r} is not file:///absolute/dir, s3://bucket/prefix or https://host/path."
        )
AUDIT_CHECKPOINT_SECONDS = env_int("AUDIT_CHECKPOINT_SECONDS", 300)
if AUDIT_CHECKPOINT_SECONDS < 1:
    raise ImproperlyConfigured(f"AUDIT_CHECKPOINT_SECONDS={AUDIT_CHECKPOINT_SECONDS} must be 1 or more.")
CELERY_BEAT_SCHEDULE["sign-audit-checkpoint"] = {
    "task": "audit.tasks.sign_checkpoint",
    "schedule": AUDIT_CHECKPOINT_SECONDS,
}

# The audit log's events per hour and department (audit.counts), which the controls' evidence counts from: the
# events after the last fold are counted one by one, so fold often.
CELERY_BEAT_SCHEDULE["fold-audit-event-counts"] = {
    "task": "audit.tasks.fold_event_counts",
    "schedule": env_int("AUDIT_COUNT_SECONDS", 60),
}

# Retention (audit.retention): how long each kind of record is kept, in days, before beat archives it (a signed,
# compressed evidence pack written to RETENTION_ARCHIVE and read back to verify) and deletes it. The EU AI Act asks
# deployers to keep the logs of high-risk systems at least six months (Art. 19, 26), so decisions and the audit log
# refuse less. Traces are workflow runs with their steps. Spans are the agents' own OpenTelemetry reports (prompts,
# answers, tool calls, masked): not the record of what Regent decided, and personal data GDPR wants kept no longer
# than needed, so they may be kept less, down to a day: the dashboards' token cost is read from usage buckets
# (traces.usage) that retention leaves whole. With no RETENTION_ARCHIVE nothing is ever deleted.
RETENTION_MINIMUM_DAYS = 183
RETENTION_DAYS = {
    "decisions": env_int("RETENTION_DECISIONS_DAYS", RETENTION_MINIMUM_DAYS),
    "audit_events": env_int("RETENTION_AUDIT_EVENTS_DAYS", RETENTION_MINIMUM_DAYS),
    "traces": env_int("RETENTION_TRACES_DAYS", RETENTION_MINIMUM_DAYS),
    "spans": env_int("RETENTION_SPANS_DAYS", RETENTION_MINIMUM_DAYS),
}
RETENTION_DAYS["tool_calls"] = RETENTION_DAYS["decisions"]  # the MCP gateway's record of each call
for _kind in ("decisions", "audit_events"):
    if RETENTION_DAYS[_kind] < RETENTION_MINIMUM_DAYS:
        raise ImproperlyConfigured(
            f"RETENTION_{_kind.upper()}_DAYS={RETENTION_DAYS[_kind]} keeps {_kind.replace('_', ' ')} less than six "
            f"months: the EU AI Act (Art. 19 and 26) asks for at least six; use {RETENTION_MINIMUM_DAYS} or more."
        )
for _kind in ("traces", "spans"):
    if RETENTION_DAYS[_kind] < 1:
        raise ImproperlyConfigured(f"RETENTION_{_kind.upper()}_DAYS={RETENTION_DAYS[_kind]} must be 1 or more.")
# Where archives go: file:///absolute/dir (another disk, a mounted share, a WORM volume) or s3://bucket/prefix (an
# S3-compatible bucket; the AWS_* settings, as for AUDIT_WITNESSES). Empty: retention is off.
RETENTION_ARCHIVE = env_str("RETENTION_ARCHIVE")
if RETENTION_ARCHIVE and not RETENTION_ARCHIVE.startswith(("file:///", "s3://")):
    raise ImproperlyConfigured(
        f"RETENTION_ARCHIVE={RETENTION_ARCHIVE!r} is not file:///absolute/dir or s3://bucket/prefix."
    )
# Records per archive (each archive is written, verified and deleted in one transaction of its own): bounds memory,
# the delete's transaction and what a crash repeats.
RETENTION_BATCH = env_int("RETENTION_BATCH", 100_000)
if RETENTION_BATCH < 1:
    raise ImproperlyConfigured(f"RETENTION_BATCH={RETENTION_BATCH} must be 1 or more.")
CELERY_BEAT_SCHEDULE["apply-retention"] = {
    "task": "audit.tasks.apply_retention",
    "schedule": env_int("RETENTION_SECONDS", 3600),
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "orchestration.api.authentication.AgentKeyAuthentication",
        "integrations.api.authentication.PersonalTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["restapi.parsers.StorableJSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "restapi.pagination.NewestFirst",
    "DEFAULT_THROTTLE_CLASSES": ["integrations.api.throttling.PerCallerThrottle"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "restapi.errors.handle_exception",
}
# Requests per caller (agent key, personal token, person or address), e.g. "1200/min".
API_THROTTLE_RATE = env_str("API_THROTTLE_RATE", "1200/min")
# Largest request body: a bulk ingest of 1,000 items fits with room to spare. Django refuses a larger one
# when it is read (DRF reads JSON bodies through request.body) and the API answers 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("API_MAX_BODY_BYTES", 4 * 1024 * 1024)
SPECTACULAR_SETTINGS = {
    "TITLE": "Regent API",
    "DESCRIPTION": "Governance and observability for AI agents. Errors share one format: "
    "{status, code, detail, fields?}.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "VerdictEnum": "governance.models.decision.Verdict",
        "AgentStatusEnum": "orchestration.models.registry.Status",
        "ApprovalStatusEnum": "governance.models.approval.Approval.Status",
        "RunStatusEnum": "workflows.models.runs.WorkflowRun.Status",
        "StepStatusEnum": "workflows.models.runs.StepRun.Status",
        "ReplayStatusEnum": "governance.models.replay.ReplayRun.Status",
        "DeliveryStatusEnum": "integrations.models.WebhookDelivery.Status",
    },
}
# Throttle counters are shared by every process when Redis is there; per process otherwise. A Redis that does not
# answer within REDIS_SOCKET_TIMEOUT seconds makes the request a 503 with Retry-After (restapi.errors), not a hang.
REDIS_SOCKET_TIMEOUT = env_float("REDIS_SOCKET_TIMEOUT", 1.0)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": REDIS_SOCKET_TIMEOUT, "socket_timeout": REDIS_SOCKET_TIMEOUT},
        }
    }
# Outbound webhooks: a subscription is disabled after this many deliveries in a row fail every attempt.
WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", 6)
WEBHOOK_DISABLE_AFTER_FAILURES = env_int("WEBHOOK_DISABLE_AFTER_FAILURES", 5)
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 5)

# Notifications (notifications.delivery): email through Django's SMTP backend when EMAIL_HOST is set (unset: no
# email is sent, the zero-configuration default), chat webhooks each person sets, attempts with the webhooks' backoff.
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=EMAIL_PORT == 587)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", default=EMAIL_PORT == 465)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("Set EMAIL_USE_TLS (STARTTLS, port 587) or EMAIL_USE_SSL (port 465), not both.")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Regent <regent@localhost>")
NOTIFY_MAX_ATTEMPTS = env_int("NOTIFY_MAX_ATTEMPTS", 6)
NOTIFY_TIMEOUT_SECONDS = env_int("NOTIFY_TIMEOUT_SECONDS", 5)
# Chat webhooks go to public addresses only (notifications.chat_hosts); these hosts are let through anyway.
CHAT_WEBHOOK_ALLOWED_HOSTS = env_list("CHAT_WEBHOOK_ALLOWED_HOSTS", "")
# Where people open Regent: messages link there (an approval link is SITE_URL + /notifications/approvals/…).
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")
APPROVAL_LINK_MAX_AGE_SECONDS = env_int("APPROVAL_LINK_MAX_AGE_SECONDS", 7 * 24 * 3600)
APPROVAL_REMINDER_MINUTES = env_int("APPROVAL_REMINDER_MINUTES", 30)
CELERY_BEAT_SCHEDULE["remind-approvers"] = {"task": "notifications.tasks.remind_approvers", "schedule": 60}
CELERY_BEAT_SCHEDULE["resend-overdue-notifications"] = {
    "task": "notifications.tasks.resend_overdue_notifications",
    "schedule": 60,
}
# Deliveries delivered or failed are deleted this many days after they were written (pending ones stay).
NOTIFY_RETENTION_DAYS = env_int("NOTIFY_RETENTION_DAYS", 90)
if NOTIFY_RETENTION_DAYS < 1:
    raise ImproperlyConfigured(f"NOTIFY_RETENTION_DAYS={NOTIFY_RETENTION_DAYS} must be 1 or more.")
CELERY_BEAT_SCHEDULE["forget-old-notifications"] = {
    "task": "notifications.tasks.forget_old_notifications",
    "schedule": 3600,
}
# The MCP gateway (gateway/): how long a tool call held for a person waits for an answer before it expires.
MCP_APPROVAL_WAIT_SECONDS = env_int("MCP_APPROVAL_WAIT_SECONDS", 120)

# Production hardening; each can be relaxed by the environment behind a TLS-terminating proxy.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", default=not DEBUG)
X_FRAME_OPTIONS = "DENY"
# Only this origin's files, and no inline script anywhere (config/csp.py adds the stream's port). Styles may be
# inline: Plotly draws its charts with style attributes. data: images are Swagger UI's icons.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"refusals_on_one_line": {"()": "config.logging.RefusalsOnOneLine"}},
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "celery.app.trace": {"level": env_str("CELERY_TASK_LOG_LEVEL", "WARNING")},
        "django.request": {"filters": ["refusals_on_one_line"]},
        # The board pack's PDF: WeasyPrint narrates every page at INFO and warns of screen-only CSS it skips.
        "weasyprint": {"level": "ERROR"},
        "fontTools": {"level": "ERROR"},
        # The MCP gateway's client of upstream servers narrates every request at INFO.
        "httpx2": {"level": "WARNING"},
    },
}
