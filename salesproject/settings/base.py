"""Settings shared by every environment, read from the environment with django-environ."""

from pathlib import Path

import environ

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
    "import_export",
    "simple_history",
    "orders",
    "reports",
    "insights",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
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
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
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

# --- Ingestion ------------------------------------------------------------
BUCKET_DIR = Path(env("BUCKET_DIR", default=str(BASE_DIR / "bucket")))
# Rows read, cleaned and written per batch: memory stays flat as files grow.
INGEST_CHUNK_ROWS = env.int("INGEST_CHUNK_ROWS", default=20_000)
# Used only when a file's dates cannot tell day-first from month-first ("DMY" or "MDY").
INGEST_DEFAULT_DATE_ORDER = env("INGEST_DEFAULT_DATE_ORDER", default="DMY")
# Used only when a file's numbers cannot tell the decimal mark ("." or ",").
INGEST_DEFAULT_DECIMAL_MARK = env("INGEST_DEFAULT_DECIMAL_MARK", default=".")

# A bucket file must be unchanged this long before it is read: never half-way through a copy.
INGEST_SETTLE_SECONDS = env.float("INGEST_SETTLE_SECONDS", default=2.0)
INGEST_TASK_SOFT_TIME_LIMIT = env.int("INGEST_TASK_SOFT_TIME_LIMIT", default=60 * 60)
INGEST_TASK_TIME_LIMIT = env.int("INGEST_TASK_TIME_LIMIT", default=60 * 60 + 300)

# --- Quick Insights -------------------------------------------------------
# Without a key the insights are written from the facts by templates: no call, no cost.
OPENAI_API_KEY = env("OPENAI_API_KEY", default="")
# Azure OpenAI, a gateway or a local OpenAI-compatible server; empty means OpenAI itself.
OPENAI_BASE_URL = env("OPENAI_BASE_URL", default="")
OPENAI_MODEL = env("OPENAI_MODEL", default="gpt-4o")
# Seconds one API call may take before it counts as failed (and is retried).
OPENAI_TIMEOUT = env.float("OPENAI_TIMEOUT", default=30.0)
INSIGHTS_MAX_TOKENS = env.int("INSIGHTS_MAX_TOKENS", default=1000)
INSIGHTS_TEMPERATURE = env.float("INSIGHTS_TEMPERATURE", default=0.1)
# Calls again after a 429, a 5xx or a timeout, waiting BACKOFF x 2^attempt seconds in between.
INSIGHTS_MAX_RETRIES = env.int("INSIGHTS_MAX_RETRIES", default=3)
INSIGHTS_RETRY_BACKOFF_SECONDS = env.float("INSIGHTS_RETRY_BACKOFF_SECONDS", default=2.0)
INSIGHTS_TASK_SOFT_TIME_LIMIT = env.int("INSIGHTS_TASK_SOFT_TIME_LIMIT", default=180)
INSIGHTS_TASK_TIME_LIMIT = env.int("INSIGHTS_TASK_TIME_LIMIT", default=210)
# A generation still unfinished after this long (its worker died) is handed out again.
INSIGHTS_STALE_AFTER_SECONDS = env.int("INSIGHTS_STALE_AFTER_SECONDS", default=300)
# Regenerations each staff user may ask for within the window.
INSIGHTS_REGENERATE_LIMIT = env.int("INSIGHTS_REGENERATE_LIMIT", default=5)
INSIGHTS_REGENERATE_WINDOW_SECONDS = env.int("INSIGHTS_REGENERATE_WINDOW_SECONDS", default=3600)
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
# it must be longer than the longest load, or a running load would be handed out twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=2 * 60 * 60)}

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
    },
}
