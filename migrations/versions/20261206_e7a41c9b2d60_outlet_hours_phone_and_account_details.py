"""Outlets say when they open and how to call them; accounts keep a phone and a delivery address for checkout
(outlets.phone, outlets.opening_hours, outlets.details_are_demo, users.phone, users.address_line,
users.province_code, users.commune_code).

Revision ID: e7a41c9b2d60
Revises: e7b2f4a1c9d8
Create Date: 2026-12-06 00:35:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "e7a41c9b2d60"
down_revision = "e7b2f4a1c9d8"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outlets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone", sa.String(length=40), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("opening_hours", sa.String(length=120), nullable=False, server_default=""))
        # True while the address, hours and phone are the demo seed's, not ones a person entered.
        batch_op.add_column(sa.Column("details_are_demo", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone", sa.String(length=20), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("address_line", sa.String(length=200), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("province_code", sa.String(length=10), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("commune_code", sa.String(length=10), nullable=False, server_default=""))


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("commune_code")
        batch_op.drop_column("province_code")
        batch_op.drop_column("address_line")
        batch_op.drop_column("phone")
    with op.batch_alter_table("outlets", schema=None) as batch_op:
        batch_op.drop_column("details_are_demo")
        batch_op.drop_column("opening_hours")
        batch_op.drop_column("phone")
