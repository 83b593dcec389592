"""The supervisor console's landing page: what a supervisor can open, from the navigation's list of pages."""

from __future__ import annotations

from flask import redirect, url_for
from flask.typing import ResponseReturnValue

from console.auth import supervisor_required
from console.supervisor import supervisor_bp


@supervisor_bp.get("/")
@supervisor_required
def index() -> ResponseReturnValue:
    """/console/supervisor/ opens the console home, which lists the supervisor's pages."""
    return redirect(url_for("console.home"))
