"""The app's stamp settings as traceability wants them: the signing keys and the public address (or None)."""

from functools import lru_cache

from flask import current_app

from traceability.codes import StampKeys


@lru_cache(maxsize=4)
def _parsed(setting: str) -> StampKeys:
    return StampKeys.parse(setting)


def stamp_keys() -> StampKeys:
    return _parsed(current_app.config["STAMP_SIGNING_KEY"])


def stamp_public_url() -> str | None:
    """PUBLIC_URL when it was configured; None while it is the development default (stamps are then refused)."""
    return current_app.config["PUBLIC_URL"].rstrip("/") if current_app.config.get("PUBLIC_URL_CONFIGURED") else None
