"""The EPCIS document's shape in the OpenAPI document (the answer itself is built by traceability.epcis and checked
against GS1's EPCIS 2.0 JSON schema in the tests)."""

from apiflask import Schema
from apiflask.fields import DateTime, Integer, List, Nested, String
from apiflask.validators import OneOf, Regexp

from traceability.epcis import EPCIS_CONTEXT, SCHEMA_VERSION, STEPS

GS1_SCHEMA = "https://gs1.github.io/EPCIS/EPCIS-JSON-Schema.json"


class Place(Schema):
    id = String(
        required=True,
        metadata={"description": "The outlet: its card on the shop's outlets page, PUBLIC_URL/cua-hang-ocop#<code>"},
    )


class QuantityElement(Schema):
    epcClass = String(
        required=True,
        metadata={
            "description": "The batch: its GS1 Digital Link lot class PUBLIC_URL/01/<GTIN-14>/10/<lot> when the "
            "product has a GTIN, else PUBLIC_URL/lo-hang/<batch id>"
        },
    )
    quantity = Integer(required=True, metadata={"description": "Units (no uom: a count of instances)"})


class Source(Schema):
    type = String(required=True, validate=OneOf(["location"]))
    source = String(required=True, metadata={"description": "The outlet the transfer left"})


class Destination(Schema):
    type = String(required=True, validate=OneOf(["location"]))
    destination = String(required=True, metadata={"description": "The outlet the transfer went to"})


class ObjectEvent(Schema):
    type = String(required=True, validate=OneOf(["ObjectEvent"]))
    eventTime = DateTime(required=True)
    eventTimeZoneOffset = String(required=True, validate=Regexp(r"^[+-]\d\d:\d\d$"), metadata={"example": "+07:00"})
    eventID = String(
        required=True, metadata={"description": "urn:uuid: named by the ledger movement: the same on every read"}
    )
    quantityList = List(Nested(QuantityElement), required=True)
    action = String(required=True, validate=OneOf(["OBSERVE"]))
    bizStep = String(
        required=True,
        validate=OneOf(sorted({step for step, _ in STEPS.values()})),
        metadata={"description": "CBV 2.0: receiving (received or transferred in), shipping, retail_selling"},
    )
    disposition = String(required=True, validate=OneOf(sorted({d for _, d in STEPS.values()})))
    readPoint = Nested(Place, required=True)
    bizLocation = Nested(Place, metadata={"description": "Absent on shipping: goods on the road are nowhere yet"})
    sourceList = List(Nested(Source), metadata={"description": "Transfers only"})
    destinationList = List(Nested(Destination), metadata={"description": "Transfers only"})


class EpcisBody(Schema):
    eventList = List(Nested(ObjectEvent), required=True, metadata={"description": "In time order"})


class EpcisDocument(Schema):
    context = List(String(), required=True, data_key="@context", metadata={"example": [EPCIS_CONTEXT]})
    type = String(required=True, validate=OneOf(["EPCISDocument"]))
    schemaVersion = String(required=True, validate=OneOf([SCHEMA_VERSION]))
    creationDate = DateTime(required=True)
    epcisBody = Nested(EpcisBody, required=True)
