"""The national import with a dry run (DESIGN §3 "Programme"): POST /api/v1/imports/national previews an uploaded
list (admin); POST /api/v1/imports/<id>/apply applies it once. storefront.national_imports does the work."""

from apiflask import abort
from flask import request

from catalog.national_import import get_import
from catalog.national_import_file import TooLarge
from core.db import db
from storefront import national_imports
from storefront.api.v1 import bp
from storefront.api.v1.common import parse_id, refuse_other_fields, token_auth
from storefront.api.v1.import_schemas import ImportFileIn, ImportPreviewOut, ImportResultOut
from storefront.api.v1.photos import documented_upload
from storefront.errors import translated
from storefront.guards import body_limit


@bp.post("/imports/national")
@bp.auth_required(token_auth, roles=["admin"])
@body_limit(national_imports.body_bytes)
@documented_upload(ImportFileIn())
@bp.output(ImportPreviewOut, description="The preview, stored: nothing is applied until /apply")
@bp.doc(
    responses={
        400: "No file, a field other than file, or several files (error = file_required, invalid); an empty file "
        "(empty_file); not CSV or XLSX by content (not_a_table); a CSV not in UTF-8 (not_utf8); a workbook with "
        "macros (macros); a header naming columns the export does not have, repeating one, or missing a required "
        "one (unknown_columns, duplicate_columns, missing_columns). Rows that cannot be taken are not a 400: "
        "they are listed in errors",
        413: "A file over NATIONAL_IMPORT_MAX_BYTES (32 MiB unless configured), or over 100,000 rows "
        "(error = too_large)",
    }
)
def import_national():
    """Admin: upload the council's list (multipart field `file`) and see what applying it would change."""
    refuse_other_fields(form=("file",))  # a text field named file is answered file_required below
    files = request.files.getlist("file")
    if len(files) != 1:
        error = "file_required" if not files else "invalid"
        abort(400, "file: gửi đúng một tệp CSV hoặc XLSX (multipart/form-data).", extra_data={"error": error})
    try:
        record = national_imports.upload(files[0].filename, files[0].stream, token_auth.current_user.id)
    except TooLarge as error:
        db.session.rollback()
        abort(413, translated(error), extra_data={"error": "too_large"})
    db.session.commit()
    return national_imports.preview_json(record)


@bp.post("/imports/<import_id>/apply")
@bp.auth_required(token_auth, roles=["admin"])
@bp.output(ImportResultOut, description="What was applied; applying again changes nothing and answers the same")
@bp.doc(
    responses={
        404: "No such import (error = not_found)",
        409: "A certificate the list revokes was revoked by someone else meanwhile (error = already_revoked); "
        "nothing is applied, the import can be confirmed again",
    }
)
def apply_national_import(import_id):
    """Admin: apply a previewed import in one transaction, re-checked against the catalogue as it is now."""
    record = get_import(db.session, parse_id(import_id, "import_id"))
    result, applied_now = national_imports.apply(record, token_auth.current_user.id)
    db.session.commit()
    return national_imports.result_json(record, result, applied_now)
