"""The service navigation of each role: the pages a signed-in person works in, nothing else.

Roles are exclusive (``backend.models.ROLES``), so each sees one short list; the current page's
item is marked active (``aria-current``). Paths, not endpoints: the web chat lives in ``bot``, which
``backend`` never imports.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from backend.i18n import N_
from backend.i18n import gettext as _


class Item(NamedTuple):
    href: str
    text: str
    """An English msgid, translated when shown."""
    prefixes: tuple[str, ...]
    """The item is active on every path under these."""


WEB_CHAT = Item("/chat", N_("Web chat"), ("/chat",))
DECISIONS = Item("/casework/", N_("Decision queue"), ("/casework/cases/",))
REVIEWS = Item("/casework/review", N_("Review queue"), ("/casework/review", "/casework/cases/"))
STATISTICS = Item("/casework/stats", N_("Statistics"), ("/casework/stats",))
USERS = Item("/admin/users", N_("Users"), ("/admin/users",))
RESPONDERS = Item("/admin/responders", N_("Responder numbers"), ("/admin/responders",))
TOKENS = Item("/admin/tokens", N_("API tokens"), ("/admin/tokens",))
AUDIT = Item("/admin/audit", N_("Audit trail"), ("/admin/audit",))

BY_ROLE: dict[str, tuple[Item, ...]] = {
    "operator": (WEB_CHAT,),
    "caseworker": (DECISIONS,),
    "panel": (REVIEWS,),
    "analyst": (STATISTICS,),
    "admin": (USERS, RESPONDERS, TOKENS, AUDIT, STATISTICS),
}
"""Each role's pages, in the order they are used (responders use the API and SMS: no pages)."""


def items_for(role: str | None, path: str) -> list[dict[str, Any]]:
    """The GOV.UK service navigation's ``navigation`` items for ``role`` on ``path``."""
    items = []
    for item in BY_ROLE.get(role or "", ()):
        active = path == item.href or path.startswith(item.prefixes)
        items.append({"href": item.href, "text": _(item.text), "active": active})
    return items
