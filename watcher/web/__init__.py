"""The read-only web view: pages, a JSON API and metrics over the state database.

``app`` routes and guards requests, ``pages`` says what each page shows,
``queries`` holds every read of the database, ``timeline`` lays out the
charts, ``metrics`` serves ``/metrics`` and ``server`` runs it all with uvicorn.
It reads the store and the facts and alerts stages; the daemon and the CLI
start it.
"""
