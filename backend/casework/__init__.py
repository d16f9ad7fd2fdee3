"""Casework pages' helpers that are not views: the referral as the decision maker reads it
(``labels``), the case page's header (``case_header``), panel claims of reviews (``review_claims``)
and the page-language formatting of dates and numbers (``formatting``). The views are
``backend.casework_pages``."""
