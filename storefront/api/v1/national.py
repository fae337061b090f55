"""The national export (DESIGN §3 "Programme"): GET /api/v1/export/national (admin) as JSON, CSV or XLSX, and its
JSON Schema. catalog.national_export builds the rows and writes the formats."""

import json

from apiflask import Schema
from apiflask.fields import String
from apiflask.validators import OneOf
from flask import Response

from catalog.national_export import json_schema, national_rows, to_csv, to_xlsx
from core.db import db
from storefront.api.v1 import bp
from storefront.api.v1.common import token_auth
from storefront.context import today

FORMATS = ("json", "csv", "xlsx")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ExportQuery(Schema):
    format = String(load_default="json", validate=OneOf(FORMATS), metadata={"description": "json, csv or xlsx"})


@bp.get("/export/national")
@bp.auth_required(token_auth, roles=["admin"])
@bp.input(ExportQuery, location="query", arg_name="query")
@bp.doc(
    responses={
        200: {
            "description": "One row per certificate (schema: /api/v1/export/national/schema.json); CSV and XLSX as "
            "attachments, values only, text that would start a formula escaped",
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "text/csv": {"schema": {"type": "string"}},
                XLSX: {"schema": {"type": "string", "format": "binary"}},
            },
        },
        400: "A format other than json, csv or xlsx (error = invalid)",
    }
)
def national_export(query):
    """Admin: every certificate the shop holds, for the national OCOP system."""
    on = today()
    rows = national_rows(db.session, on)
    name = f"ocop-hai-phong-{on.isoformat()}"
    if query["format"] == "csv":
        body, mimetype = "\ufeff" + to_csv(rows), "text/csv; charset=utf-8"  # the BOM tells Excel it is UTF-8
    elif query["format"] == "xlsx":
        body, mimetype = to_xlsx(rows), XLSX
    else:
        body = json.dumps({"exported_on": on.isoformat(), "rows": list(rows)}, ensure_ascii=False)
        return Response(body, mimetype="application/json", headers={"Cache-Control": "private, no-store"})
    disposition = f'attachment; filename="{name}.{query["format"]}"'
    return Response(
        body, mimetype=mimetype, headers={"Content-Disposition": disposition, "Cache-Control": "private, no-store"}
    )


@bp.get("/export/national/schema.json")
@bp.doc(responses={200: {"description": "The export's JSON Schema (draft 2020-12)"}})
def national_export_schema():
    """Public: the documented schema of the national export."""
    return Response(json.dumps(json_schema(), ensure_ascii=False), mimetype="application/schema+json")
