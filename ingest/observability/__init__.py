"""Metrics, the health/metrics HTTP endpoint and structured logging for the daemon."""

from ingest.observability.http import HealthServer
from ingest.observability.logs import configure_logging
from ingest.observability.metrics import Metrics

__all__ = ["HealthServer", "Metrics", "configure_logging"]
