"""One settings module, driven by the environment.

Typed helpers refuse bad values instead of guessing: a value the product cannot run with raises
ImproperlyConfigured with one line saying what to set (`gocua` prints it without a traceback).
Unset `DATABASE_URL` means the embedded SQLite database at `var/gocua.sqlite3` (demo, a single
commune, tests).
"""

import os
import re
import secrets
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from gocua.lib.dburl import parse_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("GOCUA_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {raw!r}")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    return int(_env_number(name, default, int, minimum, "a whole number"))


def env_float(name: str, default: float, *, minimum: float = 0.0) -> float:
    return _env_number(name, default, float, minimum, "a number of seconds")


def _env_number(
    name: str, default: float, convert: type[int] | type[float], minimum: float, what: str
) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = convert(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be {what}, not {raw!r}") from None
    # `not >=` also refuses nan; inf is no number of seconds either.
    if not value >= minimum or value == float("inf"):
        raise ImproperlyConfigured(f"{name} must be {minimum:g} or more, not {raw.strip()}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if not raw:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = env_bool("GOCUA_DEBUG", False)
DATABASE_URL = os.environ.get("DATABASE_URL", "")
# A server database: a real deployment (its secret key from the environment; a pooler possible).
_ON_POSTGRESQL = DATABASE_URL.startswith(("postgres", "pgsql"))


def _secret_key() -> str:
    key = os.environ.get("GOCUA_SECRET_KEY", "")
    if key:
        return key
    if _ON_POSTGRESQL:
        # A server database means a real deployment: its key must come from the environment.
        raise ImproperlyConfigured(
            "GOCUA_SECRET_KEY must be set when DATABASE_URL is set: a long random string, e.g. "
            "from `python3 -c 'import secrets; print(secrets.token_urlsafe(50))'`"
        )
    # Embedded (demo/test) mode: a random key kept beside the SQLite file, never in the code.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
# The test runner adds "testserver" itself; it has no place in a deployment's defaults.
ALLOWED_HOSTS = env_list("GOCUA_ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("GOCUA_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    # The admin site, for superusers only (staff who are not superusers get a 404).
    "gocua.accounts.admin_apps.GocuaAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "gocua.changes",
    "gocua.accounts",
    "gocua.geo",
    "gocua.people",
    "gocua.imports",
    "gocua.campaigns",
    "gocua.fieldwork",
    "gocua.reports",
    "gocua.api",
    "gocua.field",
    "gocua.synthetic",
    "gocua.worker",
    "gocua.backups",
]

# Background jobs (imports started in the web, rollup rebuilds and folds, the nightly roll;
# exports are made in the request): Django's Tasks API through its backport, queued in the database (SQLite or
# PostgreSQL alike) and run by `gocua worker` (`gocua serve` starts one beside the web server).
# A worker silent this long (seconds) is taken for dead: its running tasks go back to the queue.
WORKER_DEAD_AFTER = env_int("GOCUA_WORKER_DEAD_AFTER", 30, minimum=1)
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default", "quick"],
    }
}

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # After a POST, this browser reads from the primary for a few seconds (read-your-writes).
    "gocua.lib.replicas.PrimaryAfterWrite",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "gocua.accounts.middleware.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "gocua.accounts.middleware.PrivateResponsesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "gocua.accounts.middleware.ContentSecurityPolicyMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "gocua.urls"
WSGI_APPLICATION = "gocua.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "gocua" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ]
        },
    }
]


def _sqlite(name: str) -> dict[str, Any]:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": name,
        "OPTIONS": {
            # WAL lets dashboards read while an import writes; IMMEDIATE avoids lock upgrades. A
            # 128 MB page cache: as fast for a 1.2M import as 256 MB, and keeps it under 400 MB.
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                "PRAGMA cache_size=-131072; PRAGMA temp_store=MEMORY;"
            ),
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
        },
    }


def _db_pooler() -> str:
    raw = os.environ.get("GOCUA_DB_POOLER", "").strip().lower()
    if raw in ("", "none"):
        return ""
    if raw != "transaction":
        raise ImproperlyConfigured(
            "GOCUA_DB_POOLER must be empty (direct connections) or transaction (behind "
            f"pgbouncer's pool_mode = transaction), not {raw!r}"
        )
    if not _ON_POSTGRESQL:
        raise ImproperlyConfigured(
            "GOCUA_DB_POOLER=transaction is for PostgreSQL behind pgbouncer: DATABASE_URL is not "
            "a postgres:// URL"
        )
    return raw


# How PostgreSQL is reached: "" (directly, or through a pooler in session mode) or
# "transaction" (pgbouncer's transaction pooling, where two transactions of one connection
# may run on two server connections: see _behind_pooler).
DB_POOLER = _db_pooler()


def _behind_pooler(db: dict[str, Any]) -> None:
    """Behind transaction pooling nothing may outlive a transaction on the server connection.
    psycopg names the statements it prepares _pg3_0, _pg3_1… on every connection, so two
    clients meeting on one server connection collide (DuplicatePreparedStatement; pgbouncer
    1.18 does not track prepared statements): none are prepared. Django's `.iterator()` outside
    a transaction declares a cursor WITH HOLD and fetches from it in later transactions, which
    may land on another server connection: the rows are fetched at once instead (the audit log
    and rejects CSVs, held in memory while they stream). Server-side binding stays: its
    statements are unnamed, parsed and run in one round trip on one server connection. The
    session's time zone is one of the parameters pgbouncer tracks and sets again for each
    client, and the import's staging table lives one transaction (imports.staging)."""
    if DB_POOLER != "transaction":
        return
    db["OPTIONS"]["prepare_threshold"] = None
    db["DISABLE_SERVER_SIDE_CURSORS"] = True


def _database(
    url: str = DATABASE_URL, setting: str = "DATABASE_URL", **options: Any
) -> dict[str, Any]:
    if not url:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        return _sqlite(os.environ.get("GOCUA_SQLITE_PATH", str(VAR_DIR / "gocua.sqlite3")))
    try:
        db = parse_database_url(url, conn_max_age=600, conn_health_checks=True, **options)
    except (ValueError, KeyError) as exc:
        raise ImproperlyConfigured(
            f"{setting} is not a database URL GõCửa can use ({exc}): give "
            "postgres://USER:PASSWORD@HOST:5432/NAME or sqlite:///path/to/file.sqlite3"
        ) from None
    if db["ENGINE"] == "django.db.backends.sqlite3":
        # sqlite:///relative/path or sqlite:////absolute/path, as dj-database-url reads them.
        if not db.get("NAME") or db["NAME"] == ":memory:":
            raise ImproperlyConfigured(
                f"{setting}=sqlite:// needs a file: sqlite:///path/to/file.sqlite3"
            )
        Path(db["NAME"]).resolve().parent.mkdir(parents=True, exist_ok=True)
        return _sqlite(db["NAME"])
    if db["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured(
            f"{setting} must be postgres://… (production) or sqlite:///path/to/file.sqlite3, "
            f"not {url.split(':', 1)[0]}://…"
        )
    # Parameters bound by the server, and statements run five times on a connection kept
    # prepared: the phone's visit post repeats the same dozen statements, and parsing and
    # planning them again each time cost PostgreSQL more than running them.
    db.setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=5)
    _behind_pooler(db)
    # Django's backend, with a health check that needs no `SELECT 1` round trip.
    db["ENGINE"] = "gocua.lib.postgresql"
    return db


def _replicas(primary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Aliases replica_1, replica_2… from DATABASE_REPLICA_URL: standbys of the primary, as a
    comma-separated list of URLs read like DATABASE_URL (a comma inside one URL, as in a
    libpq host list h1:5432,h2:5432, stays in it). See gocua.lib.replicas for what reads there."""
    raw = os.environ.get("DATABASE_REPLICA_URL", "").strip()
    if not raw:
        return {}
    if primary["ENGINE"] == "django.db.backends.sqlite3":
        raise ImproperlyConfigured(
            "DATABASE_REPLICA_URL needs PostgreSQL: set DATABASE_URL=postgres://… or unset it"
        )
    urls = [u.strip() for u in re.split(r",(?=\s*[a-z][a-z0-9+.-]*://)", raw) if u.strip()]
    replicas = {}
    for number, url in enumerate(urls, start=1):
        # A standby that does not answer must not hold a page for long: the primary serves.
        # Of a host list, the standby (or whichever host answers, once a failover left none).
        db = _database(url, "DATABASE_REPLICA_URL", role="prefer-standby", connect_timeout=2)
        if db["ENGINE"] != primary["ENGINE"]:
            raise ImproperlyConfigured("DATABASE_REPLICA_URL must list postgres://… URLs only")
        # The test runner points each replica at the test database instead of creating one.
        db["TEST"] = {"MIRROR": "default"}
        replicas[f"replica_{number}"] = db
    return replicas


DATABASES = {"default": _database()}
DATABASES.update(_replicas(DATABASES["default"]))
DATABASE_REPLICAS = [alias for alias in DATABASES if alias.startswith("replica_")]
DATABASE_ROUTERS = ["gocua.lib.replicas.ReplicaRouter"]
# Seconds a replica may lag behind the primary and still serve dashboards and reports.
REPLICA_MAX_LAG = env_float("GOCUA_REPLICA_MAX_LAG", 3.0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

AXES_FAILURE_LIMIT = env_int("GOCUA_LOGIN_FAILURE_LIMIT", 5, minimum=1)
# Failed logins from one address, whatever the user names (a password sprayed over many
# accounts), before that address is locked out too (gocua.accounts.throttling).
LOGIN_FAILURE_LIMIT_PER_IP = env_int("GOCUA_LOGIN_FAILURE_LIMIT_PER_IP", 30, minimum=1)
AXES_HANDLER = "gocua.accounts.throttling.LoginThrottle"
# API tokens (the field page's phone, scripts): they end after TOKEN_IDLE_DAYS unused, and at
# the latest TOKEN_MAX_DAYS after they were made or TOKEN_AFTER_DEADLINE_DAYS after the
# deadline of the current campaign, whichever is sooner.
TOKEN_IDLE_DAYS = env_int("GOCUA_TOKEN_IDLE_DAYS", 30, minimum=1)
TOKEN_MAX_DAYS = env_int("GOCUA_TOKEN_MAX_DAYS", 180, minimum=1)
TOKEN_AFTER_DEADLINE_DAYS = env_int("GOCUA_TOKEN_AFTER_DEADLINE_DAYS", 30)
# The one-time code on a login card: how long it lets its person set their password.
LOGIN_CODE_HOURS = env_int("GOCUA_LOGIN_CODE_HOURS", 72, minimum=1)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# JSON for /api/ (POST /api/v1/auth/token is throttled too), a friendly page elsewhere; 429.
AXES_LOCKOUT_CALLABLE = "gocua.accounts.views.lockout"
# Behind N trusted reverse proxies, the client is the N-th address from the right of
# X-Forwarded-For; otherwise every user would share the proxy's address (and its lockouts).
# The same address goes into the audit log.
TRUSTED_PROXY_COUNT = env_int("GOCUA_TRUSTED_PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "gocua.accounts.services.client_ip"

# Behind TLS: `gocua serve` speaks plain HTTP, so HTTPS means a TLS proxy in front, and the
# proxy's headers (client address, scheme) are trusted only from the proxies counted here.
# Without the count every client would share the proxy's address: one person's mistyped
# passwords would lock everyone out, and the audit log would name the proxy.
HTTPS = env_bool("GOCUA_HTTPS", False)
if HTTPS and TRUSTED_PROXY_COUNT < 1:
    raise ImproperlyConfigured(
        "GOCUA_HTTPS=1 means a TLS proxy (nginx, a load balancer) serves GõCửa: set "
        "GOCUA_TRUSTED_PROXY_COUNT to the number of proxies in front of it (usually 1)"
    )
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 60 * 60 * 12
# Any number of app nodes share one database and nothing else: sessions and login throttling
# (django-axes' database handler, accounts.throttling) live in it. The cache is each process's
# own memory, and nothing relies on it being shared: state every node must see goes in the
# database, never in this cache.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", "Tiếng Việt"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "gocua" / "locale"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
# Shared CSS/JS (and vendored libraries) live beside the templates, not in one app.
STATICFILES_DIRS = [BASE_DIR / "gocua" / "static"]
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
# Files the web and the workers share (uploaded imports waiting for the worker): a directory
# every app node and worker reaches (GOCUA_FILES_DIR, e.g. an NFS mount) when they run on
# several machines.
MEDIA_ROOT = Path(os.environ.get("GOCUA_FILES_DIR", VAR_DIR / "files"))
IMPORT_MAX_BYTES = env_int("GOCUA_IMPORT_MAX_MB", 500, minimum=1) * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"personal_data": {"()": "gocua.lib.masking.PersonalDataFilter"}},
    "formatters": {
        "plain": {
            # Masks IDs and phones in the whole line, tracebacks included (see accounts/logs.py).
            "()": "gocua.accounts.logs.ScrubbingFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        }
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["personal_data"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("GOCUA_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        # A line when each task starts and ends: the rollups' upkeep runs every 5 s (35,000
        # lines a day). Failures are still logged (ERROR, with the traceback); an import's
        # progress and end are on its page.
        "django_tasks": {"level": "WARNING"},
        # runserver's request lines carry query strings (a search by national ID): same handler.
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
