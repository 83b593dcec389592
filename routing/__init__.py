"""Routing: match waiting residents to advisers at the library hubs.

`engine` (pure matching, strategies), `widening` (stages as data), `ewt` (honest wait ranges) import no
framework or I/O library; `store` is the RoutingStore protocol with an in-memory fake, and `redis_store` the
shared Redis implementation whose assignment step is one atomic Lua script.
"""
