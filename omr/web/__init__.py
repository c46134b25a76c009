"""The review desk: a local web app over one session's output folder (``omr serve OUT``).

The pages call :mod:`omr.workflow`, the functions behind the ``omr`` commands:
:mod:`omr.web.app` builds the app and its guards (:mod:`omr.web.security`),
:mod:`omr.web.routes` holds the pages, :mod:`omr.web.data` keeps the session's
state between requests, :mod:`omr.web.text` every string in Turkish and English.
"""

from __future__ import annotations
