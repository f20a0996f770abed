"""Article URL canonicalisation: tracking parameters out, fragments out, host lower-cased.

courlan's ``clean_url`` covers the common trackers; we add the ones news sites use that it
does not know (and keep our list in one place so entry keys stay stable across versions).
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_TRACKING_PREFIXES = ("utm_", "mc_", "pk_", "ga_", "at_", "_hs")
_TRACKING_NAMES = {
    "fbclid", "gclid", "dclid", "msclkid", "yclid", "igshid", "mkt_tok", "cmpid", "cmp", "ocid",
    "ref", "ref_src", "smid", "smtyp", "rss", "rssfeed", "taid", "ito", "xtor", "soc_src", "soc_trk",
    "partner", "src", "feature", "__twitter_impression", "s_cid", "wt.mc_id", "cid",
}


def canonical_article_url(url: str) -> str:
    try:
        parts = urlsplit(url.strip())
        port = parts.port  # raises on a port out of range or not a number
    except ValueError:
        return url.strip()
    if parts.scheme not in ("http", "https"):
        return url.strip()
    query = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not key.lower().startswith(_TRACKING_PREFIXES) and key.lower() not in _TRACKING_NAMES
    ]
    host = (parts.hostname or "").lower()
    default_port = {"http": 80, "https": 443}[parts.scheme]
    if port and port != default_port:
        host = f"{host}:{port}"
    return urlunsplit((parts.scheme.lower(), host, parts.path or "/", urlencode(query), ""))
