"""Uploaded files kept under content-hashed names (photos, test reports), in step with the database.

A file written during a transaction that then rolls back is removed again (no orphan on disk after a refused
or failed upload); a file let go is removed only after the commit that let it go, and only when the caller's
check finds nothing else using it (two photos of the same image share their files).
"""

import hashlib
import logging
import os
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.orm import Session

_CREATED, _RELEASED = "files.created", "files.released"
log = logging.getLogger(__name__)


def content_name(data: bytes) -> str:
    """The SHA-256 of the content, in hex: equal files get equal names."""
    return hashlib.sha256(data).hexdigest()


class FileStore:
    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def path(self, name: str) -> Path:
        if not name or "/" in name or "\\" in name or name.startswith("."):
            raise ValueError(f"not a stored file name: {name!r}")
        return self.root / name

    def exists(self, name: str) -> bool:
        return self.path(name).is_file()

    def put(self, session: Session, name: str, data: bytes) -> None:
        """Stores `data` as `name` unless a file of that name is there already (content names: it is the same).
        The file appears whole or not at all; it is removed again if `session` rolls back."""
        target = self.path(name)
        if target.is_file():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{name}.{os.getpid()}.partial")
        partial.write_bytes(data)
        os.replace(partial, target)
        session.info.setdefault(_CREATED, []).append(target)

    def release_after_commit(
        self, session: Session, names: list[str], still_used: Callable[[Session, str], bool]
    ) -> None:
        """Once `session` commits, removes each of `names` that `still_used(fresh_session, name)` says is unused
        (asked then, on a session of its own: the committed one may run no SQL in its after-commit hook)."""
        session.info.setdefault(_RELEASED, []).append((self, list(names), still_used))


@event.listens_for(Session, "after_commit")
def _release(session: Session) -> None:
    session.info.pop(_CREATED, None)
    released = session.info.pop(_RELEASED, [])
    if not released:
        return
    try:
        with Session(session.get_bind()) as fresh:
            for store, names, still_used in released:
                for name in names:
                    if not still_used(fresh, name):
                        store.path(name).unlink(missing_ok=True)
    except Exception:  # an orphan file is harmless; failing a request whose change has committed is not
        log.exception("could not tell whether released files are still used; they are kept")


@event.listens_for(Session, "after_transaction_end")
def _remove_created(session: Session, transaction) -> None:
    """The session's transaction ended without a commit (a rollback, or a close): its new files go."""
    if transaction.parent is None and not transaction.nested:
        for path in session.info.pop(_CREATED, []):
            path.unlink(missing_ok=True)
        session.info.pop(_RELEASED, None)
