"""HQ's logic: ingest, summaries, catalogue, stores and users, transfers. Functions take a
SQLAlchemy session and the time from their caller; ``periods`` is pure."""
