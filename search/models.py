"""The built-in index: documents in the shop's own database, searched with SQLite FTS5 or PostgreSQL full text.

Besides these tables, the FTS5 table `search_fts` (SQLite) and a GIN index over the words (PostgreSQL) are
created by the migration, per database (search.builtin knows both).
"""

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from core.models import Base, utcnow


class SearchDocument(Base):
    """search.documents.Document as a row; the words are core.text folds, one space apart."""

    __tablename__ = "search_documents"
    __table_args__ = (
        # Facet counts read only this index, in the order they group by, never the rows' long word lists.
        Index(
            "ix_search_documents_facets",
            "group_code",
            "stars",
            "district",
            "issued_on",
            "expires_on",
            "price_vnd",
            "in_stock",
        ),
        # Browsing (5★ first, then by name) walks this and stops at the end of the page; it carries every filter
        # column, so neither a filtered walk nor a count by stars ever reads the rows' long word lists.
        Index(
            "ix_search_documents_by_stars",
            text("stars DESC"),
            "sort_name",
            "product_id",
            "in_stock",
            "issued_on",
            "expires_on",
            "group_code",
            "district",
            "price_vnd",
        ),
    )

    product_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(200))
    sort_name: Mapped[str] = mapped_column(String(200))
    group_code: Mapped[int] = mapped_column(Integer)
    stars: Mapped[int] = mapped_column(Integer)
    price_vnd: Mapped[int] = mapped_column(Integer)
    district: Mapped[str | None] = mapped_column(String(120))
    issued_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date] = mapped_column(Date)
    in_stock: Mapped[bool] = mapped_column(Boolean, default=False)
    name_words: Mapped[str] = mapped_column(Text)
    body_words: Mapped[str] = mapped_column(Text)
    accented_words: Mapped[str] = mapped_column(Text)


class SearchDocumentOutlet(Base):
    """An outlet where the document's product is available (for `in_stock`, `outlet_id` and the outlet facet)."""

    __tablename__ = "search_document_outlets"
    __table_args__ = (Index("ix_search_document_outlets_outlet", "outlet_id", "product_id"),)

    product_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    outlet_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)


class SearchTerm(Base):
    """A folded word of the indexed documents and how many documents hold it: the vocabulary typos are
    corrected against."""

    __tablename__ = "search_terms"

    term: Mapped[str] = mapped_column(String(100), primary_key=True)
    documents: Mapped[int] = mapped_column(Integer, default=0)


class SearchTermVariant(Base):
    """A term with one letter deleted (or the term itself): two words one edit apart share a variant."""

    __tablename__ = "search_term_variants"

    variant: Mapped[str] = mapped_column(String(100), primary_key=True)
    term: Mapped[str] = mapped_column(String(100), primary_key=True)


class SearchOutbox(Base):
    """A product whose document the cluster has to receive; written in the transaction of the change, marked
    sent once the cluster has it (a worker that dies leaves it unsent for the sweep). Sent rows are kept a
    while: a rebuild re-sends what changed while it ran, since those writes went to the index it replaced."""

    __tablename__ = "search_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(Integer, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
