"""The national export (DESIGN §3 "Programme"): GET /api/v1/export/national (admin) as JSON, CSV or XLSX, and its
JSON Schema. catalog.national_export builds the rows and writes the formats."""

import json

from apiflask import Schema
from apiflask.fields import String
from apiflask.validators import OneOf
from flask import Response

from catalog.national_export import FORMATS, export_document, json_schema
from core.db import db
from storefront.api.v1 import bp
from storefront.api.v1.common import token_auth
from storefront.context import today

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
    on, fmt = today(), query["format"]
    body = export_document(db.session, on, fmt)
    headers = {"Cache-Control": "private, no-store"}
    if fmt == "json":
        return Response(body, mimetype="application/json", headers=headers)
    headers["Content-Disposition"] = f'attachment; filename="ocop-hai-phong-{on.isoformat()}.{fmt}"'
    if fmt == "csv":  # the BOM tells Excel the file is UTF-8
        return Response("\ufeff".encode() + body, mimetype="text/csv; charset=utf-8", headers=headers)
    return Response(body, mimetype=XLSX, headers=headers)


@bp.get("/export/national/schema.json")
@bp.doc(responses={200: {"description": "The export's JSON Schema (draft 2020-12)"}})
def national_export_schema():
    """Public: the documented schema of the national export."""
    return Response(json.dumps(json_schema(), ensure_ascii=False), mimetype="application/schema+json")
