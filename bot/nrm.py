"""The ``nrm`` console script: start without the garbage collector, then run ``bot.cli.main``.

Starting a command imports some 700 modules and builds the app: about 100,000 objects that live
as long as the process, and next to no garbage. The collector's ~250 passes over them while a
command starts found nothing and cost a tenth of the start's CPU (measured: 0.15 s of 1.45 s for
``nrm serve``). So the collector is off until the command has its app (:func:`started`, called by
``bot.cli``); the start-up objects are then frozen (``gc.freeze``: never scanned again, which also
leaves ``nrm serve``'s preloaded app shared with gunicorn's forked workers rather than copied when
a worker's collector touches it: the recipe of the ``gc`` documentation) and collection resumes.
"""

from __future__ import annotations

import gc


def main() -> None:
    """``nrm``: ``bot.cli.main``, imported and started with the collector off."""
    gc.disable()
    from bot.cli import main as nrm

    nrm()


def started() -> None:
    """The command has its app: freeze what start-up made and collect again (only if :func:`main`
    turned the collector off; ``bot.cli`` used as a library keeps the collector as it was)."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()
