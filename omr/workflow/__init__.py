"""What people decide after the read: review decisions, key versions, objections, audit.

Everything here works on the session store's append-only records, never on
pixels: a decision sits on top of the read it corrects (the read is kept), a
key change is a new key version, and every act is one line of the audit log
(who, when, the command, before -> after, why). The ``omr`` command and the
review desk call the same functions (:mod:`omr.workflow.desk`).
"""

from __future__ import annotations
