"""The casework backend: models, intake, audit, field encryption, auth and the working-day calendar.

Public entry points: ``backend.app.create_app`` (the casework service alone),
``backend.app.init_backend`` (wire the backend into another Flask app, e.g. ``bot.app``) and
``backend.intake.submit`` (the only door through which a referral enters).

``backend`` never imports ``bot``, and of ``flows`` only the published ``flows.schema`` (plus the
reference lists of ``flows.lookups`` for registration checks).
"""
