"""Admin: producers (list, create, edit), each with its products and the invitations of its accounts."""

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from accounts.invitations import invitations_of, invite, status_of
from accounts.models import User
from accounts.tasks import send_invitation_task
from catalog.models import Product
from catalog.onboarding import communes, create_producer, get_producer, list_producers, update_producer
from core.db import db
from core.errors import DomainError
from core.models import utcnow
from storefront.admin import bp
from storefront.admin.forms import KIND_LABELS, InviteForm, ProducerForm
from storefront.celery import dispatch
from storefront.errors import translated

PRODUCERS_PER_PAGE = 50


def page_number() -> int:
    page = request.args.get("page", "1")
    return int(page) if page.isascii() and page.isdigit() and 1 <= int(page) <= 100000 else 1


def show_error(form, error: DomainError, default: str) -> None:
    """Under the field the domain names (fields named as in the API: sub_group, origin_commune …)."""
    field = getattr(form, (error.field or "").replace(".", "_"), None) or getattr(form, default)
    field.errors = [*field.errors, translated(error)]


def mail_invitation(invitation_id: int) -> None:
    """After the commit: the link leaves by mail (a lost message must not undo the invitation)."""
    try:
        dispatch(send_invitation_task, invitation_id)
    except Exception:  # noqa: BLE001 - the invitation is committed; the admin can send another
        current_app.logger.exception("could not send invitation %s", invitation_id)


@bp.get("/nha-san-xuat")
def producers():
    q, page = request.args.get("q", "")[:200], page_number()
    items, total = list_producers(db.session, q=q, page=page, per_page=PRODUCERS_PER_PAGE)
    return render_template(
        "admin/producers.html", items=items, total=total, page=page, per_page=PRODUCERS_PER_PAGE, q=q, kinds=KIND_LABELS
    )


@bp.route("/nha-san-xuat/moi", methods=["GET", "POST"], defaults={"producer_id": None})
@bp.route("/nha-san-xuat/<int(max=2147483647):producer_id>/sua", methods=["GET", "POST"])
def producer_form(producer_id):
    existing = get_producer(db.session, producer_id) if producer_id else None
    form = ProducerForm(obj=existing)
    if existing is not None and not form.is_submitted():
        form.commune.data = existing.commune_code
    form.commune.choices = [SelectChoice("", _("— Chọn xã, phường —"))] + [
        SelectChoice(unit.code, unit.name) for unit in communes()
    ]
    if form.validate_on_submit():
        details = {
            "name": form.name.data,
            "kind": form.kind.data,
            "commune": form.commune.data,
            "address": form.address.data,
            "phone": form.phone.data,
            "email": form.email.data,
            "tax_code": form.tax_code.data,
        }
        try:
            if existing is None:
                saved = create_producer(db.session, actor_id=current_user.id, **details)
            else:
                saved = update_producer(db.session, existing, actor_id=current_user.id, **details)
        except DomainError as error:
            db.session.rollback()
            show_error(form, error, "name")
        else:
            db.session.commit()
            flash(_("Đã lưu nhà sản xuất %(name)s.", name=saved.name), "success")
            return redirect(url_for("admin.producer", producer_id=saved.id), 303)
    return render_template("admin/producer_form.html", form=form, producer=existing)


@bp.get("/nha-san-xuat/<int(max=2147483647):producer_id>")
def producer(producer_id: int):
    return render_producer(get_producer(db.session, producer_id), InviteForm())


def render_producer(producer, invite_form: InviteForm, status: int = 200):
    products = db.session.scalars(
        select(Product).where(Product.producer_id == producer.id).order_by(Product.name_folded)
    )
    accounts = db.session.scalars(select(User).where(User.producer_id == producer.id).order_by(User.email))
    now = utcnow()
    return render_template(
        "admin/producer.html",
        producer=producer,
        products=list(products),
        accounts=list(accounts),
        invitations=[(i, status_of(i, now)) for i in invitations_of(db.session, producer.id)],
        invite_form=invite_form,
        kinds=KIND_LABELS,
    ), status


@bp.post("/nha-san-xuat/<int(max=2147483647):producer_id>/loi-moi")
def invite_account(producer_id: int):
    producer = get_producer(db.session, producer_id)
    form = InviteForm()
    if form.validate_on_submit():
        try:
            invitation = invite(db.session, producer, form.email.data, actor_id=current_user.id, now=utcnow())
        except DomainError as error:
            db.session.rollback()
            form.email.errors.append(translated(error))
        else:
            db.session.commit()
            mail_invitation(invitation.id)
            flash(_("Đã gửi lời mời tới %(email)s (hiệu lực 72 giờ).", email=invitation.email), "success")
            return redirect(url_for("admin.producer", producer_id=producer.id), 303)
    return render_producer(producer, form, 400)
