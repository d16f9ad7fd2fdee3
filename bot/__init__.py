"""Channels (SMS, web chat, terminal) and the engine that runs the referral dialogue for them."""
