"""The national import with a dry run (issue 19, DESIGN §3 "Programme"): the council's list, in the national
export's schema, is read (catalog.national_import_file), checked row by row and compared with what the shop holds
(a preview, stored); only on confirmation is it applied, in one transaction, re-planned against the database as
it is then, and recorded in the audit trail. Applying the same import twice changes nothing.

Matching. A row is a certificate named by (decision, issued_on, product, producer); names and decisions match
ignoring case, runs of spaces and Unicode composition (accents count: "Chè" is not "Che"). A row is
- unchanged when a certificate with that key holds the same stars, score, level and revocation date (not
  re-checked: some seeded certificates have no known level);
- changed when certificates with that key exist but none holds those values: the new values are a re-evaluation,
  a NEW certificate (never an edit), checked by catalog.certification.check_certificate; or when one with the same
  values is live and the row gives a revocation date: it is revoked with a reason naming the import;
- new otherwise: a certificate for the product of that name of that producer, or a new product (and a new
  producer when no producer has that name), checked by the same rules.
A row refused (unreadable, or against the rules) is listed with its number and reason and never applied.

Derived columns: `status` and `group_name` are ignored (the export's standing on its own date; the group's name
follows from `group`); `expires_on`, when given, must equal issued_on + 36 months. Product columns (group,
sub_group, commune, district, producer_address) are used only to create a product or producer: an import never
edits an existing one. A new product is off sale until an admin sets its price: it is written inactive with
price 0 (catalog.prices.check_price refuses 0, so 0 can only mean "no price yet"), and the listing cannot be
put back on sale until it has one (catalog.onboarding.set_listing_active).
"""

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, select, update
from sqlalchemy.orm import Mapped, Session, load_only, mapped_column

from catalog import audit
from catalog.bulk import insert_rows, set_column, with_defaults, written_in_bulk
from catalog.certification import check_certificate, current_certificate, expiry_for
from catalog.groups import GROUPS
from catalog.models import AuditEntry, Certificate, Producer, Product
from catalog.national_import_file import RawRow, Table
from catalog.onboarding import ADDRESS_MAX, NAME_MAX, PRODUCER_FIELDS, PRODUCT_FIELDS, SUBGROUPS_BY_GROUP
from catalog.services import (
    CERTIFICATE_FIELDS,
    REVOCATION_FIELDS,
    get_certificate,
    issue_certificate,
    issued_detail,
    lock_product,
    revoke_certificate,
)
from core.dates import vietnam_date
from core.errors import N_, InvalidInput, NotFound, Term
from core.models import Base, utcnow
from core.text import fold_words, slugify

DECISION_MAX, COMMUNE_MAX, SUB_GROUP_MAX = 300, 120, 120
LEVELS = ("district", "province", "national")
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


class NationalImport(Base):
    """One uploaded list: its rows as read, the preview shown, and, once confirmed, what was applied."""

    __tablename__ = "national_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    file_name: Mapped[str] = mapped_column(String(255), default="")
    #: SHA-256 (hex) of the file as uploaded.
    sha256: Mapped[str] = mapped_column(String(64))
    #: csv | xlsx, told from the content.
    kind: Mapped[str] = mapped_column(String(10))
    #: The rows that could be read (parse_row's dicts), in file order; re-planned when applied.
    rows: Mapped[list] = mapped_column(JSON, default=list, deferred=True)
    #: Rows refused while reading (problem dicts), kept for the applied result too.
    read_errors: Mapped[list] = mapped_column(JSON, default=list, deferred=True)
    #: The preview as planned at upload (plan()'s summary).
    preview: Mapped[dict] = mapped_column(JSON, default=dict)
    new_count: Mapped[int] = mapped_column(Integer, default=0)
    changed_count: Mapped[int] = mapped_column(Integer, default=0)
    unchanged_count: Mapped[int] = mapped_column(Integer, default=0)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    applied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    applied_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: What was applied (apply()'s summary); None until then.
    result: Mapped[dict | None] = mapped_column(JSON)


# --- problems (a row's reason, kept as a template so it is shown in the reader's language) ------------------------


def problem(row: int, error: InvalidInput) -> dict:
    return {
        "row": row,
        "code": error.code,
        "template": error.template,
        "params": {name: str(value) for name, value in error.params.items()},
        "terms": sorted(name for name, value in error.params.items() if isinstance(value, Term)),
    }


def problem_error(item: dict) -> InvalidInput:
    """The InvalidInput a stored problem came from (storefront.errors.translated shows it)."""
    params = {name: Term(value) if name in item.get("terms", ()) else value for name, value in item["params"].items()}
    return InvalidInput(item["template"], code=item["code"], **params)


def _refuse(template: str, code: str = "invalid_row", **params) -> InvalidInput:
    return InvalidInput(template, code=code, **params)


# --- reading one row -----------------------------------------------------------------------------------------------


def key_text(text: str) -> str:
    """What names and decisions are matched on: NFC, case-folded, runs of spaces as one."""
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def _text(values: dict, column: str, limit: int, *, required: bool = False) -> str:
    value = values.get(column)
    if value is None:
        value = ""
    elif isinstance(value, bool) or isinstance(value, datetime | date):
        raise _refuse(N_("Cột %(column)s phải là chữ."), column=column)
    elif isinstance(value, int | float):
        value = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    text = " ".join(unicodedata.normalize("NFC", value).split())
    if "\x00" in text:
        raise _refuse(N_("Cột %(column)s chứa ký tự không hợp lệ."), column=column)
    if required and not text:
        raise _refuse(N_("Cột %(column)s không được để trống."), column=column)
    if len(text) > limit:
        raise _refuse(N_("Cột %(column)s dài quá %(max)s ký tự."), column=column, max=limit)
    return text


def _integer(values: dict, column: str, low: int, high: int, *, required: bool) -> int | None:
    value = values.get(column)
    if isinstance(value, str):
        value = value.strip()
        if value and (value.isascii() and value.lstrip("-").isdigit() and len(value) <= 6):
            value = int(value)
    if value is None or value == "":
        if required:
            raise _refuse(N_("Cột %(column)s không được để trống."), column=column)
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _refuse(
            N_("Cột %(column)s phải là số nguyên từ %(low)s đến %(high)s."), column=column, low=low, high=high
        )
    return value


def _date(values: dict, column: str, *, required: bool) -> date | None:
    value = values.get(column)
    if isinstance(value, datetime):
        if value.time() != time(0):
            raise _refuse(N_("Cột %(column)s phải là một ngày (YYYY-MM-DD)."), column=column)
        return value.date()
    if isinstance(value, date):
        return value
    text = value.strip() if isinstance(value, str) else value
    if text is None or text == "":
        if required:
            raise _refuse(N_("Cột %(column)s không được để trống."), column=column)
        return None
    try:
        if not isinstance(text, str) or len(text) != 10:
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise _refuse(N_("Cột %(column)s phải là một ngày (YYYY-MM-DD)."), column=column) from None


def parse_row(raw: RawRow) -> dict:
    """A row as the plan uses it (JSON-safe), or InvalidInput saying why it cannot be read."""
    if raw.problem is not None:
        raise raw.problem
    values = raw.values
    issued_on = _date(values, "issued_on", required=True)
    expires_on = _date(values, "expires_on", required=False)
    if expires_on is not None and expires_on != expiry_for(issued_on):
        raise _refuse(
            N_("Ngày hết hiệu lực %(given)s không khớp ngày ký: phải là %(expected)s (36 tháng)."),
            code="expiry_mismatch",
            given=f"{expires_on:%d/%m/%Y}",
            expected=f"{expiry_for(issued_on):%d/%m/%Y}",
        )
    revoked_on = _date(values, "revoked_on", required=False)
    if revoked_on is not None and revoked_on < issued_on:
        raise _refuse(N_("Ngày thu hồi trước ngày ký."), code="revoked_before_issued")
    level = _text(values, "level", 20) or None
    if level is not None and level not in LEVELS:
        raise _refuse(N_("Cột level phải là district, province, national hoặc để trống."), code="invalid_level")
    district = _text(values, "district", 120) or None
    return {
        "row": raw.number,
        # Required only of a row that changes something (plan): the shop holds certificates whose source gives no
        # decision number, and its own export of them must read back unchanged.
        "decision": _text(values, "decision", DECISION_MAX),
        "issued_on": issued_on.isoformat(),
        "stars": _integer(values, "stars", 1, 5, required=True),
        "score": _integer(values, "score", 0, 100, required=False),
        "level": level,
        "revoked_on": revoked_on.isoformat() if revoked_on else None,
        "product": _text(values, "product", NAME_MAX, required=True),
        "group": _integer(values, "group", min(GROUPS), max(GROUPS), required=True),
        "sub_group": _text(values, "sub_group", SUB_GROUP_MAX),
        "producer": _text(values, "producer", NAME_MAX, required=True),
        "producer_address": _text(values, "producer_address", ADDRESS_MAX),
        "commune": _text(values, "commune", COMMUNE_MAX),
        "district": district,
    }


def read_rows(table: Table) -> tuple[list[dict], list[dict]]:
    """The rows that read well and the problems of those that do not."""
    rows, errors = [], []
    for raw in table.rows:
        try:
            rows.append(parse_row(raw))
        except InvalidInput as error:
            errors.append(problem(raw.number, error))
    return rows, errors


# --- what the shop holds, loaded once ---------------------------------------------------------------------------


@dataclass
class Held:
    """A certificate the shop holds (or one the plan will add: id None), as the rows are compared with it."""

    id: int | None
    product_id: int | str
    stars: int
    score: int | None
    level: str | None
    revoked_on: str | None
    order: int

    def same_values(self, row: dict) -> bool:
        return (self.stars, self.score, self.level) == (row["stars"], row["score"], row["level"])

    def equals(self, row: dict) -> bool:
        return self.same_values(row) and self.revoked_on == row["revoked_on"]

    def as_values(self) -> dict:
        return {"stars": self.stars, "score": self.score, "level": self.level, "revoked_on": self.revoked_on}


@dataclass
class Holdings:
    certificates: dict[tuple, list[Held]]
    #: (producer key, product key) → product ids (or "new:<n>" for products the plan adds)
    products: dict[tuple, list]
    #: producer key → producer ids (or "new:<n>")
    producers: dict[str, list]
    product_names: dict[int, tuple[str, str]]


def load_holdings(session: Session) -> Holdings:
    """Every certificate, product and producer by its matching key: three queries, whatever the file's size."""
    producers: dict[str, list] = {}
    producer_names: dict[int, str] = {}
    for producer_id, name in session.execute(select(Producer.id, Producer.name).order_by(Producer.id)):
        producers.setdefault(key_text(name), []).append(producer_id)
        producer_names[producer_id] = name
    products: dict[tuple, list] = {}
    product_names: dict[int, tuple[str, str]] = {}
    for product_id, name, producer_id in session.execute(
        select(Product.id, Product.name, Product.producer_id).order_by(Product.id)
    ):
        products.setdefault((key_text(producer_names[producer_id]), key_text(name)), []).append(product_id)
        product_names[product_id] = (name, producer_names[producer_id])
    certificates: dict[tuple, list[Held]] = {}
    rows = session.execute(
        select(
            Certificate.id,
            Certificate.product_id,
            Certificate.decision,
            Certificate.issued_on,
            Certificate.stars,
            Certificate.score,
            Certificate.level,
            Certificate.revoked_at,
        ).order_by(Certificate.id)
    )
    for cert_id, product_id, decision, issued_on, stars, score, level, revoked_at in rows:
        product, producer = product_names[product_id]
        key = (key_text(decision), issued_on.isoformat(), key_text(product), key_text(producer))
        revoked_on = vietnam_date(revoked_at).isoformat() if revoked_at is not None else None
        certificates.setdefault(key, []).append(
            Held(cert_id, product_id, stars, score, level, revoked_on, order=cert_id)
        )
    return Holdings(certificates, products, producers, product_names)


# --- the plan ------------------------------------------------------------------------------------------------------


def _values(row: dict) -> dict:
    return {name: row[name] for name in ("stars", "score", "level", "revoked_on")}


def plan(session: Session, rows: list[dict], today: date, districts: dict[str, int]) -> dict:
    """What applying `rows` would do now: counts, the lists a person checks, the problems, and the actions.

    `districts` maps core.text.fold_words of a former district's name or label ("huyện Kiến Thụy") to its area id
    (the caller looks places up through stores; catalog does not).
    """
    holdings = load_holdings(session)
    counts = {"new": 0, "changed": 0, "unchanged": 0}
    errors: list[dict] = []
    new_producers: list[dict] = []
    new_products: list[dict] = []
    new_certificates: list[dict] = []
    changes: list[dict] = []
    actions: list[dict] = []
    seen: dict[tuple, int] = {}
    #: A certificate this plan adds → the action adding it (a later row may revoke it).
    planned_by: dict[int, dict] = {}
    order = 2**40  # planned certificates come after every held one
    for row in rows:
        number = row["row"]
        producer_key, product_key = key_text(row["producer"]), key_text(row["product"])
        key = (key_text(row["decision"]), row["issued_on"], product_key, producer_key)
        full = (*key, row["stars"], row["score"], row["level"], row["revoked_on"])
        if full in seen:
            errors.append(problem(number, _refuse(N_("Trùng với dòng %(row)s."), code="duplicate", row=seen[full])))
            continue
        seen[full] = number
        candidates = holdings.certificates.get(key, [])
        try:
            if any(held.equals(row) for held in candidates):
                counts["unchanged"] += 1
                continue
            if not row["decision"]:
                raise _refuse(N_("Cột %(column)s không được để trống."), column="decision")
            _check_dates(row, today)
            same = [held for held in candidates if held.same_values(row)]
            if same:
                _plan_revocation(row, same, changes, actions, planned_by)
                counts["changed"] += 1
                continue
            issued_on = date.fromisoformat(row["issued_on"])
            check_certificate(row["stars"], row["score"], row["level"] or "", issued_on, today)
            if candidates:
                newest = max(candidates, key=lambda held: held.order)
                target = newest.product_id
                changes.append(
                    {
                        **_describe(row),
                        "kind": "reevaluation",
                        "certificate_id": newest.id,
                        "before": newest.as_values(),
                        "after": _values(row),
                    }
                )
                counts["changed"] += 1
                action = {"kind": "reevaluation", "product": target}
            else:
                target = _product_for(row, producer_key, product_key, holdings, districts, new_products, new_producers)
                new_certificates.append({**_describe(row), "new_product": isinstance(target, str)})
                counts["new"] += 1
                action = {"kind": "new", "product": target}
        except InvalidInput as error:
            errors.append(problem(number, error))
            continue
        action = {**action, "row": row}
        actions.append(action)
        order += 1
        held = Held(None, target, row["stars"], row["score"], row["level"], row["revoked_on"], order=order)
        holdings.certificates.setdefault(key, []).append(held)
        planned_by[id(held)] = action
    errors.sort(key=lambda item: item["row"])
    return {
        **counts,
        "errors": errors,
        "new_producers": new_producers,
        "new_products": new_products,
        "new_certificates": new_certificates,
        "changes": changes,
        "actions": actions,
    }


def _check_dates(row: dict, today: date) -> None:
    """A row that would change something may not be dated after the shop's today (one equal to what the shop
    holds is not re-checked)."""
    for column, template in (
        ("issued_on", N_("Ngày ký %(date)s ở tương lai.")),
        ("revoked_on", N_("Ngày thu hồi %(date)s ở tương lai.")),
    ):
        if row[column] and date.fromisoformat(row[column]) > today:
            raise _refuse(template, code="future_date", date=_shown(row[column]), column=column)


def _describe(row: dict) -> dict:
    return {name: row[name] for name in ("row", "product", "producer", "decision", "issued_on", *_values(row))}


def _plan_revocation(row: dict, same: list[Held], changes: list, actions: list, planned_by: dict) -> None:
    live = [held for held in same if held.revoked_on is None]
    if row["revoked_on"] is None:
        held = max(same, key=lambda h: h.order)
        raise _refuse(
            N_(
                "Cửa hàng ghi giấy chứng nhận này đã bị thu hồi ngày %(date)s; "
                "nhập danh sách không hủy được việc thu hồi."
            ),
            code="revoked_in_shop",
            date=_shown(held.revoked_on),
        )
    if not live:
        held = max(same, key=lambda h: h.order)
        raise _refuse(
            N_("Cửa hàng ghi giấy chứng nhận này bị thu hồi ngày %(held)s, danh sách ghi ngày %(given)s."),
            code="revocation_differs",
            held=_shown(held.revoked_on),
            given=_shown(row["revoked_on"]),
        )
    held = max(live, key=lambda h: h.order)
    changes.append(
        {
            **_describe(row),
            "kind": "revocation",
            "certificate_id": held.id,
            "before": held.as_values(),
            "after": _values(row),
        }
    )
    if held.id is not None:
        actions.append({"kind": "revocation", "certificate": held.id, "row": row})
    else:  # a certificate an earlier row of this file adds: it is added revoked
        action = planned_by[id(held)]
        action["row"] = {**action["row"], "revoked_on": row["revoked_on"]}
    held.revoked_on = row["revoked_on"]


def _shown(iso: str | None) -> str:
    return f"{date.fromisoformat(iso):%d/%m/%Y}" if iso else "—"


def _product_for(row, producer_key, product_key, holdings, districts, new_products, new_producers):
    """The id of the product a new certificate belongs to, or "new:<n>" for a product this import adds."""
    found = holdings.products.get((producer_key, product_key), [])
    if len(found) > 1:
        raise _refuse(
            N_("Có %(count)s sản phẩm “%(product)s” của “%(producer)s”: không biết chọn sản phẩm nào."),
            code="ambiguous_product",
            count=len(found),
            product=row["product"],
            producer=row["producer"],
        )
    if found:
        return found[0]
    district_id = None
    if row["district"]:
        district_id = districts.get(fold_words(row["district"]))
        if district_id is None:
            raise _refuse(
                N_("Không biết huyện/quận “%(district)s”."), code="unknown_district", district=row["district"]
            )
    if row["sub_group"] and row["sub_group"] not in SUBGROUPS_BY_GROUP[row["group"]]:
        raise _refuse(
            N_("Bộ sản phẩm “%(subgroup)s” không thuộc nhóm %(group)s."),
            code="invalid_sub_group",
            subgroup=row["sub_group"][:60],
            group=row["group"],
        )
    producers = holdings.producers.get(producer_key, [])
    if len(producers) > 1:
        raise _refuse(
            N_("Có %(count)s nhà sản xuất tên “%(producer)s”: không biết chọn ai."),
            code="ambiguous_producer",
            count=len(producers),
            producer=row["producer"],
        )
    if producers:
        producer = producers[0]
    else:
        producer = f"new:{len(new_producers)}"
        new_producers.append(
            {
                "ref": producer,
                "name": row["producer"],
                "address": row["producer_address"],
                "commune": row["commune"],
                "district": row["district"],
                "district_id": district_id,
                "row": row["row"],
            }
        )
        holdings.producers[producer_key] = [producer]
    ref = f"new:{len(new_products)}"
    new_products.append(
        {
            "ref": ref,
            "name": row["product"],
            "producer": row["producer"],
            "producer_ref": producer,
            "group": row["group"],
            "sub_group": row["sub_group"],
            "commune": row["commune"],
            "district": row["district"],
            "district_id": district_id,
            "row": row["row"],
        }
    )
    holdings.products[(producer_key, product_key)] = [ref]
    return ref


def summary(planned: dict) -> dict:
    """The plan without its actions: what the preview shows and stores."""
    return {name: value for name, value in planned.items() if name != "actions"}


# --- upload and apply --------------------------------------------------------------------------------------------


def create_import(
    session: Session,
    table: Table,
    *,
    file_name: str,
    sha256: str,
    today: date,
    districts: dict[str, int],
    actor_id: int | None,
    now: datetime | None = None,
) -> NationalImport:
    """Stores the file's rows and its preview; nothing in the catalogue changes."""
    rows, read_errors = read_rows(table)
    planned = summary(plan(session, rows, today, districts))
    planned["errors"] = sorted(read_errors + planned["errors"], key=lambda item: item["row"])
    record = NationalImport(
        uploaded_by=actor_id,
        uploaded_at=now or utcnow(),
        file_name=(file_name or "")[:255],
        sha256=sha256,
        kind=table.kind,
        rows=rows,
        read_errors=read_errors,
        preview=planned,
        new_count=planned["new"],
        changed_count=planned["changed"],
        unchanged_count=planned["unchanged"],
        error_count=len(planned["errors"]),
    )
    session.add(record)
    session.flush()
    return record


def get_import(session: Session, import_id: int) -> NationalImport:
    record = session.get(NationalImport, import_id)
    if record is None:
        raise NotFound(N_("Không tìm thấy lần nhập danh sách này."))
    return record


def recent_imports(session: Session, limit: int = 20) -> list[NationalImport]:
    """The latest imports with their counts (not their rows, previews or results, which may be large)."""
    return list(
        session.scalars(
            select(NationalImport)
            .options(
                load_only(
                    NationalImport.file_name,
                    NationalImport.uploaded_at,
                    NationalImport.new_count,
                    NationalImport.changed_count,
                    NationalImport.unchanged_count,
                    NationalImport.error_count,
                    NationalImport.applied_at,
                    raiseload=True,
                )
            )
            .order_by(NationalImport.id.desc())
            .limit(limit)
        )
    )


def apply_import(
    session: Session,
    record: NationalImport,
    *,
    today: date,
    districts: dict[str, int],
    actor_id: int | None,
    now: datetime | None = None,
) -> tuple[dict, bool]:
    """Applies the import once: (what was applied, True), or, when it was applied already (by this call's twin
    running at the same moment too), (what was applied then, False) and nothing changes. Flushes; the caller
    commits, so the claim, the changes and the audit entries are one transaction."""
    now = now or utcnow()
    claimed = session.execute(
        update(NationalImport)
        .where(NationalImport.id == record.id, NationalImport.applied_at.is_(None))
        .values(applied_at=now, applied_by=actor_id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        session.refresh(record)
        return dict(record.result or {}), False
    planned = plan(session, record.rows, today, districts)
    origin = f"danh sách nhập #{record.id} ({record.file_name or 'không tên'})"
    made_producers = _new_producers(session, planned["new_producers"], origin, actor_id)
    made_products = _new_products(session, planned["new_products"], made_producers, origin, actor_id)
    # Certificates of products this import creates: nobody else sees those before the commit, so no lock.
    revoked = _new_products_certificates(
        session,
        [action for action in planned["actions"] if isinstance(action.get("product"), str)],
        made_products,
        origin,
        actor_id,
    )
    revoked += _existing_products_certificates(
        session,
        [action for action in planned["actions"] if not isinstance(action.get("product"), str)],
        today,
        origin,
        actor_id,
    )
    written_in_bulk(session, [made.id for made in made_products.values()])
    errors = sorted(record.read_errors + planned["errors"], key=lambda item: item["row"])
    result = {
        **summary(planned),
        "errors": errors,
        "revoked": revoked,
        "applied_at": now.isoformat(),
        "applied_by": actor_id,
    }
    record.result = result
    audit.record(
        session,
        entity="national_import",
        entity_id=record.id,
        action="applied",
        actor_id=actor_id,
        after={
            "file_name": record.file_name,
            "sha256": record.sha256,
            "new": planned["new"],
            "changed": planned["changed"],
            "unchanged": planned["unchanged"],
            "errors": len(errors),
            "new_producers": len(made_producers),
            "new_products": len(made_products),
        },
        detail=(
            f"Nhập {record.file_name or 'danh sách'}: {planned['new']} mới, {planned['changed']} thay đổi, "
            f"{planned['unchanged']} không đổi, {len(errors)} dòng lỗi"
        ),
        at=now,
    )
    session.flush()
    return result, True


def _revocation(row: dict, origin: str) -> tuple[datetime, str]:
    """When a row's revocation takes effect (midnight of its date, Vietnam time) and the reason written."""
    revoked_on = date.fromisoformat(row["revoked_on"])
    return (
        datetime.combine(revoked_on, time(0), tzinfo=VIETNAM),
        f"Thu hồi theo {origin}, dòng {row['row']}: ngày thu hồi {revoked_on:%d/%m/%Y}",
    )


def _revoke(
    session: Session, certificate: Certificate, row: dict, origin: str, actor_id: int | None, *, locked: bool
) -> None:
    at, reason = _revocation(row, origin)
    revoke_certificate(session, certificate, reason=reason, actor_id=actor_id, now=at, locked=locked)


def _existing_products_certificates(
    session: Session, actions: list[dict], today: date, origin: str, actor_id: int | None
) -> int:
    """Certificates of products the shop held already, in file order, through catalog.services (each product
    locked and reloaded once for all its rows; one flush at the end); returns how many were revoked."""
    locked: dict[int, Product] = {}

    def lock(product_id: int) -> Product:
        if product_id not in locked:
            locked[product_id] = lock_product(session, product_id)
        return locked[product_id]

    revoked = 0
    for action in actions:
        row = action["row"]
        if action["kind"] == "revocation":
            certificate = get_certificate(session, action["certificate"])
            # Locking reloads the product's certificates, this one too (another admin may have revoked it).
            lock(certificate.product_id)
            _revoke(session, certificate, row, origin, actor_id, locked=True)
            revoked += 1
            continue
        certificate = issue_certificate(
            session,
            lock(action["product"]),
            stars=row["stars"],
            score=row["score"],
            level=row["level"],
            decision=row["decision"],
            issued_on=date.fromisoformat(row["issued_on"]),
            today=today,
            actor_id=actor_id,
            locked=True,
        )
        if row["revoked_on"]:
            _revoke(session, certificate, row, origin, actor_id, locked=True)
            revoked += 1
    session.flush()
    return revoked


@dataclass
class _Written:
    """A certificate as written in bulk: what catalog.certification.current_certificate reads."""

    id: int
    issued_on: date
    revoked_at: datetime | None


def _new_products_certificates(
    session: Session, actions: list[dict], products: dict[str, "_Made"], origin: str, actor_id: int | None
) -> int:
    """Certificates of the products this import creates, written in bulk: the certificates (revoked ones written
    revoked), the audit entries catalog.services writes for them (issued, then revoked), and each product's current
    certificate. Returns how many were revoked."""
    if not actions:
        return 0
    table = Certificate.__table__
    values = []
    for action in actions:
        row = action["row"]
        issued_on = date.fromisoformat(row["issued_on"])
        revoked_at, reason = _revocation(row, origin) if row["revoked_on"] else (None, "")
        values.append(
            with_defaults(
                table,
                {
                    "product_id": products[action["product"]].id,
                    "stars": row["stars"],
                    "score": row["score"],
                    "level": row["level"],
                    "decision": row["decision"],
                    "issued_on": issued_on,
                    "expires_on": expiry_for(issued_on),
                    "date_is_approximate": False,
                    "revoked_at": revoked_at,
                    "revoked_reason": reason[:500],
                },
            )
        )
    ids = insert_rows(session, table, values)
    producer_of = {made.id: made.producer_id for made in products.values()}
    entries = []
    by_product: dict[int, list[_Written]] = {}
    revoked = 0
    for certificate_id, value in zip(ids, values, strict=True):
        product_id = value["product_id"]
        context = {
            "entity": "certificate",
            "entity_id": certificate_id,
            "actor_id": actor_id,
            "product_id": product_id,
            "producer_id": producer_of[product_id],
        }
        entries.append(
            {
                **context,
                "action": "issued",
                "before": {},
                "after": audit.snapshot(SimpleNamespace(**value), CERTIFICATE_FIELDS),
                "detail": issued_detail(value["stars"], value["level"], value["issued_on"])[:500],
            }
        )
        if value["revoked_at"] is not None:
            entries.append(
                {
                    **context,
                    "action": "revoked",
                    "before": {"revoked_at": None, "revoked_reason": ""},
                    "after": audit.snapshot(SimpleNamespace(**value), REVOCATION_FIELDS),
                    "detail": value["revoked_reason"],
                }
            )
            revoked += 1
        by_product.setdefault(product_id, []).append(_Written(certificate_id, value["issued_on"], value["revoked_at"]))
    _insert_audit(session, entries)
    currents = {product_id: current_certificate(written) for product_id, written in by_product.items()}
    set_column(
        session,
        Product.__table__,
        "current_certificate_id",
        {product_id: current.id for product_id, current in currents.items() if current is not None},
    )
    return revoked


@dataclass(frozen=True)
class _Made:
    """A producer or product this import created in bulk."""

    id: int
    producer_id: int | None = None


def _insert_audit(session: Session, entries: list[dict]) -> None:
    """Audit entries written in bulk, as audit.record writes them one at a time."""
    if not entries:
        return
    table = AuditEntry.__table__
    insert_rows(
        session,
        table,
        [
            {"before": {}, "after": {}, "detail": "", "producer_id": None, "product_id": None, "at": utcnow(), **entry}
            for entry in entries
        ],
    )


def _new_producers(session: Session, specs: list[dict], origin: str, actor_id: int | None) -> dict[str, _Made]:
    """The producers the plan adds, written in bulk, each with its audit entry."""
    if not specs:
        return {}
    table = Producer.__table__
    values = [
        with_defaults(
            table,
            {
                "name": spec["name"],
                "address": spec["address"],
                "commune": spec["commune"],
                "district_id": spec["district_id"],
                "kind": "",
            },
        )
        for spec in specs
    ]
    ids = insert_rows(session, table, values)
    _insert_audit(
        session,
        [
            {
                "entity": "producer",
                "entity_id": producer_id,
                "action": "created",
                "actor_id": actor_id,
                "producer_id": producer_id,
                "after": audit.snapshot(SimpleNamespace(**value), PRODUCER_FIELDS),
                "detail": f"Từ {origin}"[:500],
            }
            for producer_id, value in zip(ids, values, strict=True)
        ],
    )
    return {spec["ref"]: _Made(producer_id) for spec, producer_id in zip(specs, ids, strict=True)}


def _new_products(
    session: Session, specs: list[dict], producers: dict[str, _Made], origin: str, actor_id: int | None
) -> dict[str, _Made]:
    """The products the plan adds, off sale and unpriced, written in bulk, each with its audit entry."""
    if not specs:
        return {}
    slugs = set(session.scalars(select(Product.slug)))
    table = Product.__table__
    values = []
    for spec in specs:
        base = slugify(spec["name"])[:200] or "san-pham"
        slug, n = base, 1
        while slug in slugs:
            n += 1
            slug = f"{base}-{n}"
        slugs.add(slug)
        producer = spec["producer_ref"]
        values.append(
            with_defaults(
                table,
                {
                    "name": spec["name"],
                    "slug": slug,
                    "producer_id": producers[producer].id if isinstance(producer, str) else producer,
                    "group": spec["group"],
                    "subgroup": spec["sub_group"],
                    "origin_commune": spec["commune"],
                    "origin_district_id": spec["district_id"],
                    "price_vnd": 0,
                    "active": False,
                },
            )
        )
    ids = insert_rows(session, table, values)
    _insert_audit(
        session,
        [
            {
                "entity": "product",
                "entity_id": product_id,
                "action": "created",
                "actor_id": actor_id,
                "product_id": product_id,
                "producer_id": value["producer_id"],
                "after": audit.snapshot(SimpleNamespace(**value), (*PRODUCT_FIELDS, "price_vnd", "slug", "active")),
                "detail": f"Từ {origin}: ngừng bán cho đến khi được đặt giá"[:500],
            }
            for product_id, value in zip(ids, values, strict=True)
        ],
    )
    made = zip(specs, ids, values, strict=True)
    return {spec["ref"]: _Made(product_id, value["producer_id"]) for spec, product_id, value in made}
