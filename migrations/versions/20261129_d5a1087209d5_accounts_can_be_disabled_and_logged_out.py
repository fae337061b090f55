"""Accounts can be disabled, and a logout ends the session on the server (users.is_active, users.session_epoch).

Revision ID: d5a1087209d5
Revises: 6ad5d7e49bac
Create Date: 2026-11-29 14:05:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "d5a1087209d5"
down_revision = "6ad5d7e49bac"
branch_labels = None
depends_on = None


def upgrade():
    # Existing accounts stay active; every login cookie issued before this change names no epoch and ends.
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("is_active", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column("session_epoch", sa.Integer(), nullable=False, server_default="0"))


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("session_epoch")
        batch_op.drop_column("is_active")
