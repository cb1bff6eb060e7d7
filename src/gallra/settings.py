"""Django settings. Everything a provider may change comes from the environment (see config.py)."""

import os
import secrets
from pathlib import Path

from django.utils.translation import gettext_lazy as _

from gallra import config

BASE_DIR = Path(__file__).resolve().parent
GALLRA_DATA = config.data_dir()
config.load_env_file(GALLRA_DATA)  # $GALLRA_DATA/env: settings the environment does not give
GALLRA_KEY_FILE = Path(os.environ.get("GALLRA_KEY_FILE", GALLRA_DATA / config.KEY_FILE_NAME))
GALLRA_KEYS = config.load_keys(GALLRA_KEY_FILE)  # None until `gallra init` has made the key file

# Without a key file (before `gallra init`, or `gallra policy check` on a laptop) a throwaway
# secret is enough: nothing signed with it outlives the process.
SECRET_KEY = GALLRA_KEYS.django_secret_key if GALLRA_KEYS else secrets.token_urlsafe(50)
DEBUG = os.environ.get("GALLRA_DEBUG") == "1"
ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("GALLRA_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
]

INSTALLED_APPS = [
    "gallra.staff.site.AdminConfig",  # django.contrib.admin, with the site of staff/site.py
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",  # the API docs page and its Swagger UI files, served from here (no CDN)
    "gallra.policy",
    "gallra.registry",
    "gallra.evidence",
    "gallra.outbox",  # mail waits here, sealed, until it is delivered (docs/mail.md)
    "gallra.retention",
    "gallra.datasets",  # the provider's other databases: their SQL, and retention there
    "gallra.sync",  # facts from the provider's own systems (docs/sync.md)
    "gallra.subjects",
    "gallra.notice",
    "gallra.contact",
    "gallra.consent",
    "gallra.logins",
    "gallra.backups",
    "gallra.residency",
    "gallra.proof",
    "gallra.homes",
    "gallra.mailboxes",
    "gallra.scanner",
    "gallra.staff",
    "gallra.incidents",
    "gallra.dashboard",
    "gallra.api",
    "gallra.instance",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "gallra.staff.middleware.SecurityHeaders",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "gallra.staff.middleware.WorkingDaySession",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "gallra.urls"
WSGI_APPLICATION = "gallra.wsgi.application"

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

DATABASES = {
    "default": config.database_settings(os.environ.get("GALLRA_DATABASE_URL"), GALLRA_DATA)
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The jobs (the daily run, mail, exports, erasures): on PostgreSQL a queue in the database itself
# (Procrastinate), run by `gallra worker`, any number of them; on SQLite `gallra serve` runs them
# in its own threads, with no other service (instance/jobs.py, docs/jobs.md).
GALLRA_JOB_QUEUE = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
if GALLRA_JOB_QUEUE:
    INSTALLED_APPS.insert(INSTALLED_APPS.index("gallra.policy"), "procrastinate.contrib.django")
PROCRASTINATE_AUTODISCOVER_MODULE_NAME = ""  # not every app's tasks.py: retention's are manual
PROCRASTINATE_IMPORT_PATHS = ["gallra.instance.jobs", "gallra.background"]

# P8: Argon2id first; the validators refuse short, common and look-alike passwords.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "gallra.staff.passwords.SwedishCommonPasswordValidator"},
]

# Swedish first: the provider's staff read Swedish. English follows the browser.
LANGUAGE_CODE = "sv"
LANGUAGES = [("sv", _("Swedish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Europe/Stockholm"  # shown in Stockholm time, stored in UTC
USE_TZ = True

# WhiteNoise serves the admin's assets straight from the installed apps (finders), so there is
# no collectstatic step and no STATIC_ROOT to keep in sync with the installed version.
STATIC_URL = "static/"
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True

# P8: a staff session ends after 30 idle minutes (saved on every request, so the clock
# restarts), after a working day in any case, and when the browser closes.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = int(os.environ.get("GALLRA_SESSION_IDLE_SECONDS", 30 * 60))
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
GALLRA_SESSION_MAX_SECONDS = 10 * 3600
LOGIN_URL = "admin:login"
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
GALLRA_HTTPS = os.environ.get("GALLRA_HTTPS") == "1"  # behind a TLS proxy (docs/production.md)
if GALLRA_HTTPS:
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31536000

# Mail (reminders, verification links) goes through the provider's own SMTP relay.
EMAIL_HOST = os.environ.get("GALLRA_SMTP_HOST", "127.0.0.1")
EMAIL_PORT = int(os.environ.get("GALLRA_SMTP_PORT", "25"))
EMAIL_USE_TLS = os.environ.get("GALLRA_SMTP_TLS") == "1"
EMAIL_HOST_USER = os.environ.get("GALLRA_SMTP_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("GALLRA_SMTP_PASSWORD", "")
# The public forms: where the contact form's messages go (default: the policy's
# organisation e-mail), how fast a person can fill in a form, and how many posts a client may
# make in a window (count, seconds).
GALLRA_CONTACT_TO = os.environ.get("GALLRA_CONTACT_TO", "")
# The restic repository for backups, and the file holding its password (docs/backups.md).
GALLRA_BACKUP_REPOSITORY = os.environ.get("GALLRA_BACKUP_REPOSITORY", "")
GALLRA_BACKUP_PASSWORD_FILE = os.environ.get("GALLRA_BACKUP_PASSWORD_FILE", "")
# Unattended installs: the daily run deletes without a person arming it (docs/retention.md).
GALLRA_ENFORCE_ARMED = os.environ.get("GALLRA_ENFORCE_ARMED") == "1"
GALLRA_FORM_MIN_SECONDS = float(os.environ.get("GALLRA_FORM_MIN_SECONDS", "3"))
GALLRA_FORM_RATE = (5, 600)

# The websites whose cookie banner records decisions here (scheme://host[:port], comma-separated).
GALLRA_CONSENT_ORIGINS = [
    o.strip() for o in os.environ.get("GALLRA_CONSENT_ORIGINS", "").split(",") if o.strip()
]
# Decisions one client (an IPv4 address or an IPv6 /64) may post: "PER_MINUTE,PER_DAY", or
# "off" (docs/consent.md#limits).
_consent_rate = os.environ.get("GALLRA_CONSENT_RATE", "60,1000")
GALLRA_CONSENT_RATE = (
    None if _consent_rate == "off" else tuple(int(n) for n in _consent_rate.split(",", 1))
)

# Where gallra is reached from outside: links in mail to data subjects start with it.
GALLRA_BASE_URL = os.environ.get("GALLRA_BASE_URL", "http://127.0.0.1:8000")
DEFAULT_FROM_EMAIL = os.environ.get("GALLRA_MAIL_FROM", "gallra@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("GALLRA_LOG_LEVEL", "WARNING")},
}
