"""Production web server settings: `gunicorn -c gunicorn.conf.py 'app:create_app()'`."""

import multiprocessing
import os

from config import load_settings_or_exit

# Refuse to start, in one line, before any worker boots: a worker failing in the app factory would only print
# a traceback and be restarted. The web app needs the softphone's API key too (web=True).
load_settings_or_exit(web=True)

# GUNICORN_ROLE=live: the second gunicorn that serves only the live pages' event streams (/console/events, see
# console/live.py). Each open desk or wallboard holds one thread for as long as it is open, so they get a process
# of their own with many cheap threads, and can never take a thread Twilio's webhooks need from the web gunicorn.
LIVE = os.environ.get("GUNICORN_ROLE", "web") == "live"

bind = f"0.0.0.0:{os.environ.get('PORT', '8001' if LIVE else '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", 2 if LIVE else multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("WEB_THREADS", "250" if LIVE else "4"))
worker_class = "gthread"
# Twilio gives a webhook 15 s before playing "application error"; never let a worker hang longer than that.
timeout = 15
graceful_timeout = 20
keepalive = 5
accesslog = "-"
# The default access log prints the query string, which never carries personal data in our routes.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(L)ss'


def child_exit(server, worker):  # noqa: ARG001 - gunicorn hook signature
    """Tidy prometheus multiprocess files of a dead worker."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
