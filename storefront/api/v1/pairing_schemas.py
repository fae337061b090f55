"""Schemas of kiosk pairing, heartbeats and the queue a device reports (DESIGN §3 "Kiosks")."""

from apiflask import Schema
from apiflask.fields import Boolean, DateTime, Integer, String
from apiflask.validators import Regexp
from marshmallow import EXCLUDE

from inventory.devices import MAX_NAME, MAX_QUEUED
from inventory.pairing import CODE_DIGITS
from storefront.api.v1.common import MAX_ID
from storefront.api.v1.schemas import Text, WholeNumber, at_most, between


class PairingCodeOut(Schema):
    code = String(metadata={"description": "Six digits, shown this once: only a digest is kept", "example": "042917"})
    expires_at = DateTime(metadata={"description": "Ten minutes after it was made; used once"})


class PairIn(Schema):
    outlet_id = WholeNumber(required=True, strict=True, validate=between(1, MAX_ID))
    code = Text(
        required=True,
        validate=Regexp(f"^[0-9]{{{CODE_DIGITS}}}$", error="phải gồm đúng 6 chữ số."),
        metadata={"description": "The one-time code staff of the outlet created", "example": "042917"},
    )
    name = Text(
        validate=at_most(MAX_NAME, at_least=1),
        metadata={"description": "What staff will see the kiosk called; by default “Kiosk <n>”"},
    )


class PairOut(Schema):
    token = String(
        metadata={
            "description": "The kiosk's device token, shown this once: it acts for that outlet only, until revoked"
        }
    )
    device_id = Integer()


class HeartbeatIn(Schema):
    queued = WholeNumber(
        required=True,
        strict=True,
        validate=between(0, MAX_QUEUED),
        metadata={"description": "Orders waiting on the device to be sent"},
    )


class HeartbeatOut(Schema):
    device_id = Integer()
    outlet_id = Integer()
    revoked = Boolean(metadata={"description": "Always false here: a revoked device gets 401 device_revoked"})
    queued = Integer(metadata={"description": "The number just recorded"})
    last_sync = DateTime(metadata={"description": "This heartbeat's time on the server"})


class QueuedOrdersHeader(Schema):
    """A device's sync says how many orders still wait on it (DESIGN §3 "Kiosks": with every sync and heartbeat)."""

    class Meta:
        unknown = EXCLUDE

    queued = WholeNumber(
        data_key="X-Queued-Orders",
        validate=between(0, MAX_QUEUED),
        metadata={
            "description": "From a device: orders still waiting on it after this sync; staff see it on the devices "
            "list. Ignored from people's tokens"
        },
    )
