"""Sale ingest: the decision core (no broker) that the MQTT adapter in edge.bus feeds."""

from __future__ import annotations

from edge.ingest.core import Decision, Inbound, IngestCore, Outcome, in_process_edge

__all__ = ["Decision", "Inbound", "IngestCore", "Outcome", "in_process_edge"]
