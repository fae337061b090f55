"""Built-in search index: documents, their outlets, the vocabulary for typos, the cluster outbox; SQLite FTS5
table or PostgreSQL GIN index over the words. Filled by `flask --app storefront search reindex`.

Revision ID: b7e1c0a5f3d2
Revises: 088e3a60c056
Create Date: 2026-11-29 21:05:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "b7e1c0a5f3d2"
down_revision = "088e3a60c056"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "search_documents",
        sa.Column("product_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("sort_name", sa.String(length=200), nullable=False),
        sa.Column("group_code", sa.Integer(), nullable=False),
        sa.Column("stars", sa.Integer(), nullable=False),
        sa.Column("price_vnd", sa.Integer(), nullable=False),
        sa.Column("district", sa.String(length=120), nullable=True),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("in_stock", sa.Boolean(), nullable=False),
        sa.Column("name_words", sa.Text(), nullable=False),
        sa.Column("body_words", sa.Text(), nullable=False),
        sa.Column("accented_words", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("product_id", name=op.f("pk_search_documents")),
    )
    op.create_index(
        "ix_search_documents_facets",
        "search_documents",
        ["group_code", "stars", "district", "issued_on", "expires_on", "price_vnd", "in_stock"],
    )
    op.create_index(
        "ix_search_documents_by_stars", "search_documents", [sa.text("stars DESC"), "sort_name", "product_id"]
    )
    op.create_table(
        "search_document_outlets",
        sa.Column("product_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("outlet_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("product_id", "outlet_id", name=op.f("pk_search_document_outlets")),
    )
    op.create_index("ix_search_document_outlets_outlet", "search_document_outlets", ["outlet_id", "product_id"])
    op.create_table(
        "search_terms",
        sa.Column("term", sa.String(length=100), nullable=False),
        sa.Column("documents", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("term", name=op.f("pk_search_terms")),
    )
    op.create_table(
        "search_term_variants",
        sa.Column("variant", sa.String(length=100), nullable=False),
        sa.Column("term", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("variant", "term", name=op.f("pk_search_term_variants")),
    )
    op.create_table(
        "search_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_outbox")),
    )
    op.create_index(op.f("ix_search_outbox_product_id"), "search_outbox", ["product_id"], unique=False)
    op.create_index(op.f("ix_search_outbox_sent_at"), "search_outbox", ["sent_at"], unique=False)
    if op.get_bind().dialect.name == "sqlite":
        # Words arrive folded and space-separated (core.text), so the tokenizer needs to do nothing more.
        op.execute(
            "CREATE VIRTUAL TABLE search_fts USING fts5(name_words, body_words, "
            "tokenize = 'unicode61 remove_diacritics 0', prefix = '2 3')"
        )
    else:
        # Built from the word lists, not by the text parser (which would split "500ml"); stored, so no query
        # splits a row's words again; the whole text's under a GIN index (search.builtin.PG_WORDS).
        op.execute(
            "ALTER TABLE search_documents ADD COLUMN words_tsv tsvector GENERATED ALWAYS AS "
            "(array_to_tsvector(string_to_array(name_words, ' ')) || "
            "array_to_tsvector(string_to_array(body_words, ' '))) STORED"
        )
        op.execute(
            "ALTER TABLE search_documents ADD COLUMN name_tsv tsvector GENERATED ALWAYS AS "
            "(array_to_tsvector(string_to_array(name_words, ' '))) STORED"
        )
        op.execute("CREATE INDEX ix_search_documents_words ON search_documents USING gin (words_tsv)")


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE search_fts")
    op.drop_index(op.f("ix_search_outbox_sent_at"), table_name="search_outbox")
    op.drop_index(op.f("ix_search_outbox_product_id"), table_name="search_outbox")
    op.drop_table("search_outbox")
    op.drop_table("search_term_variants")
    op.drop_table("search_terms")
    op.drop_index("ix_search_document_outlets_outlet", table_name="search_document_outlets")
    op.drop_table("search_document_outlets")
    op.drop_index("ix_search_documents_by_stars", table_name="search_documents")
    op.drop_index("ix_search_documents_facets", table_name="search_documents")
    op.drop_table("search_documents")
