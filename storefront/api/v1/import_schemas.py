"""Schemas of the national import in the API (DESIGN §3 "Programme"): the upload, its preview and what was applied."""

from apiflask import Schema
from apiflask.fields import Boolean, File, Integer, List, Nested, String

from catalog.national_export import COLUMNS


class ImportFileIn(Schema):
    """Documented only: the view reads the file from the multipart body (catalog.national_import_file checks it)."""

    file = File(
        required=True,
        metadata={
            "description": "The council's list as CSV (UTF-8, with or without a BOM) or XLSX, told by its content, "
            f"with the national export's columns ({', '.join(COLUMNS)}); expires_on, status, group_name, sub_group, "
            "producer_address, commune and district may be left out. Values only: an XLSX with macros is refused, "
            "a cell holding a formula refuses its row."
        },
    )


class ImportError_(Schema):
    row = Integer(metadata={"description": "The row's number as a spreadsheet shows it (the header is row 1)"})
    reason = String(metadata={"description": "Why the row is refused, in the reader's language"})
    code = String(metadata={"description": "Machine-readable reason (formula, future_date, invalid_certificate, …)"})


class CertificateValues(Schema):
    stars = Integer()
    score = Integer(allow_none=True)
    level = String(allow_none=True)
    revoked_on = String(allow_none=True, metadata={"format": "date"})


class NewProducer(Schema):
    name = String()
    district = String(allow_none=True)


class NewProduct(Schema):
    name = String()
    producer = String()
    group = Integer()
    district = String(allow_none=True)


class NewCertificate(CertificateValues):
    row = Integer()
    product = String()
    producer = String()
    decision = String()
    issued_on = String(metadata={"format": "date"})
    new_product = Boolean(metadata={"description": "The product is new too (created off sale until priced)"})


class Change(Schema):
    row = Integer()
    kind = String(metadata={"description": "reevaluation (a new certificate is added) or revocation"})
    product = String()
    producer = String()
    decision = String()
    issued_on = String(metadata={"format": "date"})
    before = Nested(CertificateValues, metadata={"description": "The shop's newest certificate with this key"})
    after = Nested(CertificateValues, metadata={"description": "What the row says"})


class _Lists(Schema):
    id = Integer()
    new = Integer(metadata={"description": "New certificates (for existing or new products)"})
    changed = Integer(metadata={"description": "Certificates that differ: re-evaluations and revocations"})
    unchanged = Integer(metadata={"description": "Rows equal to a certificate the shop holds"})
    errors = List(Nested(ImportError_), metadata={"description": "Rows refused, by row number"})
    new_producers = List(Nested(NewProducer))
    new_products = List(Nested(NewProduct))
    new_certificates = List(Nested(NewCertificate))
    changes = List(Nested(Change))


class ImportPreviewOut(_Lists):
    file_name = String()
    kind = String(metadata={"description": "csv or xlsx, told from the content"})
    uploaded_at = String(metadata={"format": "date-time"})
    applied_at = String(allow_none=True, metadata={"format": "date-time"})


class ImportResultOut(_Lists):
    applied = Boolean(
        metadata={
            "description": "True when this call applied it; false when it had been applied already (nothing "
            "changed now: the answer is what was applied then)"
        }
    )
    applied_at = String(metadata={"format": "date-time"})
    revoked = Integer(metadata={"description": "Certificates revoked because a row gave a revocation date"})
