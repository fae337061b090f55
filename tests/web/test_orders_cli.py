"""`flask --app storefront orders …`: expiring unpaid orders, and paying VietQR orders from a bank statement."""

from datetime import UTC, date, datetime, timedelta

import pytest

from inventory.availability import available_by_outlet
from inventory.ledger import Move
from inventory.stock import receive
from orders.checkout import OrderRequest, place_order
from storefront.ordering import checkout_rules, payment_methods
from tests.conftest import PINNED_TODAY
from tests.factories import make_outlet, make_product


def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def shelf(session):
    outlet, product = make_outlet(session), make_product(session, "Chả cá Long Châu", price_vnd=150_000)
    receive(
        session,
        Move(key="cli-receive", kind="receive", outlet_id=outlet.id, product_id=product.id, occurred_at=now()),
        "LOT-1",
        5,
        best_before=date(2027, 6, 1),
    )
    session.commit()
    return outlet, product


def vietqr_order(session, shelf, qty: int, at: datetime):
    outlet, product = shelf
    order = place_order(
        session,
        OrderRequest(
            lines=((product.id, qty),),
            fulfilment="pickup",
            outlet_id=outlet.id,
            payment_method="vietqr",
            name="Lê Thị Dung",
            phone="0912 345 678",
        ),
        checkout_rules(),
        payment_methods(),
        at,
        PINNED_TODAY,
    )
    session.commit()
    return order


def available(session, shelf) -> int:
    outlet, product = shelf
    return available_by_outlet(session, [product.id], now()).get(product.id, {}).get(outlet.id, 0)


def test_expire_unpaid_expires_what_is_past_its_time_and_says_how_many(app, session, shelf):
    late = vietqr_order(session, shelf, 2, now() - timedelta(minutes=16))
    waiting = vietqr_order(session, shelf, 1, now())
    runner = app.test_cli_runner()

    result = runner.invoke(args=["orders", "expire-unpaid"])

    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Unpaid orders expired: 1"
    session.expire_all()
    assert late.status == "expired" and waiting.status == "pending_payment"
    assert available(session, shelf) == 4
    assert runner.invoke(args=["orders", "expire-unpaid"]).output.strip() == "Unpaid orders expired: 0"


def test_import_statement_pays_matching_lines_and_reports_the_rest(app, session, shelf, tmp_path):
    paid = vietqr_order(session, shelf, 1, now())
    short = vietqr_order(session, shelf, 2, now())
    statement = tmp_path / "sao-ke.csv"
    statement.write_text(
        "\ufeffNgày,Số tiền,Nội dung\n"
        f"29/11/2026,150.000,IBFT {paid.code} Le Thi Dung\n"
        f"29/11/2026,200000,CK {short.code}\n"
        "29/11/2026,150000,CK OCOPZZZZZZ\n"
        "29/11/2026,90000,tien dien thang 11\n",
        encoding="utf-8",
    )

    result = app.test_cli_runner().invoke(args=["orders", "import-statement", str(statement)])

    assert result.exit_code == 1, result.output
    assert result.output.splitlines() == [
        f"line 2: {paid.code} 150000 VND: paid",
        f"line 3: {short.code} 200000 VND: amount_mismatch",
        "line 4: OCOPZZZZZZ 150000 VND: unknown_order",
        "Statement lines naming an order: 3 (amount_mismatch 1, paid 1, unknown_order 1)",
    ]
    session.expire_all()
    assert paid.status == "paid" and short.status == "pending_payment"  # the good line stays paid


def test_import_statement_of_only_matching_lines_succeeds_and_a_second_import_pays_nothing_twice(
    app, session, shelf, tmp_path
):
    order = vietqr_order(session, shelf, 2, now())
    statement = tmp_path / "sao-ke.csv"
    statement.write_text(f"2026-11-29,300000,{order.code}\n", encoding="utf-8")
    runner = app.test_cli_runner()

    first = runner.invoke(args=["orders", "import-statement", str(statement)])
    again = runner.invoke(args=["orders", "import-statement", str(statement)])

    assert first.exit_code == 0 and f"{order.code} 300000 VND: paid" in first.output, first.output
    assert again.exit_code == 0 and f"{order.code} 300000 VND: already_paid" in again.output, again.output
    session.expire_all()
    assert order.status == "paid" and [event.status for event in order.events] == ["pending_payment", "paid"]
