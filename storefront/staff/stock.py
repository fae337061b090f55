"""Outlet stock pages: stock table, receive, counter sale, count, write-off, discrepancies.

Every change goes through inventory (movements; levels are never written here) and each submit is one
transaction: it applies whole or not at all. A movement form's one-time token is the movement's key, so a
double click or a resubmitted page records once.
"""

from collections.abc import Callable

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from wtforms import SelectChoice

from accounts.models import User
from catalog.groups import SERVICE_GROUP, has_best_before
from catalog.models import Product
from core.db import db
from core.errors import DomainError
from core.models import utcnow
from inventory.discrepancies import open_discrepancies, resolve, resolved_discrepancies
from inventory.ledger import InsufficientStock, Move, fingerprint
from inventory.stock import (
    EXPIRY_WARNING_DAYS,
    LOW_STOCK_THRESHOLD,
    LotStock,
    count,
    expiring_lots,
    is_expired,
    low_stock,
    outlet_stock,
    receive_goods,
    recorded_movement,
    write_off,
)
from inventory.till import counter_sale, sellable_lots
from storefront.context import today
from storefront.errors import translated
from storefront.staff import bp
from storefront.staff.forms import CountForm, OneTimeForm, ReceiveForm, ResolveForm, SaleForm, WriteOffForm
from storefront.staff.views import outlet_manager_required
from stores.services import get_outlet

OUTLET = "/<int(max=2147483647):outlet_id>"


def lots_of(outlet_id: int, *, include_empty: bool = False) -> list[LotStock]:
    return outlet_stock(db.session, outlet_id, utcnow(), include_empty=include_empty)


def day(value) -> str:
    return value.strftime("%d/%m/%Y") if value else "—"


def preselected_lot() -> int | None:
    """The lot a link from the stock table asks for (`?lo=<batch id>`); anything malformed is ignored."""
    value = request.args.get("lo", "")
    return int(value) if value.isascii() and value.isdigit() and int(value) <= 2**31 - 1 else None


def record_once(
    form: OneTimeForm,
    outlet_id: int,
    content: dict,
    apply: Callable[[str], object],
    *,
    success: str,
    short_message: Callable[[], str],
    short_field: str = "qty",
):
    """Records the form's movement once under its one-time token and commits; a redirect to the stock table,
    or None to show the form again with the error under its field (nothing recorded).

    `content` is what was asked (a replay with the same token and other content is refused, not ignored);
    `apply(fingerprint)` records the movement; `short_message()` says what there is when stock runs short."""
    digest = fingerprint(content)
    try:
        if recorded_movement(db.session, form.movement_key, digest):
            flash(_("Thao tác này đã được ghi nhận trước đó; không ghi thêm lần nữa."), "info")
            return redirect(url_for("staff.stock", outlet_id=outlet_id))
        result = apply(digest)
        db.session.commit()
    except IntegrityError:
        # The same token submitted twice at once: the other request recorded it first.
        db.session.rollback()
        if not recorded_movement(db.session, form.movement_key, digest):
            raise
        flash(_("Thao tác này đã được ghi nhận trước đó; không ghi thêm lần nữa."), "info")
        return redirect(url_for("staff.stock", outlet_id=outlet_id))
    except InsufficientStock:
        db.session.rollback()
        getattr(form, short_field).errors.append(short_message())
        return None
    except DomainError as error:
        db.session.rollback()
        if error.code == "id_conflict":
            form.issue_token()  # the page was resubmitted with other values: a new token makes it a new submission
            form.form_errors.append(
                _("Biểu mẫu này đã được gửi trước đó với nội dung khác. Kiểm tra lại rồi gửi lần nữa.")
            )
        else:
            field = getattr(form, error.field or "", None) or getattr(form, short_field)
            field.errors.append(translated(error))
        return None
    if result is None:
        flash(_("Số đếm khớp với sổ kho; không có gì cần điều chỉnh."), "info")
    else:
        flash(success, "success")
    return redirect(url_for("staff.stock", outlet_id=outlet_id))


def movement(form: OneTimeForm, kind: str, outlet_id: int, product_id: int, digest: str, note: str = "") -> Move:
    return Move(
        key=form.movement_key,
        kind=kind,
        outlet_id=outlet_id,
        product_id=product_id,
        occurred_at=utcnow(),
        fingerprint=digest,
        actor_id=current_user.id,
        note=note,
    )


@bp.get(f"{OUTLET}/ton-kho")
@outlet_manager_required
def stock(outlet_id: int):
    """The outlet's lots, with products running low and lots to sell soon or write off."""
    outlet = get_outlet(db.session, outlet_id)
    every_lot = lots_of(outlet_id, include_empty=True)
    on_shelf = [row for row in every_lot if row.on_hand or row.reserved]
    expiring = expiring_lots(on_shelf, today())
    return render_template(
        "staff/stock.html",
        outlet=outlet,
        lots=on_shelf,
        low=low_stock(every_lot),
        expiring=expiring,
        expiring_ids={row.batch_id for row in expiring},
        threshold=LOW_STOCK_THRESHOLD,
        warning_days=EXPIRY_WARNING_DAYS,
        today=today(),
        is_expired=is_expired,
    )


@bp.route(f"{OUTLET}/nhap-hang", methods=["GET", "POST"])
@outlet_manager_required
def receive(outlet_id: int):
    outlet = get_outlet(db.session, outlet_id)
    products = db.session.scalars(
        select(Product).where(Product.group != SERVICE_GROUP).order_by(Product.name_folded, Product.id)
    ).all()
    form = ReceiveForm()
    form.product_id.choices = [
        SelectChoice(p.id, p.name, render_kw={"data-best-before": "1" if has_best_before(p.group) else "0"})
        for p in products
    ]
    if not form.is_submitted():
        form.issue_token()
        form.produced_on.data = today()
    elif form.validate():
        content = {
            "kind": "receive",
            "product": form.product_id.data,
            "lot": form.lot.data.strip(),
            "produced_on": form.produced_on.data,
            "best_before": form.best_before.data,
            "qty": form.qty.data,
        }
        done = record_once(
            form,
            outlet_id,
            content,
            lambda digest: receive_goods(
                db.session,
                movement(form, "receive", outlet_id, form.product_id.data, digest),
                content["lot"],
                form.qty.data,
                produced_on=form.produced_on.data,
                best_before=form.best_before.data,
                today=today(),
            ),
            success=_("Đã nhận %(qty)s vào lô %(lot)s.", qty=form.qty.data, lot=content["lot"]),
            short_message=lambda: "",
        )
        if done:
            return done
    return render_template("staff/stock_receive.html", outlet=outlet, form=form)


def lot_label(row: LotStock) -> str:
    best_before = _("HSD %(date)s", date=day(row.best_before)) if row.best_before else _("không có HSD")
    return _(
        "Lô %(lot)s · %(best_before)s · có thể bán %(available)s",
        lot=row.lot_code,
        best_before=best_before,
        available=row.available,
    )


@bp.route(f"{OUTLET}/ban-hang", methods=["GET", "POST"])
@outlet_manager_required
def sale(outlet_id: int):
    """A sale at the counter: only products on sale today, from lots within their best-before (inventory.till)."""
    outlet = get_outlet(db.session, outlet_id)
    lots = sellable_lots(db.session, outlet_id, utcnow(), today())
    names = {row.product_id: row.product_name for row in lots}
    available = dict.fromkeys(names, 0)
    for row in lots:
        available[row.product_id] += row.available
    form = SaleForm()
    form.product_id.choices = [
        SelectChoice(product_id, _("%(name)s (có thể bán %(available)s)", name=name, available=available[product_id]))
        for product_id, name in names.items()
    ]
    form.batch_id.choices = [SelectChoice(0, _("Tự động: lô hết hạn trước, bán trước"))] + [
        SelectChoice(
            row.batch_id, lot_label(row), render_kw={"data-product": str(row.product_id)}, optgroup=row.product_name
        )
        for row in lots
        if row.available > 0
    ]
    if not form.is_submitted():
        form.issue_token()
        form.qty.data = 1
    elif form.validate():
        product_id, batch_id = form.product_id.data, form.batch_id.data
        chosen = next((row for row in lots if row.batch_id == batch_id and row.product_id == product_id), None)
        content = {"kind": "sale", "product": product_id, "batch": batch_id or None, "qty": form.qty.data}

        def short() -> str:
            now_available = chosen.available if chosen else available.get(product_id, 0)
            return _("Không đủ hàng: chỉ còn %(available)s có thể bán.", available=max(now_available, 0))

        done = record_once(
            form,
            outlet_id,
            content,
            lambda digest: counter_sale(
                db.session, movement(form, "sale", outlet_id, product_id, digest), form.qty.data, batch_id, today()
            ),
            success=_("Đã bán %(qty)s %(name)s.", qty=form.qty.data, name=names.get(product_id, "")),
            short_message=short,
        )
        if done:
            return done
    return render_template("staff/stock_sale.html", outlet=outlet, form=form)


@bp.route(f"{OUTLET}/kiem-kho", methods=["GET", "POST"])
@outlet_manager_required
def stock_count(outlet_id: int):
    """A count of one lot: what staff found on the shelf becomes an `adjust` of the difference, with a reason."""
    outlet = get_outlet(db.session, outlet_id)
    lots = lots_of(outlet_id, include_empty=True)
    form = CountForm()
    form.batch_id.choices = [
        SelectChoice(
            row.batch_id,
            _(
                "%(name)s · lô %(lot)s · trên sổ %(on_hand)s",
                name=row.product_name,
                lot=row.lot_code,
                on_hand=row.on_hand,
            ),
        )
        for row in lots
    ]
    if not form.is_submitted():
        form.issue_token()
        form.batch_id.data = preselected_lot()
    elif form.validate():
        chosen = next(row for row in lots if row.batch_id == form.batch_id.data)
        content = {
            "kind": "count",
            "batch": chosen.batch_id,
            "counted": form.counted.data,
            "note": form.note.data.strip(),
        }
        done = record_once(
            form,
            outlet_id,
            content,
            lambda digest: count(
                db.session,
                movement(form, "adjust", outlet_id, chosen.product_id, digest, note=content["note"]),
                chosen.batch_id,
                form.counted.data,
            ),
            success=_("Đã điều chỉnh lô %(lot)s về %(counted)s.", lot=chosen.lot_code, counted=form.counted.data),
            short_message=lambda: _("Không thể giảm dưới số đang giữ cho đơn hàng."),
            short_field="counted",
        )
        if done:
            return done
    return render_template("staff/stock_count.html", outlet=outlet, form=form, has_lots=bool(lots))


def write_off_label(row: LotStock) -> str:
    if is_expired(row.best_before, today()):
        return _("%(name)s · lô %(lot)s · đã hết hạn", name=row.product_name, lot=row.lot_code)
    return _("%(name)s · lô %(lot)s · HSD %(date)s", name=row.product_name, lot=row.lot_code, date=day(row.best_before))


@bp.route(f"{OUTLET}/huy-hang", methods=["GET", "POST"])
@outlet_manager_required
def stock_write_off(outlet_id: int):
    """Writing off lots past or near their best-before date (the stock table's expiry alert)."""
    outlet = get_outlet(db.session, outlet_id)
    expiring = expiring_lots(lots_of(outlet_id), today())
    form = WriteOffForm()
    form.batch_id.choices = [SelectChoice(row.batch_id, write_off_label(row)) for row in expiring]
    if not form.is_submitted():
        form.issue_token()
        wanted = preselected_lot()
        chosen = next((row for row in expiring if row.batch_id == wanted), expiring[0] if expiring else None)
        if chosen:
            form.batch_id.data, form.qty.data = chosen.batch_id, max(chosen.available, 0) or None
    elif form.validate():
        chosen = next(row for row in expiring if row.batch_id == form.batch_id.data)
        content = {
            "kind": "write_off",
            "batch": chosen.batch_id,
            "qty": form.qty.data,
            "note": (form.note.data or "").strip(),
        }
        done = record_once(
            form,
            outlet_id,
            content,
            lambda digest: write_off(
                db.session,
                movement(form, "write_off", outlet_id, chosen.product_id, digest, note=content["note"]),
                chosen.batch_id,
                form.qty.data,
            ),
            success=_("Đã hủy %(qty)s của lô %(lot)s.", qty=form.qty.data, lot=chosen.lot_code),
            short_message=lambda: _(
                "Không đủ hàng: lô này chỉ còn %(available)s có thể hủy (phần còn lại đang giữ cho đơn hàng).",
                available=max(chosen.available, 0),
            ),
        )
        if done:
            return done
    return render_template("staff/stock_write_off.html", outlet=outlet, form=form, has_lots=bool(expiring))


def discrepancies_page(outlet, forms: dict[int, ResolveForm]):
    opened = open_discrepancies(db.session, outlet.id)
    forms = {d.id: forms.get(d.id) or ResolveForm(prefix=f"d{d.id}", formdata=None) for d, _product in opened}
    resolved = resolved_discrepancies(db.session, outlet.id)
    resolvers = {
        user.id: user.email
        for user in db.session.scalars(select(User).where(User.id.in_({d.resolved_by for d, _product in resolved})))
    }
    return render_template(
        "staff/stock_discrepancies.html",
        outlet=outlet,
        opened=opened,
        forms=forms,
        resolved=resolved,
        resolvers=resolvers,
    )


@bp.get(f"{OUTLET}/chenh-lech")
@outlet_manager_required
def discrepancies(outlet_id: int):
    return discrepancies_page(get_outlet(db.session, outlet_id), {})


@bp.post(f"{OUTLET}/chenh-lech/<int(max=2147483647):discrepancy_id>")
@outlet_manager_required
def resolve_discrepancy(outlet_id: int, discrepancy_id: int):
    outlet = get_outlet(db.session, outlet_id)
    form = ResolveForm(prefix=f"d{discrepancy_id}")
    if form.validate_on_submit():
        try:
            resolve(
                db.session,
                outlet_id,
                discrepancy_id,
                resolution=form.resolution.data,
                actor_id=current_user.id,
                now=utcnow(),
            )
        except DomainError as error:
            db.session.rollback()
            if error.code != "already_resolved":
                raise  # another outlet's or no such discrepancy: the error page (404)
            flash(translated(error), "info")
        else:
            db.session.commit()
            flash(_("Đã xử lý chênh lệch."), "success")
        return redirect(url_for("staff.discrepancies", outlet_id=outlet_id))
    return discrepancies_page(outlet, {discrepancy_id: form})
