"""Schemas of the public trace answer (DESIGN §3 "Traceability")."""

from apiflask import Schema
from apiflask.fields import Boolean, Date, DateTime, Integer, List, Nested, String


class TraceQuery(Schema):
    s = String(load_default=None, metadata={"description": "The stamp's signature, `<key id>.<mac>`"})


class TraceProduct(Schema):
    id = Integer()
    name = String()
    stars = Integer(allow_none=True, metadata={"description": "The shown certificate's stars"})
    gtin = String(allow_none=True, metadata={"description": "GTIN-14, or null"})
    photo = String(allow_none=True, metadata={"description": "The cover photo (640 px JPEG), absolute; or null"})


class TraceProducer(Schema):
    name = String()
    address = String()
    commune = String()


class TraceBatch(Schema):
    lot = String()
    produced_on = Date()
    best_before = Date(allow_none=True, metadata={"description": "Null for groups without one (crafts, plants)"})
    origin = String(metadata={"description": "Where the raw materials came from"})


class TraceCertificate(Schema):
    stars = Integer()
    decision = String()
    issued_on = Date()
    expires_on = Date(metadata={"description": "First day no longer valid"})
    status = String(metadata={"description": "valid | expired | revoked, today"})


class TraceStage(Schema):
    stage = String(metadata={"description": "produced | received | transferred | sold"})
    place = String()
    date = Date()


class TraceOut(Schema):
    authentic = Boolean()
    product = Nested(TraceProduct)
    producer = Nested(TraceProducer)
    batch = Nested(TraceBatch)
    certificate = Nested(TraceCertificate, allow_none=True)
    journey = List(Nested(TraceStage))
    scans = Integer(metadata={"description": "Scans counted (once per device per day)"})
    suspected_copy = Boolean()
    first_scanned_at = DateTime(allow_none=True)
