"""The outbound half: messages the service sends on its own (DESIGN §10).

``models`` (the outbox and its companions), ``outbox`` (writing messages in the transaction of
the event that causes them), ``messages`` (their translated bodies, no personal data to anyone but
the person), ``providers`` (Twilio SMS, GOV.UK Notify email), ``worker`` (``nrm worker``),
``information`` (requests for information), ``commands`` (referrers' SMS commands), ``pages``
(asking, answering, the print queue, Twilio's status callback). Wired by :func:`init_outbound`.
"""
