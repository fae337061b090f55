"""Outgoing mail. The embedded profile writes each message as an .eml file into an outbox folder."""

import os
import re
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from time import time_ns


def write_to_outbox(
    outbox: str, *, sender: str, to: str, subject: str, body: str, message_key: str | None = None
) -> Path:
    """Writes one message and returns its file.

    With a `message_key` (a Celery task id) the message is written at most once: a task redelivered after its
    worker died finds the file of its first run and sends nothing more. The file appears whole or not at all,
    so a worker killed while writing never leaves half a message that the retry would take for sent.
    """
    folder = Path(outbox)
    folder.mkdir(parents=True, exist_ok=True)
    recipient = to.replace("@", "_at_")
    if message_key is None:
        path = folder / f"{time_ns()}-{recipient}.eml"
    else:
        path = folder / f"{_safe_filename(message_key)}-{recipient}.eml"
        if path.exists():
            return path
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message["Message-ID"] = make_msgid(idstring=message_key, domain="ocop.example")
    message["Date"] = formatdate(localtime=True)
    message.set_content(body)
    partial = folder / f".{path.name}.{os.getpid()}.partial"
    partial.write_bytes(bytes(message))
    os.replace(partial, path)
    return path


def _safe_filename(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", key)
