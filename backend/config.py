"""Settings from the environment, with safe development defaults and strict production checks.

``AUDIT_KEY`` keys the audit trail's hash chain (HMAC-SHA256, ``backend.audit``): it must live
outside the database, so that someone who can write to the database still cannot rewrite history.

Precedence: explicit overrides (``test_config`` or values already set on ``app.config``) beat the
environment, which beats the defaults. In development the secrets are generated once and kept in
the instance folder so that restarts keep sessions and can still decrypt stored data; in production
nothing is generated: missing secrets stop the start with a :class:`ConfigError`.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from pathlib import Path
from typing import Any, Mapping

from cryptography.fernet import Fernet

ENVIRONMENTS = ("development", "production", "testing")
RATE_LIMIT_DEFAULTS = {
    "RATELIMIT_STORAGE_URI": "memory://",
    "SIGN_IN_RATE_LIMIT": "20 per 10 minutes;100 per day",
    "SIGN_IN_ACCOUNT_RATE_LIMIT": "5 per 15 minutes",
    "CHAT_RATE_LIMIT": "300 per minute",
    "RESUME_RATE_LIMIT": "10 per 10 minutes",
    "API_RATE_LIMIT": "300 per minute",
}
"""Flask-Limiter settings (``backend.limits``): the storage, then each limit per client address.

Failed sign-ins count against the client (``SIGN_IN_RATE_LIMIT``) and the client with that email
(``SIGN_IN_ACCOUNT_RATE_LIMIT``); memory storage suits one process only: with several processes or
machines set ``RATELIMIT_STORAGE_URI`` to a shared store (e.g. ``redis://host:6379``)."""
RATE_LIMIT_KEYS = tuple(RATE_LIMIT_DEFAULTS)
REQUIRED_IN_PRODUCTION = ("SECRET_KEY", "FIELD_ENCRYPTION_KEY", "AUDIT_KEY", "TWILIO_AUTH_TOKEN")

KEYS = (
    "NRM_ENV",
    "DATABASE_URL",
    "SECRET_KEY",
    "FIELD_ENCRYPTION_KEY",
    "AUDIT_KEY",
    "TWILIO_AUTH_TOKEN",
    "PUBLIC_BASE_URL",
    "RG_WORKING_DAYS",
    "DRAFT_EXPIRY_DAYS",
    "RECOVERY_PERIOD_DAYS",
    "CLAIM_MINUTES",
    "SMS_RESUME_AFTER_MINUTES",
    "QUICK_EXIT_WORD",
    "RESUME_CODE_MINUTES",
    "RESUME_CODE_MAX_FAILURES",
    "RESUME_CODE_FAILURE_WINDOW_MINUTES",
    "RETENTION_DAYS",
    "CG_WORKING_DAYS",
    "REVIEW_WORKING_DAYS",
    "RETURNED_TO_ANOTHER_CASEWORKER",
    "SESSION_IDLE_MINUTES",
    "SESSION_MAX_HOURS",
    "API_TOKEN_DAYS",
    "TRUSTED_PROXIES",
    "JOBS_INTERVAL_SECONDS",
    "DECISION_REASONS_MIN_CHARS",
    "NRM_LOG_FORMAT",
    "NRM_METRICS_TOKEN",
    "NRM_METRICS_NETWORKS",
    *RATE_LIMIT_KEYS,
)
"""Every setting this module resolves (all are also read from environment variables of that name)."""

INT_DEFAULTS = {
    "RG_WORKING_DAYS": 5,
    "DRAFT_EXPIRY_DAYS": 7,
    "RECOVERY_PERIOD_DAYS": 30,  # at least 30 under current guidance; 45 under the 2019 guidance
    "CG_WORKING_DAYS": 20,  # CG target: working days after the recovery period ends
    "REVIEW_WORKING_DAYS": 10,  # panel review target: working days after the negative decision
    "CLAIM_MINUTES": 60,
    "SMS_RESUME_AFTER_MINUTES": 60,
    "RESUME_CODE_MINUTES": 30,
    "RESUME_CODE_MAX_FAILURES": 5,  # wrong resume codes per redeemer within the window below
    "RESUME_CODE_FAILURE_WINDOW_MINUTES": 15,
    "RETENTION_DAYS": 7 * 365,  # closed cases and DtN reports, then deleted by `nrm jobs run`
    "SESSION_IDLE_MINUTES": 30,  # a signed-in browser left alone this long must sign in again
    "SESSION_MAX_HOURS": 12,  # ... and every sign-in ends this long after it, however busy
    "API_TOKEN_DAYS": 90,  # new API tokens expire after this many days
}
NON_NEGATIVE_INT_DEFAULTS = {
    "TRUSTED_PROXIES": 0,  # reverse proxies in front of the app whose X-Forwarded-For/-Proto count
    "JOBS_INTERVAL_SECONDS": 60,  # each job runs at most once per interval across all machines (0: every run)
    "DECISION_REASONS_MIN_CHARS": 50,  # the shortest reasons a decision page accepts (0: any)
}
MINIMUM_RECOVERY_PERIOD_DAYS = 30
"""The recovery period the law guarantees at the least (Modern Slavery Act 2015 s.50A, guidance)."""
BOOL_DEFAULTS = {
    "RETURNED_TO_ANOTHER_CASEWORKER": True,  # a case the panel returned is not offered to its decider
}
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")
QUICK_EXIT_DEFAULT = "SAFE"
"""The SMS word that deletes a draft at once (configurable so it can be agreed with each team)."""

SECRET_KEY_FILE = "secret_key"
FIELD_KEY_FILE = "field_encryption_key"
AUDIT_KEY_FILE = "audit_key"
MIN_AUDIT_KEY_LENGTH = 32
"""The audit chain's HMAC key must be at least this many characters (e.g. 64 hex digits)."""
LOG_FORMATS = ("json", "text")
"""``NRM_LOG_FORMAT``: one JSON object a line (the default in production) or plain text."""
MIN_METRICS_TOKEN_LENGTH = 32
"""``NRM_METRICS_TOKEN``, the bearer token of ``/metrics``, must be at least this long."""


class ConfigError(RuntimeError):
    """The configuration cannot be used (a missing production secret, a bad key, a typo'd NRM_ENV)."""


def load(instance_path: str | os.PathLike[str], overrides: Mapping[str, Any] | None = None,
         environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Resolve every setting of :data:`KEYS` and return them as a dict for ``app.config``.

    ``overrides`` win over ``environ`` (default ``os.environ``); unknown override keys are passed
    through unchanged so a test can set Flask's own settings in the same dict.
    """
    env = os.environ if environ is None else environ
    given = dict(overrides or {})
    instance = Path(instance_path)

    def pick(key: str) -> Any:
        if given.get(key) is not None:
            return given[key]
        value = env.get(key)
        return value if value not in (None, "") else None

    settings: dict[str, Any] = dict(given)
    nrm_env = str(pick("NRM_ENV") or "development").strip().lower()
    if nrm_env not in ENVIRONMENTS:
        raise ConfigError(f"NRM_ENV must be one of {', '.join(ENVIRONMENTS)}, not {nrm_env!r}")
    settings["NRM_ENV"] = nrm_env
    production = nrm_env == "production"

    if production:
        missing = [key for key in REQUIRED_IN_PRODUCTION if not pick(key)]
        if missing:
            raise ConfigError(
                "NRM_ENV=production refuses to start without " + ", ".join(missing)
                + " (set them in the environment; nothing is generated in production)"
            )

    url = pick("DATABASE_URL") or f"sqlite:///{instance / 'nrm.sqlite3'}"
    settings["DATABASE_URL"] = normalise_database_url(str(url))
    settings["SECRET_KEY"] = pick("SECRET_KEY") or _instance_secret(
        instance / SECRET_KEY_FILE, lambda: secrets.token_hex(32))
    field_keys = pick("FIELD_ENCRYPTION_KEY") or _instance_secret(
        instance / FIELD_KEY_FILE, lambda: Fernet.generate_key().decode("ascii"))
    settings["FIELD_ENCRYPTION_KEY"] = str(field_keys)
    check_fernet_keys(settings["FIELD_ENCRYPTION_KEY"])
    settings["AUDIT_KEY"] = str(pick("AUDIT_KEY") or _instance_secret(
        instance / AUDIT_KEY_FILE, lambda: secrets.token_hex(32)))
    if len(settings["AUDIT_KEY"]) < MIN_AUDIT_KEY_LENGTH:
        raise ConfigError(f"AUDIT_KEY must be at least {MIN_AUDIT_KEY_LENGTH} characters "
                          "(make one with: python -c 'import secrets; print(secrets.token_hex(32))')")
    settings["TWILIO_AUTH_TOKEN"] = pick("TWILIO_AUTH_TOKEN")
    settings["PUBLIC_BASE_URL"] = (str(pick("PUBLIC_BASE_URL") or "")).rstrip("/") or None
    settings["QUICK_EXIT_WORD"] = str(pick("QUICK_EXIT_WORD") or QUICK_EXIT_DEFAULT).strip().upper()
    for minimum, defaults in ((1, INT_DEFAULTS), (0, NON_NEGATIVE_INT_DEFAULTS)):
        for key, default in defaults.items():
            raw = pick(key)
            try:
                settings[key] = default if raw is None else int(raw)
            except (TypeError, ValueError):
                raise ConfigError(f"{key} must be a whole number, not {raw!r}") from None
            if settings[key] < minimum:
                raise ConfigError(f"{key} must be at least {minimum}, not {settings[key]}")
    if settings["RECOVERY_PERIOD_DAYS"] < MINIMUM_RECOVERY_PERIOD_DAYS:
        raise ConfigError(
            f"RECOVERY_PERIOD_DAYS is {settings['RECOVERY_PERIOD_DAYS']}, below the legal minimum "
            f"recovery period of {MINIMUM_RECOVERY_PERIOD_DAYS} days: set it to "
            f"{MINIMUM_RECOVERY_PERIOD_DAYS} or more (45 under the 2019 guidance)")
    for key, default in BOOL_DEFAULTS.items():
        settings[key] = _boolean(key, pick(key), default)
    for key, default in RATE_LIMIT_DEFAULTS.items():
        settings[key] = str(pick(key) or default).strip()
    check_rate_limits(settings)
    settings.update(_observability(pick, production))
    return settings


def _observability(pick: Any, production: bool) -> dict[str, Any]:
    """``NRM_LOG_FORMAT`` and who may read ``/metrics``: ``NRM_METRICS_TOKEN`` (a bearer token)
    and ``NRM_METRICS_NETWORKS`` (comma-separated addresses or networks; none by default)."""
    log_format = str(pick("NRM_LOG_FORMAT") or ("json" if production else "text")).strip().lower()
    if log_format not in LOG_FORMATS:
        raise ConfigError(f"NRM_LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, not {log_format!r}")
    token = str(pick("NRM_METRICS_TOKEN") or "").strip() or None
    if token is not None and len(token) < MIN_METRICS_TOKEN_LENGTH:
        raise ConfigError(f"NRM_METRICS_TOKEN must be at least {MIN_METRICS_TOKEN_LENGTH} characters "
                          "(make one with: python -c 'import secrets; print(secrets.token_hex(32))')")
    networks = pick("NRM_METRICS_NETWORKS") or ()
    if isinstance(networks, str):
        networks = [part.strip() for part in networks.split(",") if part.strip()]
    try:
        parsed = tuple(ipaddress.ip_network(str(network), strict=False) for network in networks)
    except ValueError as error:
        raise ConfigError(f"NRM_METRICS_NETWORKS must list addresses or networks such as "
                          f"10.0.0.0/8 ({error})") from None
    return {"NRM_LOG_FORMAT": log_format, "NRM_METRICS_TOKEN": token, "NRM_METRICS_NETWORKS": parsed}


def check_rate_limits(settings: Mapping[str, Any]) -> None:
    """Fail at start-up on a limit Flask-Limiter cannot read (it would otherwise skip it silently).

    The defaults are known to read; ``limits`` (which loads asyncio and every storage backend) is
    imported only to check a limit someone set, so that ``nrm chat`` starts without it."""
    for key in RATE_LIMIT_KEYS:
        if key == "RATELIMIT_STORAGE_URI" or settings[key] == RATE_LIMIT_DEFAULTS[key]:
            continue
        from limits import parse_many

        try:
            parse_many(settings[key])
        except ValueError:
            raise ConfigError(f"{key} must read like '20 per 10 minutes;100 per day', "
                              f"not {settings[key]!r}") from None


def _boolean(key: str, raw: Any, default: bool) -> bool:
    """A yes/no setting: a bool as given, or one of TRUE_WORDS/FALSE_WORDS from the environment."""
    if raw is None:
        return default
    if isinstance(raw, bool):
        return raw
    word = str(raw).strip().lower()
    if word in TRUE_WORDS or word in FALSE_WORDS:
        return word in TRUE_WORDS
    raise ConfigError(f"{key} must be true or false, not {raw!r}")



def normalise_database_url(url: str) -> str:
    """Point bare PostgreSQL URLs at psycopg 3, the only PostgreSQL driver installed."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def split_keys(value: str) -> list[str]:
    """``FIELD_ENCRYPTION_KEY`` is comma-separated Fernet keys; the first encrypts, all decrypt."""
    return [part.strip() for part in value.split(",") if part.strip()]


def check_fernet_keys(value: str) -> None:
    """Fail at start-up, not at the first encrypted write, when a key is malformed."""
    keys = split_keys(value)
    if not keys:
        raise ConfigError("FIELD_ENCRYPTION_KEY holds no key")
    for number, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise ConfigError(
                f"FIELD_ENCRYPTION_KEY key {number} is not a Fernet key (32 url-safe base64 bytes; "
                "make one with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())')"
            ) from None


def _instance_secret(path: Path, make: Any) -> str:
    """Read a development secret from the instance folder, creating it (mode 0600) on first run."""
    if path.exists():
        value = path.read_text(encoding="utf-8").strip()
        if value:
            return value
    path.parent.mkdir(parents=True, exist_ok=True)
    value = make()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(value + "\n")
    return value
