"""The supervisor's console: the live wallboard, library operations, advisers and the rota, users, callbacks
reports with charts, and the audit trail. One blueprint for the audience; one module per page family registers its views on it,
templates beside (templates/supervisor/).

Every view is `supervisor_required` (supervisors and admins; advisers get 403), parses input with
console.inputs-style field errors (400 with an error summary, never a 500), calls a service function that owns
the transaction and records the change with models.audit.record_change.
"""

from __future__ import annotations

from flask import Blueprint

supervisor_bp = Blueprint(
    "supervisor", __name__, url_prefix="/console/supervisor", template_folder="templates"
)

# Each page family adds its views to supervisor_bp when imported (one line per module below).
from console.supervisor import advisers as advisers  # noqa: E402,F401
from console.supervisor import audit as audit  # noqa: E402,F401
from console.supervisor import callbacks as callbacks  # noqa: E402,F401
from console.supervisor import libraries as libraries  # noqa: E402,F401
from console.supervisor import pages as pages  # noqa: E402,F401
from console.supervisor import reports as reports  # noqa: E402,F401
from console.supervisor import rota as rota  # noqa: E402,F401
from console.supervisor import users as users  # noqa: E402,F401
from console.supervisor import wallboard as wallboard  # noqa: E402,F401
