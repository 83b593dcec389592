"""The front page at `/`: where someone who opened the service's address finds the console and the simulator."""

from __future__ import annotations

from flask import Blueprint, render_template

from runtime.web import services

front_bp = Blueprint("front", __name__, template_folder="templates")


@front_bp.get("/")
def front_page() -> str:
    """Link the console sign-in, and the phone simulator when simulator mode serves it."""
    return render_template("console/front.html", simulator_enabled=services().settings.simulator_enabled)
