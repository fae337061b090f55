"""Producers keep their own listings (issue 16): producer and listing details, batch test reports, product
photos, price history and price requests, invitations, certificate reminders, and one audit trail that takes
over the certificate events.

Revision ID: b7678a180ef2
Revises: e7a41c9b2d60
Create Date: 2026-12-06 02:35:12.547728

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "b7678a180ef2"
down_revision = "e7a41c9b2d60"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "audit_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(length=20), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("producer_id", sa.Integer(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("before", sa.JSON(), nullable=False),
        sa.Column("after", sa.JSON(), nullable=False),
        sa.Column("detail", sa.String(length=500), server_default="", nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_audit_entries_actor_id_users")),
        sa.ForeignKeyConstraint(["producer_id"], ["producers.id"], name=op.f("fk_audit_entries_producer_id_producers")),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"], name=op.f("fk_audit_entries_product_id_products")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entries")),
    )
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_entries_producer_id"), ["producer_id"], unique=False)
        batch_op.create_index("ix_audit_entries_product_at", ["product_id", "at"], unique=False)

    op.create_table(
        "invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("producer_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_invitations_created_by_users")),
        sa.ForeignKeyConstraint(["producer_id"], ["producers.id"], name=op.f("fk_invitations_producer_id_producers")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_invitations_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
        sa.UniqueConstraint("nonce", name=op.f("uq_invitations_nonce")),
    )
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invitations_producer_id"), ["producer_id"], unique=False)

    op.create_table(
        "price_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("price_vnd", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(length=500), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["decided_by"], ["users.id"], name=op.f("fk_price_requests_decided_by_users")),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"], name=op.f("fk_price_requests_product_id_products")),
        sa.ForeignKeyConstraint(["requested_by"], ["users.id"], name=op.f("fk_price_requests_requested_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_price_requests")),
    )
    with op.batch_alter_table("price_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_price_requests_product_id"), ["product_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_price_requests_status"), ["status"], unique=False)

    op.create_table(
        "product_photos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("alt", sa.String(length=200), server_default="", nullable=False),
        sa.Column("position", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"], name=op.f("fk_product_photos_product_id_products")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_photos")),
    )
    with op.batch_alter_table("product_photos", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_product_photos_digest"), ["digest"], unique=False)
        batch_op.create_index(batch_op.f("ix_product_photos_product_id"), ["product_id"], unique=False)

    op.create_table(
        "certificate_reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("certificate_id", sa.Integer(), nullable=False),
        sa.Column("days_before", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(length=20), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["certificate_id"], ["certificates.id"], name=op.f("fk_certificate_reminders_certificate_id_certificates")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificate_reminders")),
        sa.UniqueConstraint(
            "certificate_id", "days_before", "recipient", name=op.f("uq_certificate_reminders_certificate_id")
        ),
    )
    op.create_table(
        "price_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("price_vnd", sa.Integer(), nullable=False),
        sa.Column("effective_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"], name=op.f("fk_price_changes_product_id_products")),
        sa.ForeignKeyConstraint(
            ["request_id"], ["price_requests.id"], name=op.f("fk_price_changes_request_id_price_requests")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_price_changes")),
    )
    with op.batch_alter_table("price_changes", schema=None) as batch_op:
        batch_op.create_index("ix_price_changes_product_effective", ["product_id", "effective_at"], unique=False)

    # The certificate events become the audit trail's first rows.
    op.execute(
        """
        INSERT INTO audit_entries
            (entity, entity_id, action, product_id, producer_id, actor_id, at, before, after, detail)
        SELECT 'certificate', e.certificate_id, e.action, c.product_id, p.producer_id, e.actor_id, e.at, '{}', '{}',
               e.detail
        FROM certificate_events e JOIN certificates c ON c.id = e.certificate_id JOIN products p ON p.id = c.product_id
        ORDER BY e.id
        """
    )
    with op.batch_alter_table("certificate_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_certificate_events_certificate_id"))

    op.drop_table("certificate_events")
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("test_report", sa.String(length=80), nullable=True))

    with op.batch_alter_table("producers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=20), server_default="", nullable=False))
        batch_op.add_column(sa.Column("commune_code", sa.String(length=10), server_default="", nullable=False))
        batch_op.add_column(sa.Column("address", sa.String(length=300), server_default="", nullable=False))
        batch_op.add_column(sa.Column("phone", sa.String(length=20), server_default="", nullable=False))
        batch_op.add_column(sa.Column("email", sa.String(length=254), server_default="", nullable=False))
        batch_op.add_column(sa.Column("tax_code", sa.String(length=20), server_default="", nullable=False))

    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ingredients", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(sa.Column("usage", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(sa.Column("storage", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(sa.Column("gtin", sa.String(length=14), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_products_gtin"), ["gtin"])


def downgrade():
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_products_gtin"), type_="unique")
        batch_op.drop_column("gtin")
        batch_op.drop_column("storage")
        batch_op.drop_column("usage")
        batch_op.drop_column("ingredients")

    with op.batch_alter_table("producers", schema=None) as batch_op:
        batch_op.drop_column("tax_code")
        batch_op.drop_column("email")
        batch_op.drop_column("phone")
        batch_op.drop_column("address")
        batch_op.drop_column("commune_code")
        batch_op.drop_column("kind")

    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.drop_column("test_report")

    op.create_table(
        "certificate_events",
        sa.Column("id", sa.INTEGER(), nullable=False),
        sa.Column("certificate_id", sa.INTEGER(), nullable=False),
        sa.Column("action", sa.VARCHAR(length=20), nullable=False),
        sa.Column("actor_id", sa.INTEGER(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.VARCHAR(length=500), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_certificate_events_actor_id_users")),
        sa.ForeignKeyConstraint(
            ["certificate_id"], ["certificates.id"], name=op.f("fk_certificate_events_certificate_id_certificates")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificate_events")),
    )
    with op.batch_alter_table("certificate_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_certificate_events_certificate_id"), ["certificate_id"], unique=False)
    op.execute(
        """
        INSERT INTO certificate_events (certificate_id, action, actor_id, at, detail)
        SELECT entity_id, action, actor_id, at, detail FROM audit_entries WHERE entity = 'certificate' ORDER BY id
        """
    )

    with op.batch_alter_table("price_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_price_changes_product_effective")

    op.drop_table("price_changes")
    op.drop_table("certificate_reminders")
    with op.batch_alter_table("product_photos", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_product_photos_product_id"))
        batch_op.drop_index(batch_op.f("ix_product_photos_digest"))

    op.drop_table("product_photos")
    with op.batch_alter_table("price_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_price_requests_status"))
        batch_op.drop_index(batch_op.f("ix_price_requests_product_id"))

    op.drop_table("price_requests")
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invitations_producer_id"))

    op.drop_table("invitations")
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_entries_product_at")
        batch_op.drop_index(batch_op.f("ix_audit_entries_producer_id"))

    op.drop_table("audit_entries")
