"""Live holds by outlet and expiry (issue 20): a new hold learns whether any hold at its outlet has lapsed from one
probe of a partial index of the active holds, not a scan of every hold ever made. Every read by status or expiry
asks for active holds, so the index replaces the single-column indexes on status and expires_at.

Revision ID: d5e9a3b7c1f4
Revises: c4d8e2a6f0b3
Create Date: 2026-12-06 14:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "d5e9a3b7c1f4"
down_revision = "c4d8e2a6f0b3"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_reservations_active_outlet_expiry",
        "reservations",
        ["outlet_id", "expires_at"],
        unique=False,
        postgresql_where=sa.text("status = 'active'"),
        sqlite_where=sa.text("status = 'active'"),
    )
    op.drop_index(op.f("ix_reservations_status"), table_name="reservations")
    op.drop_index(op.f("ix_reservations_expires_at"), table_name="reservations")


def downgrade():
    op.create_index(op.f("ix_reservations_expires_at"), "reservations", ["expires_at"], unique=False)
    op.create_index(op.f("ix_reservations_status"), "reservations", ["status"], unique=False)
    op.drop_index("ix_reservations_active_outlet_expiry", table_name="reservations")
