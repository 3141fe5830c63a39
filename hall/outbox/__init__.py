"""Messages to citizens that must not be lost nor hold anything up: written first, sent after.

A change that wants a message sent (a ticket's turn is near; later, a reply
to WeChat or email) writes it to the outbox in its own transaction. A
background worker sends it through the configured sender and retries with
backoff when the gateway fails, so a slow or broken gateway never blocks the
queue and nothing is forgotten across a restart.
"""
