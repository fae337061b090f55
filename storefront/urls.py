"""Redirect targets limited to this site, so no link of ours can bounce a visitor elsewhere."""

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit


def local_path(target: str | None, host_url: str = "", drop_params: tuple[str, ...] = ()) -> str | None:
    """`target` as a path on this site (an absolute URL must start with `host_url`), or None.

    "//evil.example/x" and "/\\evil" are refused: browsers read both as another host.
    """
    if not target:
        return None
    if host_url and target.startswith(host_url):
        target = "/" + target[len(host_url) :]
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith(("//", "/\\")):
        return None
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in drop_params])
    return urlunsplit(("", "", parts.path, query, ""))
