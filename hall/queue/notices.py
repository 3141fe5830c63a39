""" "Your turn is near" (即将叫到): a message to citizens who left a phone number.

When the queue of a section moves forward (a ticket is called, or one waiting
cancels), every ticket that now has `near_ahead` or fewer people before it
and a phone number gets one message through the outbox: once per ticket,
whatever happens next.
"""

from __future__ import annotations

from ..config import Config
from ..outbox import store as outbox
from ..storage import Tx
from . import store


def queue_moved(tx: Tx, config: Config, day: str, section: str) -> None:
    limit = config.notify.near_ahead
    if limit <= 0:
        return
    name = config.section(section).name
    for ahead, row in enumerate(store.queue_front(tx, day, section, limit + 1)):
        if not row["phone"]:
            continue
        text = config.notify.near_text.format(hall=config.name, number=row["number"], section=name, ahead=ahead)
        outbox.enqueue(tx, "turn_near", f"ticket:{row['id']}", "sms", row["phone"], {"text": text})
