"""Fair kiosks (issue 18): one-time pairing codes and the wrong attempts against an outlet (pairing_codes,
pairing_failures); a device's kind and the queue it last reported (devices.kind, queued_orders, last_sync_at);
when an order was taken offline (orders.occurred_at); when a fair stand's fair ended (outlets.fair_ended_at).

Revision ID: 0c6d47e8a62d
Revises: fd44faa4a2fa
Create Date: 2026-12-06 06:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0c6d47e8a62d"
down_revision = "fd44faa4a2fa"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "pairing_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outlet_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_pairing_codes_created_by_users")),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"], name=op.f("fk_pairing_codes_device_id_devices")),
        sa.ForeignKeyConstraint(["outlet_id"], ["outlets.id"], name=op.f("fk_pairing_codes_outlet_id_outlets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pairing_codes")),
    )
    op.create_index(op.f("ix_pairing_codes_outlet_id"), "pairing_codes", ["outlet_id"], unique=False)
    op.create_table(
        "pairing_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outlet_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["outlet_id"], ["outlets.id"], name=op.f("fk_pairing_failures_outlet_id_outlets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pairing_failures")),
    )
    op.create_index(op.f("ix_pairing_failures_outlet_id"), "pairing_failures", ["outlet_id"], unique=False)
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=10), server_default="till", nullable=False))
        batch_op.add_column(sa.Column("queued_orders", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("last_sync_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("outlets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fair_ended_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("outlets", schema=None) as batch_op:
        batch_op.drop_column("fair_ended_at")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("occurred_at")
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.drop_column("last_sync_at")
        batch_op.drop_column("queued_orders")
        batch_op.drop_column("kind")
    op.drop_index(op.f("ix_pairing_failures_outlet_id"), table_name="pairing_failures")
    op.drop_table("pairing_failures")
    op.drop_index(op.f("ix_pairing_codes_outlet_id"), table_name="pairing_codes")
    op.drop_table("pairing_codes")
