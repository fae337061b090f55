"""Configuration from the environment only (DESIGN §2); embedded defaults need nothing set."""

import os
import secrets
from pathlib import Path

from celery.schedules import crontab

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string", "description": "machine-readable code"},
        "message": {"type": "string", "description": "human-readable explanation"},
    },
}


def instance_secret(instance_path: str, name: str = "secret_key") -> str:
    """A random key kept in instance/ so sessions (or stamps) survive restarts without a key in the code."""
    path = Path(instance_path) / name
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def served_url() -> str:
    """The address `make run` serves (its HOST and PORT, default http://127.0.0.1:5000): a server listening on every
    interface is reached on this machine at 127.0.0.1."""
    host = os.environ.get("HOST", "").strip() or "127.0.0.1"
    if host in ("0.0.0.0", "::", "[::]"):
        host = "127.0.0.1"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    port = os.environ.get("PORT", "").strip() or "5000"
    return f"http://{host}:{port}"


def load_config(instance_path: str) -> dict:
    Path(instance_path).mkdir(parents=True, exist_ok=True)
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{Path(instance_path) / 'ocop.sqlite'}"
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    broker_url = os.environ.get("CELERY_BROKER_URL", "")
    visibility_timeout = int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600"))
    configured_url = os.environ.get("PUBLIC_URL", "").rstrip("/")
    public_url = configured_url or served_url()
    return {
        "SECRET_KEY": os.environ.get("SECRET_KEY"),
        "SQLALCHEMY_DATABASE_URI": database_url,
        # Connections a database restart killed are replaced by core.db's ping of idle connections; connect_timeout
        # keeps an unreachable host from holding requests (and pool slots) for minutes: they fail fast with a 503
        # (storefront/errors.py).
        "SQLALCHEMY_ENGINE_OPTIONS": (
            {"connect_args": {"connect_timeout": 5}} if not database_url.startswith("sqlite") else {}
        ),
        "MAIL_OUTBOX": os.environ.get("MAIL_OUTBOX") or str(Path(instance_path) / "outbox"),
        #: Uploaded photos and test reports (core.files), under content-hashed names.
        "UPLOAD_FOLDER": os.environ.get("UPLOAD_FOLDER") or str(Path(instance_path) / "uploads"),
        "MAIL_SENDER": os.environ.get("MAIL_SENDER", "OCOP Mart <no-reply@ocop.example>"),
        #: Where programme notices (certificates about to lapse) go.
        "PROGRAMME_MAIL": os.environ.get("PROGRAMME_MAIL", "admin@ocop.example"),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        # If a shared limiter store (Redis) is down, throttle per process rather than fail logins.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "CELERY": {
            "broker_url": broker_url or "memory://",
            "result_backend": os.environ.get("CELERY_RESULT_BACKEND") or (broker_url or None),
            "task_always_eager": not broker_url,
            "task_eager_propagates": True,
            "task_ignore_result": True,
            "broker_connection_timeout": 3,
            "broker_connection_retry_on_startup": True,
            # A task is acknowledged when it ends, not when it starts: if its worker dies (killed, OOM, machine
            # lost) the broker hands it to another worker, so tasks must be idempotent (accounts/tasks.py).
            "task_acks_late": True,
            "task_reject_on_worker_lost": True,
            "worker_cancel_long_running_tasks_on_connection_loss": True,
            # One task reserved at a time: a dying worker takes no queued tasks down with it.
            "worker_prefetch_multiplier": 1,
            # Redis has no acknowledgements of its own: a task not acknowledged within this time is given to
            # another worker. It must exceed the longest task (or it runs twice at once) and bounds how long
            # a dead worker's task waits; the sweep that hands it on runs at most every 10 s.
            "broker_transport_options": {
                "visibility_timeout": visibility_timeout,
                "unacked_restore_interval": max(1, min(10, visibility_timeout // 3)),
                "unacked_restore_throttle": 1,
            },
            "imports": ("accounts.tasks", "catalog.tasks", "inventory.tasks", "orders.tasks", "search.tasks"),
            "timezone": "Asia/Ho_Chi_Minh",
            "beat_schedule": {
                "certificate-expiry-digest": {
                    "task": "catalog.tasks.certificate_expiry_digest_task",
                    "schedule": crontab(minute=0, hour=7, day_of_week="mon"),
                },
                # Daily at 07:15 Vietnam time; each reminder goes once however often it runs (catalog.reminders).
                "certificate-reminders": {
                    "task": "catalog.tasks.certificate_reminders_task",
                    "schedule": crontab(minute=15, hour=7),
                },
                "release-expired-holds": {"task": "inventory.tasks.release_expired_holds_task", "schedule": 60.0},
                "stock-reconcile": {"task": "inventory.tasks.reconcile_task", "schedule": crontab(minute=30, hour=2)},
                "search-sweep": {"task": "search.tasks.sweep_task", "schedule": 30.0},
                "expire-unpaid-orders": {"task": "orders.tasks.expire_unpaid_orders_task", "schedule": 60.0},
            },
        },
        #: Catalogue pages and public answers for anonymous visitors (storefront.page_cache): in process, or on
        #: Redis when CACHE_REDIS_URL is set (the stack profile, shared by every worker and machine).
        "PAGE_CACHE_ENABLED": os.environ.get("PAGE_CACHE_ENABLED", "1") != "0",
        "CACHE_REDIS_URL": os.environ.get("CACHE_REDIS_URL", ""),
        "CACHE_KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "ocop-page:"),
        "SEARCH_URL": os.environ.get("SEARCH_URL", "builtin"),
        #: The cluster alias the catalogue is read through (each rebuild puts a new index behind it).
        "SEARCH_INDEX": os.environ.get("SEARCH_INDEX", "ocop-products"),
        "STRIPE_API_KEY": os.environ.get("STRIPE_API_KEY", ""),
        "STRIPE_API_BASE": os.environ.get("STRIPE_API_BASE", ""),
        "STRIPE_WEBHOOK_SECRET": os.environ.get("STRIPE_WEBHOOK_SECRET", ""),
        #: The shop's receiving account for VietQR transfers; the demo default is a placeholder account.
        "VIETQR_BANK_BIN": os.environ.get("VIETQR_BANK_BIN", "970415"),
        "VIETQR_ACCOUNT": os.environ.get("VIETQR_ACCOUNT", "113366668888"),
        "VIETQR_ACCOUNT_NAME": os.environ.get("VIETQR_ACCOUNT_NAME", "OCOP MART HAI PHONG"),
        #: How long stock waits for each way of paying (minutes), and the delivery fee per province code.
        "HOLD_MINUTES_CARD": int(os.environ.get("HOLD_MINUTES_CARD", "15")),
        "HOLD_MINUTES_VIETQR": int(os.environ.get("HOLD_MINUTES_VIETQR", "15")),
        "HOLD_MINUTES_CASH": int(os.environ.get("HOLD_MINUTES_CASH", str(24 * 60))),
        # Limits on unpaid orders (orders.hold_limits) and on order attempts per guest (storefront.order_limits).
        "GUEST_OPEN_ORDERS": int(os.environ.get("GUEST_OPEN_ORDERS", "2")),
        "ACCOUNT_OPEN_ORDERS": int(os.environ.get("ACCOUNT_OPEN_ORDERS", "3")),
        "GUEST_HOLD_SHARE": float(os.environ.get("GUEST_HOLD_SHARE", "0.5")),
        "ORDER_ATTEMPT_RATE_LIMIT": os.environ.get("ORDER_ATTEMPT_RATE_LIMIT", "5 per minute"),
        "DELIVERY_FEES": {"31": 25_000, "*": 45_000},
        #: Failed logins allowed per (account, address), and per address over all accounts; successes are free.
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT", "5 per minute"),
        "LOGIN_ADDRESS_RATE_LIMIT": os.environ.get("LOGIN_ADDRESS_RATE_LIMIT", "30 per minute"),
        # Order look-up by code and phone (storefront.lookup_limits): per address, and per code.
        "ORDER_LOOKUP_RATE_LIMIT": os.environ.get("ORDER_LOOKUP_RATE_LIMIT", "20 per minute"),
        # Trace pages and answers per address (a fair's shared Wi-Fi is one address): a flood of codes stops here.
        "TRACE_RATE_LIMIT": os.environ.get("TRACE_RATE_LIMIT", "120 per minute"),
        "ORDER_LOOKUP_CODE_MISSES": int(os.environ.get("ORDER_LOOKUP_CODE_MISSES", "5")),
        "ORDER_LOOKUP_CODE_LOCK_MINUTES": int(os.environ.get("ORDER_LOOKUP_CODE_LOCK_MINUTES", "15")),
        # The proxies whose X-Forwarded-For/-Proto to believe: a count or networks (storefront.proxies).
        "TRUSTED_PROXIES": os.environ.get("TRUSTED_PROXIES", ""),
        "BABEL_DEFAULT_LOCALE": "vi",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Ho_Chi_Minh",
        "LANGUAGES": ("vi", "en"),
        #: Links in e-mails are built from this, never from the request's Host header (reset-link poisoning).
        #: Unset, it is the address `make run` serves (HOST and PORT), good for e-mail links on this machine;
        #: anything printed or handed out for good (traceability stamps) needs PUBLIC_URL_CONFIGURED.
        "PUBLIC_URL": public_url,
        "PUBLIC_URL_CONFIGURED": bool(configured_url),
        #: Signs traceability stamps (traceability.codes): `id:secret` list, newest first; never SECRET_KEY. Unset,
        #: a key is kept in instance/stamp_signing_key (one server only: every server must share the keys).
        "STAMP_SIGNING_KEY": os.environ.get("STAMP_SIGNING_KEY", ""),
        #: A stamp is "possibly copied" once scanned by more than this many devices on more than this many networks.
        "STAMP_COPY_DEVICES": int(os.environ.get("STAMP_COPY_DEVICES", "3")),
        "STAMP_COPY_NETWORKS": int(os.environ.get("STAMP_COPY_NETWORKS", "3")),
        #: A fair kiosk (/kiosk/<code>) left untouched this many seconds empties its cart and returns to its start
        #: screen, after a countdown the visitor can cancel.
        "KIOSK_IDLE_SECONDS": int(os.environ.get("KIOSK_IDLE_SECONDS", "90")),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SECURE": public_url.startswith("https://"),
        "REMEMBER_COOKIE_SECURE": public_url.startswith("https://"),
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        #: The largest council list the national import takes (bytes of the file): 50,000 rows of CSV are ~12 MB.
        "NATIONAL_IMPORT_MAX_BYTES": int(os.environ.get("NATIONAL_IMPORT_MAX_BYTES", str(32 * 1024 * 1024))),
        "RATELIMIT_HEADERS_ENABLED": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "MAX_QUERY_STRING": 2048,
        # apiflask: answer schema validation failures with 400, as the API contract says.
        "VALIDATION_ERROR_STATUS_CODE": 400,
        "VALIDATION_ERROR_DESCRIPTION": "Bad request",
        "AUTO_404_RESPONSE": False,
        # The OpenAPI document describes errors as they are sent (storefront/errors.py).
        "HTTP_ERROR_SCHEMA": ERROR_SCHEMA,
        "VALIDATION_ERROR_SCHEMA": ERROR_SCHEMA,
        "INFO": {"description": "OCOP Mart API v1: certified OCOP products of Hai Phong."},
    }
