"""A discrepancy says why (discrepancies.reason): a device sale made while the product could not be sold names
the off-sale reason (revoked, expired, …) or lot_expired. A device remembers when it was last seen
(devices.last_seen_at), for the outlet's device list. An order remembers who placed it (orders.device_id,
client_address, client_cookie), for the limits on unpaid orders.

Revision ID: e7b2f4a1c9d8
Revises: c4d2e8f1a9b3
Create Date: 2026-12-06 00:10:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "e7b2f4a1c9d8"
down_revision = "c4d2e8f1a9b3"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("discrepancies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reason", sa.String(length=20), nullable=False, server_default=""))
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("device_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("client_address", sa.String(length=45), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("client_cookie", sa.String(length=64), nullable=False, server_default=""))
        batch_op.create_foreign_key("fk_orders_device_id_devices", "devices", ["device_id"], ["id"])
        batch_op.create_index("ix_orders_client_address", ["client_address"])
        batch_op.create_index("ix_orders_client_cookie", ["client_cookie"])


def downgrade():
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_client_cookie")
        batch_op.drop_index("ix_orders_client_address")
        batch_op.drop_constraint("fk_orders_device_id_devices", type_="foreignkey")
        batch_op.drop_column("client_cookie")
        batch_op.drop_column("client_address")
        batch_op.drop_column("device_id")
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.drop_column("last_seen_at")
    with op.batch_alter_table("discrepancies", schema=None) as batch_op:
        batch_op.drop_column("reason")
