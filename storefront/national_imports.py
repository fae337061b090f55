"""The national import as the API and the admin pages both use it: the upload's size limit, the districts looked up
through stores for catalog (which does not import stores' services), and the preview and result as JSON."""

import hashlib

from flask import current_app
from sqlalchemy import select

from catalog.national_import import NationalImport, apply_import, create_import, problem_error
from catalog.national_import_file import TooLarge, read_table
from core.db import db
from core.errors import N_
from core.text import fold_words
from storefront.context import today
from storefront.errors import translated
from stores.models import Area
from stores.services import latest_districts

#: Room for the multipart framing around the file.
FRAMING_BYTES = 64 * 1024
CHANGE_FIELDS = ("row", "kind", "product", "producer", "decision", "issued_on", "before", "after")
#: How many items of each list a page shows (the API answers with them all).
SHOWN = 500


def max_bytes() -> int:
    return current_app.config["NATIONAL_IMPORT_MAX_BYTES"]


def body_bytes() -> int:
    """The body limit of an upload (storefront.guards.body_limit asks it at each request)."""
    return max_bytes() + FRAMING_BYTES


def district_lookup() -> dict[str, int]:
    """Former districts by folded label ("huyen kien thuy", any dated form) and name ("kien thuy": the latest)."""
    lookup: dict[str, int] = {}
    for area in db.session.scalars(select(Area).where(Area.level == "district").order_by(Area.id)):
        lookup.setdefault(fold_words(area.label), area.id)
    for area in latest_districts(db.session):
        lookup[fold_words(area.name)] = area.id
    return lookup


def too_large() -> TooLarge:
    size = max_bytes()
    shown = f"{size // (1024 * 1024)} MiB" if size >= 1024 * 1024 else f"{size // 1024} KiB"
    return TooLarge(N_("Tệp lớn quá %(size)s."), field="file", size=shown)


def upload(file_name: str, stream, actor_id: int) -> NationalImport:
    """Reads the upload (TooLarge past the limit, InvalidInput for a file that is not a list) and stores its
    preview; the caller commits."""
    data = stream.read(max_bytes() + 1) if stream is not None else b""
    if len(data) > max_bytes():
        raise too_large()
    table = read_table(data)
    return create_import(
        db.session,
        table,
        file_name=file_name or "",
        sha256=hashlib.sha256(data).hexdigest(),
        today=today(),
        districts=district_lookup(),
        actor_id=actor_id,
    )


def apply(record: NationalImport, actor_id: int) -> tuple[dict, bool]:
    return apply_import(db.session, record, today=today(), districts=district_lookup(), actor_id=actor_id)


def errors_json(errors: list[dict]) -> list[dict]:
    return [{"row": item["row"], "reason": translated(problem_error(item)), "code": item["code"]} for item in errors]


def _lists(summary: dict) -> dict:
    return {
        "new_producers": [{"name": p["name"], "district": p["district"]} for p in summary["new_producers"]],
        "new_products": [
            {"name": p["name"], "producer": p["producer"], "group": p["group"], "district": p["district"]}
            for p in summary["new_products"]
        ],
        "new_certificates": summary["new_certificates"],
        "changes": [{name: item[name] for name in CHANGE_FIELDS} for item in summary["changes"]],
    }


def preview_json(record: NationalImport) -> dict:
    summary = record.preview
    return {
        "id": record.id,
        "file_name": record.file_name,
        "kind": record.kind,
        "uploaded_at": record.uploaded_at.isoformat(),
        "applied_at": record.applied_at.isoformat() if record.applied_at else None,
        "new": int(summary["new"]),
        "changed": int(summary["changed"]),
        "unchanged": int(summary["unchanged"]),
        "errors": errors_json(summary["errors"]),
        **_lists(summary),
    }


def result_json(record: NationalImport, result: dict, applied_now: bool) -> dict:
    return {
        "id": record.id,
        "applied": applied_now,
        "applied_at": result["applied_at"],
        "new": int(result["new"]),
        "changed": int(result["changed"]),
        "unchanged": int(result["unchanged"]),
        "revoked": int(result["revoked"]),
        "errors": errors_json(result["errors"]),
        **_lists(result),
    }
