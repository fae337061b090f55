"""Traceability stamps (issue 17): stamp_orders (a sheet of unit stamps for a batch), stamps (one per unit: its
serial and the signing key's id) and stamp_scans (one row per stamp, device and day, for copy detection).
Stock movements are indexed by batch: a trace page reads its batch's journey from them.

Revision ID: fd44faa4a2fa
Revises: b7678a180ef2
Create Date: 2026-12-06 05:31:55.373204

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "fd44faa4a2fa"
down_revision = "b7678a180ef2"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "stamp_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("ordered_by", sa.Integer(), nullable=True),
        sa.Column("ordered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["batches.id"], name=op.f("fk_stamp_orders_batch_id_batches")),
        sa.ForeignKeyConstraint(["ordered_by"], ["users.id"], name=op.f("fk_stamp_orders_ordered_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stamp_orders")),
    )
    op.create_index(op.f("ix_stamp_orders_batch_id"), "stamp_orders", ["batch_id"], unique=False)
    op.create_table(
        "stamps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(length=20), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["batches.id"], name=op.f("fk_stamps_batch_id_batches")),
        sa.ForeignKeyConstraint(["order_id"], ["stamp_orders.id"], name=op.f("fk_stamps_order_id_stamp_orders")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stamps")),
        sa.UniqueConstraint("serial", name=op.f("uq_stamps_serial")),
    )
    op.create_index(op.f("ix_stamps_batch_id"), "stamps", ["batch_id"], unique=False)
    op.create_index(op.f("ix_stamps_order_id"), "stamps", ["order_id"], unique=False)
    op.create_table(
        "stamp_scans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stamp_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("device", sa.String(length=64), nullable=False),
        sa.Column("network", sa.String(length=64), nullable=False),
        sa.Column("scanned_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["stamp_id"], ["stamps.id"], name=op.f("fk_stamp_scans_stamp_id_stamps")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stamp_scans")),
        sa.UniqueConstraint("stamp_id", "device", "day", name=op.f("uq_stamp_scans_stamp_id")),
    )
    op.create_index(op.f("ix_stock_movements_batch_id"), "stock_movements", ["batch_id"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_stock_movements_batch_id"), table_name="stock_movements")
    op.drop_table("stamp_scans")
    op.drop_index(op.f("ix_stamps_order_id"), table_name="stamps")
    op.drop_index(op.f("ix_stamps_batch_id"), table_name="stamps")
    op.drop_table("stamps")
    op.drop_index(op.f("ix_stamp_orders_batch_id"), table_name="stamp_orders")
    op.drop_table("stamp_orders")
