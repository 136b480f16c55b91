"""Settings shared by every environment.

What an operator sets (secrets, addresses, folders, limits, the model) is read from the
environment with django-environ; the tuning of the code's internals is a constant here.
"""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF, UNSAFE_HASHES, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_celery_beat",
    "axes",
    "import_export",
    "simple_history",
    "accounts",
    "orders",
    "reports",
    "insights",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before CSRF, whose check reads the body: a body too big is refused unread.
    "salesproject.request_limits.RequestBodyLimitMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the 429 answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "salesproject.urls"
WSGI_APPLICATION = "salesproject.wsgi.application"

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

# --- Database -------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server, the in-process bucket scanner and `ingest` share one file:
    # take the write lock at BEGIN and wait for it rather than failing at once.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            # A page cache of 32 MB (SQLite's default is 2 MB): a big load updates several
            # indexes of a million rows, which a 2 MB cache reads from disk again and again.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-32768;",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# The project's own assets (favicon, vendored scripts): never a CDN, the app runs offline.
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

LOGIN_URL = "admin:login"

# --- Sign-in throttling (django-axes) --------------------------------------
# Failed sign-ins, through the admin's form or HTTP Basic (the JSON API), are counted per user
# name and per client address; at the limit either is refused, even with the right password,
# with a 429 until the cool-off has passed since the last failure.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# The log names the user and the address (a password never is).
AXES_SENSITIVE_PARAMETERS = []
AXES_LOCKOUT_CALLABLE = "salesproject.login_throttle.lockout_response"
AXES_CLIENT_IP_CALLABLE = "salesproject.login_throttle.client_address"
# Proxies in front of gunicorn that append to X-Forwarded-For (one TLS proxy: 1). With 0 the
# client address is the connection's, which behind a proxy is the proxy's for every client.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# --- Request bodies ---------------------------------------------------------
# A body larger than this is refused before it is read (RequestBodyLimitMiddleware), and form
# fields are held in memory up to it; only the admin's import takes more, up to IMPORT_MAX_UPLOAD_MB.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# --- Content-Security-Policy (django-csp) ---------------------------------
# Scripts and styles come from our own static files only: an injected <script>, <style> or
# onclick="" does nothing. htmx is configured not to need more (templates/htmx_config.html).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        # django-import-export's export page has one handler attribute, onchange="onSelectToggleChange(event)"
        # (its "Select all" box): that exact text may run, no other.
        "script-src-attr": [UNSAFE_HASHES, "'sha256-wid4zL8fR53ZYy1ljOepzR77Dn6vWUUxuNnnWWBP3I8='"],
        "style-src": [SELF],
        # The admin pages of django-import-export (export) and django-simple-history (history)
        # write style="" attributes. An attribute can neither run code nor select other elements
        # to leak them; a <style> element is still refused.
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- Ingestion ------------------------------------------------------------
BUCKET_DIR = Path(env("BUCKET_DIR", default=str(BASE_DIR / "bucket")))
# BUCKET_URL chooses the bucket: a folder path or file:///... (then it is BUCKET_DIR), or
# s3://bucket-name/prefix/ for S3 or any S3-compatible store, configured by the standard AWS
# variables (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION).
BUCKET_URL = env("BUCKET_URL", default="")
if BUCKET_URL and not BUCKET_URL.startswith("s3://"):
    from urllib.parse import unquote, urlparse

    BUCKET_DIR = Path(unquote(urlparse(BUCKET_URL).path) if BUCKET_URL.startswith("file://") else BUCKET_URL)
# S3 only: keys per listing request, attempts per request (botocore retries throttling, 5xx and
# dropped connections with backoff), timeouts, and the size of each streamed read.
BUCKET_S3_PAGE_SIZE = 1000
BUCKET_S3_MAX_ATTEMPTS = 5
BUCKET_S3_CONNECT_TIMEOUT = 5.0
BUCKET_S3_READ_TIMEOUT = 60.0
BUCKET_S3_CHUNK_BYTES = 1 << 20
# "auto", "path" or "virtual": some S3-compatible stores answer only one of them.
BUCKET_S3_ADDRESSING_STYLE = env("BUCKET_S3_ADDRESSING_STYLE", default="auto")
# With no broker, the watcher scans an S3 bucket this often (a folder: within seconds of a change).
BUCKET_S3_POLL_SECONDS = env.float("BUCKET_S3_POLL_SECONDS", default=60.0)
# Rows read, cleaned and written per batch: memory stays flat as files grow.
INGEST_CHUNK_ROWS = 20_000
# Used only when a file's dates cannot tell day-first from month-first ("DMY" or "MDY").
INGEST_DEFAULT_DATE_ORDER = env("INGEST_DEFAULT_DATE_ORDER", default="DMY")
# Used only when a file's numbers cannot tell the decimal mark ("." or ",").
INGEST_DEFAULT_DECIMAL_MARK = env("INGEST_DEFAULT_DECIMAL_MARK", default=".")
# A .gz file that decompresses to more than this fails whole (a gzip bomb); plain files are as large as they are.
INGEST_MAX_DECOMPRESSED_MB = env.int("INGEST_MAX_DECOMPRESSED_MB", default=1024)
# A file with more than this percent of its rows rejected loads nothing (the run fails as "rejected")
# until staff choose "Load anyway": most likely the wrong file, or a format we read wrong. 100: never.
INGEST_MAX_REJECTED_PERCENT = env.int("INGEST_MAX_REJECTED_PERCENT", default=50)
# The shop's currency, an ISO code ("EUR"); "" (unset): not said. A file whose money values name
# another currency ("$" is read as USD) is loaded as it stands, unconverted, with a warning on its run.
SHOP_CURRENCY = env("SHOP_CURRENCY", default="").strip().upper()
if SHOP_CURRENCY and not (len(SHOP_CURRENCY) == 3 and SHOP_CURRENCY.isascii() and SHOP_CURRENCY.isalpha()):
    raise ImproperlyConfigured(f"SHOP_CURRENCY must be a three-letter ISO 4217 code such as EUR, not {SHOP_CURRENCY!r}.")

# A bucket file must be unchanged this long before it is read: never half-way through a copy.
INGEST_SETTLE_SECONDS = env.float("INGEST_SETTLE_SECONDS", default=2.0)
INGEST_TASK_SOFT_TIME_LIMIT = env.int("INGEST_TASK_SOFT_TIME_LIMIT", default=60 * 60)
INGEST_TASK_TIME_LIMIT = env.int("INGEST_TASK_TIME_LIMIT", default=60 * 60 + 300)
# Each registered file version is copied here under its SHA-256, and the load reads that copy:
# a file replaced or deleted in the bucket after registration cannot change what is loaded.
# In the bucket by default, so that every worker sharing the bucket finds it.
INGEST_SNAPSHOT_DIR = Path(env("INGEST_SNAPSHOT_DIR", default=str(BUCKET_DIR / ".salesproject" / "snapshots")))
# A load that meets a database error is retried with capped exponential backoff (with jitter):
# about 12 minutes in all; the bucket scan re-dispatches whatever outlasts that.
INGEST_RETRY_BACKOFF_SECONDS = 2.0
INGEST_RETRY_BACKOFF_MAX_SECONDS = 60.0
INGEST_RETRY_MAX = 16
# Files staff upload in the admin are kept beside the bucket's, under names of ours, where every
# web process and worker finds them between the preview and the confirmation.
IMPORT_UPLOAD_DIR = Path(env("IMPORT_UPLOAD_DIR", default=str(BUCKET_DIR / ".salesproject" / "uploads")))
IMPORT_MAX_UPLOAD_MB = env.int("IMPORT_MAX_UPLOAD_MB", default=200)
# Uploads never confirmed are deleted (row and file) by a periodic task after this long.
IMPORT_UPLOAD_KEEP_HOURS = 24
# Rows of each kind (new, updated, rejected...) an import preview shows; the counts cover them all.
IMPORT_PREVIEW_ROWS = 300
# A preview stops at whichever comes first, and says so: its counts then cover the rows it read.
IMPORT_PREVIEW_MAX_ROWS = 1_000_000
IMPORT_PREVIEW_MAX_SECONDS = 20.0
# The bucket scan queues again a run whose load was queued this long ago and has not started
# (a lost message, a broker that was down), or whose retry is this long overdue.
INGEST_REDISPATCH_MINUTES = 10.0

# --- Cache ----------------------------------------------------------------
# Shared by every process when Redis is there (a load's progress, written by the worker, is read
# by the web process); in-process otherwise, where the load runs in the request anyway.
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": env("REDIS_URL")}
        if env("REDIS_URL", default="")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# After each load that changed data, compute the dashboard's presets into the shared cache.
REPORTS_WARM_AFTER_LOAD = True

# --- Quick Insights -------------------------------------------------------
# Without a key the insights are written from the facts by templates: no call, no cost.
OPENAI_API_KEY = env("OPENAI_API_KEY", default="")
# Azure OpenAI, a gateway or a local OpenAI-compatible server; empty means OpenAI itself.
OPENAI_BASE_URL = env("OPENAI_BASE_URL", default="")
OPENAI_MODEL = env("OPENAI_MODEL", default="gpt-4o")
# Seconds one API call may take before it counts as failed (and is retried).
OPENAI_TIMEOUT = env.float("OPENAI_TIMEOUT", default=30.0)
INSIGHTS_MAX_TOKENS = 1000
INSIGHTS_TEMPERATURE = 0.1
# Calls again after a 429, a 5xx or a timeout, waiting BACKOFF x 2^attempt seconds in between.
INSIGHTS_MAX_RETRIES = 3
INSIGHTS_RETRY_BACKOFF_SECONDS = 2.0
INSIGHTS_TASK_SOFT_TIME_LIMIT = 180
INSIGHTS_TASK_TIME_LIMIT = 210
# A generation still unfinished after this long (its worker died) is handed out again.
INSIGHTS_STALE_AFTER_SECONDS = 300
# Regenerations each staff user may ask for within the window.
INSIGHTS_REGENERATE_LIMIT = env.int("INSIGHTS_REGENERATE_LIMIT", default=5)
INSIGHTS_REGENERATE_WINDOW_SECONDS = env.int("INSIGHTS_REGENERATE_WINDOW_SECONDS", default=3600)
# Model calls each user's requests may start in an hour (new ranges and regenerations alike);
# beyond it the answer is written from the facts. Pre-generation after a load is not counted.
INSIGHTS_CALLS_PER_USER_PER_HOUR = env.int("INSIGHTS_CALLS_PER_USER_PER_HOUR", default=10)
# Off by default because it spends money: generate the all-time insight after each load that changed data.
INSIGHTS_PREGENERATE_AFTER_LOAD = env.bool("INSIGHTS_PREGENERATE_AFTER_LOAD", default=False)

# --- Celery ---------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_RESULT_BACKEND = None
# Without a broker the tasks run in-process, so the app works on embedded defaults.
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Keep Django's LOGGING: a hijacked root logger would drop the worker's task lines from app.log.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# A message whose worker died unacknowledged is delivered again after this many seconds;
# it must be longer than the longest load (its hard time limit), or a running load would be
# handed out twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": max(2 * 60 * 60, INGEST_TASK_TIME_LIMIT + 10 * 60)}

# --- Logging --------------------------------------------------------------
LOG_DIR = Path(env("LOG_DIR", default=str(BASE_DIR / "logs")))
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOG_DIR.mkdir(parents=True, exist_ok=True)


def log_file_handler(log_dir: Path, name: str) -> dict:
    return {
        "class": "logging.handlers.WatchedFileHandler",
        "filename": str(log_dir / name),
        "formatter": "plain",
        "encoding": "utf-8",
    }


LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        "app_file": log_file_handler(LOG_DIR, "app.log"),
        "pipeline_file": log_file_handler(LOG_DIR, "pipeline_execution.log"),
        "database_file": log_file_handler(LOG_DIR, "database_operations.log"),
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "django": {"handlers": ["console", "app_file"], "level": "INFO", "propagate": False},
        "salesproject.app": {"handlers": ["app_file"], "level": LOG_LEVEL, "propagate": False},
        "salesproject.pipeline": {"handlers": ["pipeline_file"], "level": LOG_LEVEL, "propagate": False},
        "salesproject.database": {"handlers": ["database_file"], "level": LOG_LEVEL, "propagate": False},
        "celery": {"handlers": ["console", "app_file"], "level": "INFO", "propagate": False},
        # Failed sign-ins and lockouts.
        "axes": {"handlers": ["console", "app_file"], "level": "WARNING", "propagate": False},
    },
}

# --- Staff workbench (django-import-export) -------------------------------
# Import and export each need their own permission on Order (orders.import_order, orders.export_order).
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "import"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "export"
# A control character must not make an XLSX export fail. Formulae are not the library's
# setting (it strips one "="): our writers escape every CSV cell with salesproject.csv_cells.
IMPORT_EXPORT_ESCAPE_ILLEGAL_CHARS_ON_EXPORT = True
# Rows fetched from the database per round trip while an export streams.
EXPORT_CHUNK_ROWS = 5_000
# An XLSX export of more orders than this is written by a worker, not inside the request
# (openpyxl writes a few thousand rows a second); the page follows it and offers the file.
EXPORT_XLSX_INLINE_MAX_ROWS = 20_000
# Where those files are kept until downloaded: beside the bucket, readable by every web process.
EXPORT_DIR = Path(env("EXPORT_DIR", default=str(BUCKET_DIR / ".salesproject" / "exports")))
# Written exports older than this are deleted when the next one is asked for.
EXPORT_KEEP_HOURS = 24

# orders.Order's order_date index carries INCLUDE columns for the reports on PostgreSQL;
# SQLite ignores them (a plain order_date index), which is all it needs there.
SILENCED_SYSTEM_CHECKS = ["models.W040"]
