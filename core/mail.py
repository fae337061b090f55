"""Outgoing mail. The embedded profile writes each message as an .eml file into an outbox folder."""
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from time import time_ns


def write_to_outbox(outbox: str, *, sender: str, to: str, subject: str, body: str) -> Path:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message["Message-ID"] = make_msgid(domain="ocop.example")
    message["Date"] = formatdate(localtime=True)
    message.set_content(body)
    folder = Path(outbox)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{time_ns()}-{to.replace('@', '_at_')}.eml"
    path.write_bytes(bytes(message))
    return path
