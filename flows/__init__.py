"""The referral dialogue as pure data and functions: no HTTP, no database, no Twilio.

Public interface: ``flows.dialogue`` (start, handle, submitted), ``flows.schema`` (the payload's
JSON Schema), ``flows.state.DialogueState`` (what the channels persist between messages).
"""
