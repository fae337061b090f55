"""National import with a dry run (issue 19): each uploaded list, its rows, its preview and, once confirmed, what
was applied (national_imports).

Revision ID: a9c3e5f7b1d2
Revises: 0c6d47e8a62d
Create Date: 2026-12-06 09:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a9c3e5f7b1d2"
down_revision = "0c6d47e8a62d"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "national_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uploaded_by", sa.Integer(), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("rows", sa.JSON(), nullable=False),
        sa.Column("read_errors", sa.JSON(), nullable=False),
        sa.Column("preview", sa.JSON(), nullable=False),
        sa.Column("new_count", sa.Integer(), nullable=False),
        sa.Column("changed_count", sa.Integer(), nullable=False),
        sa.Column("unchanged_count", sa.Integer(), nullable=False),
        sa.Column("error_count", sa.Integer(), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("applied_by", sa.Integer(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["uploaded_by"], ["users.id"], name=op.f("fk_national_imports_uploaded_by_users")),
        sa.ForeignKeyConstraint(["applied_by"], ["users.id"], name=op.f("fk_national_imports_applied_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_national_imports")),
    )


def downgrade():
    op.drop_table("national_imports")
