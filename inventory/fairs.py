"""Ending a fair (DESIGN §3 "Kiosks"): the stand's kiosks give back their quotas and what is left goes back to a
district shop in one transfer, dispatched at once — never while a kiosk still holds orders it has not sent,
unless staff confirm those orders are lost.
"""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import N_, Conflict, InvalidInput
from inventory.availability import available_quantities
from inventory.models import Device, Transfer
from inventory.quota import release_quota
from inventory.reservations import release_expired
from inventory.transfers import dispatch, request
from stores.models import Outlet


class QueuedOrders(Conflict):
    code = "queued_orders"


def kiosks_with_queues(session: Session, outlet_id: int) -> list[Device]:
    """The stand's live kiosks that last reported orders still waiting on them."""
    return list(
        session.scalars(
            select(Device)
            .where(Device.outlet_id == outlet_id, Device.revoked_at.is_(None), Device.queued_orders > 0)
            .order_by(Device.name, Device.id)
        )
    )


def end_fair(
    session: Session, stand: Outlet, to_outlet_id: int, now: datetime, *, actor_id: int | None, lost_confirmed: bool
) -> Transfer | None:
    """Releases every kiosk's quota, sends the stand's free stock to `to_outlet_id` (a shop) in one transfer,
    dispatched now (returned; None when nothing was left), and marks the fair ended. Orders still held for buyers
    stay at the stand for handover."""
    if stand.kind != "fair":
        raise Conflict(N_("Chỉ gian hàng hội chợ mới kết thúc hội chợ."), code="not_a_fair")
    if stand.fair_ended_at is not None:
        raise Conflict(N_("Hội chợ này đã kết thúc."), code="fair_ended")
    destination = session.get(Outlet, to_outlet_id)
    if destination is None or destination.kind != "shop":
        raise InvalidInput(N_("Hãy chọn một cửa hàng OCOP Mart để nhận hàng về."), field="to_outlet_id")
    waiting = kiosks_with_queues(session, stand.id)
    if waiting and not lost_confirmed:
        raise QueuedOrders(
            N_("Kiosk còn đơn chưa gửi về: %(devices)s. Hãy chờ kiosk có mạng, hoặc xác nhận các đơn đó đã mất."),
            devices=", ".join(f"{d.name} ({d.queued_orders})" for d in waiting),
        )
    devices = session.scalars(select(Device).where(Device.outlet_id == stand.id).order_by(Device.id)).all()
    for device in devices:
        release_quota(session, device, now, actor_id=actor_id)
    release_expired(session, now, outlet_id=stand.id)  # lapsed order holds are free stock to send back too
    left = [
        (product_id, int(qty))
        for _, product_id, qty in session.execute(available_quantities(now, outlet_id=stand.id))
        if qty > 0
    ]
    transfer = None
    if left:
        transfer = request(
            session, from_outlet_id=stand.id, to_outlet_id=destination.id, lines=left, now=now, actor_id=actor_id
        )
        dispatch(session, transfer, now, actor_id=actor_id)
    stand.fair_ended_at = now
    session.flush()
    return transfer
