"""Admin: the national import with a dry run (/admin/nhap-danh-sach): upload the council's list, read its preview,
confirm to apply it; and the national export as a download beside it."""

from flask import Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.datastructures import FileStorage

from catalog.national_export import export_document
from catalog.national_import import get_import, problem_error, recent_imports
from catalog.national_import_file import TooLarge
from core.db import db
from core.errors import DomainError
from storefront import national_imports
from storefront.admin import bp
from storefront.context import today
from storefront.errors import translated
from storefront.guards import body_limit

ID = "<int(max=2147483647):import_id>"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ImportUploadForm(FlaskForm):
    file = FileField(_l("Tệp danh sách (CSV UTF-8 hoặc XLSX, theo mẫu xuất)"))


class ConfirmImportForm(FlaskForm):
    """Only the CSRF token: the import is in the address."""


@bp.route("/nhap-danh-sach", methods=["GET", "POST"])
@body_limit(national_imports.body_bytes)
def national_import():
    form = ImportUploadForm()
    status = 200
    if form.validate_on_submit():
        upload = form.file.data
        if not isinstance(upload, FileStorage) or not upload.filename:
            form.file.errors.append(_("Hãy chọn một tệp CSV hoặc XLSX."))
        else:
            try:
                record = national_imports.upload(upload.filename, upload.stream, current_user.id)
            except DomainError as error:
                db.session.rollback()
                form.file.errors.append(translated(error))
                status = 413 if isinstance(error, TooLarge) else 400
            else:
                db.session.commit()
                flash(_("Đã đọc danh sách. Kiểm tra các thay đổi rồi xác nhận để áp dụng."), "info")
                return redirect(url_for("admin.national_import_preview", import_id=record.id), 303)
    return (
        render_template(
            "admin/national_import.html",
            form=form,
            imports=recent_imports(db.session),
            max_mib=national_imports.max_bytes() / (1024 * 1024),
        ),
        status,
    )


@bp.get(f"/nhap-danh-sach/{ID}")
def national_import_preview(import_id: int):
    record = get_import(db.session, import_id)
    shown = record.result if record.result is not None else record.preview
    return render_template(
        "admin/national_import_preview.html",
        record=record,
        shown=shown,
        errors=[
            {"row": item["row"], "reason": translated(problem_error(item))}
            for item in shown["errors"][: national_imports.SHOWN]
        ],
        limit=national_imports.SHOWN,
        form=ConfirmImportForm(),
    )


@bp.post(f"/nhap-danh-sach/{ID}/ap-dung")
def apply_national_import(import_id: int):
    record = get_import(db.session, import_id)
    if ConfirmImportForm().validate_on_submit():
        try:
            result, applied_now = national_imports.apply(record, current_user.id)
        except DomainError as error:
            db.session.rollback()
            flash(translated(error), "error")
        else:
            db.session.commit()
            if applied_now:
                flash(
                    _(
                        "Đã áp dụng: %(new)s giấy chứng nhận mới, %(changed)s thay đổi, %(unchanged)s không đổi.",
                        new=result["new"],
                        changed=result["changed"],
                        unchanged=result["unchanged"],
                    ),
                    "success",
                )
            else:
                flash(_("Danh sách này đã được áp dụng trước đó: không có gì thay đổi thêm."), "info")
    return redirect(url_for("admin.national_import_preview", import_id=record.id), 303)


@bp.get("/xuat-danh-sach.<fmt>")
def national_export_download(fmt: str):
    """The national export as a file for a signed-in admin (the API needs a token)."""
    if fmt not in ("csv", "xlsx"):
        abort(404)
    on = today()
    body = export_document(db.session, on, fmt)
    headers = {
        "Cache-Control": "private, no-store",
        "Content-Disposition": f'attachment; filename="ocop-hai-phong-{on.isoformat()}.{fmt}"',
    }
    if fmt == "csv":
        return Response("\ufeff".encode() + body, mimetype="text/csv; charset=utf-8", headers=headers)
    return Response(body, mimetype=XLSX, headers=headers)
