from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select
from wtforms import SelectChoice

from accounts.models import User
from accounts.services import assign_staff
from catalog.audit import product_history
from catalog.certification import (
    CERTIFYING_PERIODS,
    CertificateAsOf,
    certificate_standing,
    current_certificate,
    expiry_for,
    levels_that_certify,
    sellability,
)
from catalog.queries import STAFF_STATUSES, expiring_certificates, get_product, lapsed_certificates, staff_products
from catalog.reminders import REMINDER_DAYS, producer_accounts, reminders_for
from catalog.services import get_certificate, issue_certificate, revoke_certificate
from core.db import db
from core.errors import N_, DomainError
from storefront.admin import bp
from storefront.admin.forms import AssignStaffForm, CertificateForm, ListingForm, OutletForm, RevokeForm
from storefront.audit_view import history_rows
from storefront.context import today
from storefront.errors import translated
from storefront.roles import role_required
from storefront.stamp_pages import stamp_context
from stores.services import district_areas, get_outlet, list_outlets, save_outlet

PRODUCTS_PER_PAGE = 50
STAFF_PER_PAGE = 30


@bp.before_request
@role_required("admin")
def admins_only():
    """Every admin page needs an admin."""


@bp.get("/")
def dashboard():
    return render_template(
        "admin/dashboard.html", expiring=expiring_certificates(db.session, today()), outlets=list_outlets(db.session)
    )


@bp.get("/san-pham")
def products():
    page = request.args.get("page", "1")
    page = int(page) if page.isascii() and page.isdigit() and 1 <= int(page) <= 100000 else 1
    status = request.args.get("trang_thai", "")
    status = status if status in STAFF_STATUSES else ""
    items, total = staff_products(
        db.session,
        q=request.args.get("q", "")[:200],
        page=page,
        per_page=PRODUCTS_PER_PAGE,
        status=status,
        today=today(),
    )
    return render_template(
        "admin/products.html",
        items=items,
        total=total,
        page=page,
        per_page=PRODUCTS_PER_PAGE,
        status=status,
        statuses=STAFF_STATUSES,
        reason_for=lambda p: sellability(p.active, p.certificates, today()).reason,
    )


def certifying_rights() -> list[dict]:
    """The dated rule table for the certificate form's script, which offers only the levels allowed on a date."""
    return [
        {
            "starts_on": period.starts_on.isoformat(),
            "rights": {level: sorted(stars) for level, stars in period.rights.items()},
        }
        for period in CERTIFYING_PERIODS
    ]


def new_certificate_form() -> CertificateForm:
    """Signed today by a level that may award the default stars today, so the defaults are a valid certificate."""
    form = CertificateForm()
    if not form.is_submitted():
        form.issued_on.data = today()
        form.level.data = next(iter(levels_that_certify(form.stars.data or 3, today())), None)
    return form


@bp.route("/san-pham/<int(max=2147483647):product_id>", methods=["GET", "POST"])
def product(product_id: int):
    product = get_product(db.session, product_id)
    form = new_certificate_form()
    same_day = None
    if form.validate_on_submit():
        same_day = signed_same_day(product, form)
        if same_day is None:
            try:
                certificate = issue_certificate(
                    db.session,
                    product,
                    stars=form.stars.data,
                    score=form.score.data,
                    level=form.level.data,
                    decision=form.decision.data or "",
                    issued_on=form.issued_on.data,
                    today=today(),
                    actor_id=current_user.id,
                )
            except DomainError as error:
                db.session.rollback()
                getattr(form, error.field or "issued_on").errors.append(translated(error))
            else:
                db.session.commit()
                if certificate_standing(certificate, today()) == "expired":
                    flash(_("Đã ghi nhận giấy chứng nhận, nhưng nó đã hết hiệu lực: sản phẩm không được bán."), "info")
                else:
                    flash(_("Đã cấp giấy chứng nhận."), "success")
                return redirect(url_for("admin.product", product_id=product.id))
    return product_page(product, form, same_day=same_day)


def product_page(product, form: CertificateForm, *, same_day=None, stamp_forms: dict | None = None, status: int = 200):
    """The admin's product page: its facts, certificates, lots with their stamps, and history."""
    lots = sorted(product.batches, key=lambda b: (b.produced_on, b.id), reverse=True)
    return (
        render_template(
            "admin/product.html",
            product=product,
            form=form,
            rights=certifying_rights(),
            history=history_rows(product_history(db.session, product.id)),
            same_day=same_day,
            reason=sellability(product.active, product.certificates, today()).reason,
            listing_form=ListingForm(formdata=None),
            lots=lots,
            **stamp_context(product, lots, stamp_forms, request.args.get("tem")),
        ),
        status,
    )


def signed_same_day(product, form: CertificateForm):
    """The live certificate signed on the form's date, when the admin has not yet confirmed adding a second one
    that day; with which one would then be current (the new one, recorded last, unless a later one is live)."""
    issued_on = form.issued_on.data
    existing = [c for c in product.certificates if c.revoked_at is None and c.issued_on == issued_on]
    if not existing or form.confirmed_same_day.data == issued_on.isoformat():
        return None
    form.confirmed_same_day.data = issued_on.isoformat()
    # The new one is recorded last, so it wins a tie of dates: it stands in with an id above every stored one.
    new = CertificateAsOf(2**63, form.stars.data, issued_on, expiry_for(issued_on), None)
    current = current_certificate([*product.certificates, new])
    return {"existing": max(existing, key=lambda c: c.id), "stays_current": None if current is new else current}


@bp.route("/chung-nhan/<int(max=2147483647):certificate_id>/thu-hoi", methods=["GET", "POST"])
def revoke(certificate_id: int):
    """Revoking takes a product off sale at once, so it is a page of its own that says what will happen."""
    certificate = get_certificate(db.session, certificate_id)
    product = certificate.product
    if certificate.revoked_at is not None:
        flash(_("Giấy chứng nhận này đã bị thu hồi."), "info")
        return redirect(url_for("admin.product", product_id=product.id))
    form = RevokeForm()
    if form.validate_on_submit():
        try:
            revoke_certificate(db.session, certificate, reason=form.reason.data, actor_id=current_user.id)
        except DomainError as error:
            db.session.rollback()
            form.reason.errors.append(translated(error))
        else:
            db.session.commit()
            flash(_("Đã thu hồi giấy chứng nhận."), "success")
            return redirect(url_for("admin.product", product_id=product.id))
    others = [c for c in product.certificates if c.id != certificate.id]
    return render_template(
        "admin/revoke.html",
        certificate=certificate,
        product=product,
        form=form,
        before=sellability(product.active, product.certificates, today()),
        after=sellability(product.active, others, today()),
    )


@bp.get("/chung-nhan/sap-het-han")
def expiring():
    """Products awaiting re-evaluation, soonest first, with the reminders sent; then those lapsed lately."""
    certificates = expiring_certificates(db.session, today())
    lapsed = lapsed_certificates(db.session, today())
    shown = certificates + lapsed
    return render_template(
        "admin/expiring.html",
        certificates=certificates,
        lapsed=lapsed,
        reminders=reminders_for(db.session, [c.id for c in shown]),
        reminder_days=REMINDER_DAYS,
        accounts=producer_accounts(db.session, {c.product.producer_id for c in shown}),
        today=today(),
    )


@bp.get("/cua-hang")
def outlets():
    return render_template("admin/outlets.html", outlets=list_outlets(db.session))


@bp.route("/cua-hang/moi", methods=["GET", "POST"], defaults={"outlet_id": None})
@bp.route("/cua-hang/<int(max=2147483647):outlet_id>", methods=["GET", "POST"])
def outlet(outlet_id):
    existing = get_outlet(db.session, outlet_id) if outlet_id else None
    form = OutletForm(obj=existing)
    form.area_id.choices = [SelectChoice(0, _("(không gắn khu vực)"))] + [
        SelectChoice(a.id, f"{a.label} ({a.province})") for a in district_areas(db.session)
    ]
    if form.validate_on_submit():
        try:
            saved = save_outlet(
                db.session,
                code=form.code.data,
                name=form.name.data,
                kind=form.kind.data,
                area_id=form.area_id.data or None,
                address=form.address.data,
                phone=form.phone.data,
                opening_hours=form.opening_hours.data,
                outlet=existing,
            )
        except DomainError as error:
            db.session.rollback()
            form.code.errors.append(translated(error))
        else:
            db.session.commit()
            flash(_("Đã lưu cửa hàng %(name)s.", name=saved.name), "success")
            return redirect(url_for("admin.outlets"))
    return render_template("admin/outlet_form.html", form=form, outlet=existing)


@bp.route("/nhan-vien", methods=["GET", "POST"])
def staff():
    outlets = list_outlets(db.session)
    form = AssignStaffForm()
    form.outlet_id.choices = [SelectChoice(0, _("(không thuộc cửa hàng nào)"))] + [
        SelectChoice(o.id, o.name) for o in outlets
    ]
    if form.validate_on_submit():
        user_id = request.form.get("user_id", "")
        try:
            if not (user_id.isascii() and user_id.isdigit()) or int(user_id) > 2**31 - 1:
                raise DomainError(N_("Thiếu tài khoản cần gán."))
            user = assign_staff(db.session, int(user_id), form.outlet_id.data or None)
        except DomainError as error:
            db.session.rollback()
            flash(translated(error), "error")
        else:
            db.session.commit()
            flash(_("Đã cập nhật %(email)s.", email=user.email), "success")
        return redirect(url_for("admin.staff", q=request.args.get("q") or None))
    # Producers keep their own accounts; only customers and staff are assigned to outlets here. Staff are listed;
    # a customer is found by a piece of the e-mail or name, never listed all at once.
    q = request.args.get("q", "")[:254].strip()
    page = request.args.get("page", "1")
    page = int(page) if page.isascii() and page.isdigit() and 1 <= int(page) <= 100000 else 1
    users, total = assignable_accounts(q, page)
    return render_template(
        "admin/staff.html",
        users=users,
        outlets=outlets,
        form=form,
        q=q,
        total=total,
        page=page,
        per_page=STAFF_PER_PAGE,
    )


def assignable_accounts(q: str, page: int) -> tuple[list[User], int]:
    """Customers and staff whose e-mail or name holds `q` (staff alone when `q` is empty), staff first."""
    query = select(User).where(User.role.in_(("consumer", "staff")) if q else User.role == "staff")
    if q:
        query = query.where(
            or_(
                User.email.contains(q.lower(), autoescape=True),
                func.lower(User.name).contains(q.lower(), autoescape=True),
            )
        )
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    users = db.session.scalars(
        query.order_by(User.role.desc(), User.email).limit(STAFF_PER_PAGE).offset((page - 1) * STAFF_PER_PAGE)
    )
    return list(users), total
