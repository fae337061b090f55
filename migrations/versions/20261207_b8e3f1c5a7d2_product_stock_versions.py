"""Each product's stock version (issue 20): changed with every stock movement of the product, so its page can be
cached with its stock in it and still never show stock that has moved.

Revision ID: b8e3f1c5a7d2
Revises: d5e9a3b7c1f4
Create Date: 2026-12-07 00:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "b8e3f1c5a7d2"
down_revision = "d5e9a3b7c1f4"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "product_stock_versions",
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_product_stock_versions_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("product_id", name=op.f("pk_product_stock_versions")),
    )


def downgrade():
    op.drop_table("product_stock_versions")
