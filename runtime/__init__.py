"""Process wiring shared by the web app and the RQ worker: services, clock, logging, metrics, health."""
