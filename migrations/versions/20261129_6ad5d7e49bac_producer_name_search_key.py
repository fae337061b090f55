"""Producer names become searchable; folded names become space-separated words.

Revision ID: 6ad5d7e49bac
Revises: 9931d83633ee
Create Date: 2026-11-29 09:43:04.753943

"""

import sqlalchemy as sa
from alembic import op

from core.text import fold_words

# revision identifiers, used by Alembic.
revision = "6ad5d7e49bac"
down_revision = "9931d83633ee"
branch_labels = None
depends_on = None


def _refold(connection, table: str) -> None:
    """Fills name_folded from name in Python: SQL has no Vietnamese fold of its own."""
    rows = connection.execute(sa.text(f"SELECT id, name FROM {table}")).all()
    if rows:
        connection.execute(
            sa.text(f"UPDATE {table} SET name_folded = :folded WHERE id = :id"),
            [{"id": row.id, "folded": fold_words(row.name)} for row in rows],
        )


def upgrade():
    with op.batch_alter_table("producers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_folded", sa.String(length=200), nullable=False, server_default=""))
    connection = op.get_bind()
    _refold(connection, "producers")
    _refold(connection, "products")


def downgrade():
    with op.batch_alter_table("producers", schema=None) as batch_op:
        batch_op.drop_column("name_folded")
