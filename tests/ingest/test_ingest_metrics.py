"""The metrics exposition (prometheus_client): names, values and label values
that need escaping survive a round trip through Prometheus' own parser."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from ingest.batch import BatchResult
from ingest.metrics import IngestStats


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for fam in text_string_to_metric_families(text)
        for s in fam.samples
    }


def test_exposition_round_trips_with_escaped_labels() -> None:
    stats = IngestStats()
    stats.received = 7
    stats.totals.add(
        BatchResult(accepted=4, rejected=2, ignored=1, reasons={'bad"reason\\x': 2})
    )
    nasty = 'dev"with\\backslash\nand newline'
    stats.device_last_seen[nasty] = 1700000000.25
    samples = _samples(stats.prometheus())
    assert samples[("occupancy_ingest_messages_received_total", ())] == 7
    assert samples[("occupancy_ingest_messages_accepted_total", ())] == 4
    assert samples[("occupancy_ingest_messages_in_flight", ())] == 0
    key = ("occupancy_ingest_messages_rejected_total", (("reason", 'bad"reason\\x'),))
    assert samples[key] == 2
    seen = ("occupancy_ingest_device_last_seen_timestamp_seconds", (("device", nasty),))
    assert samples[seen] == 1700000000.25


def test_no_rejections_still_exposes_the_family() -> None:
    samples = _samples(IngestStats().prometheus())
    assert (
        samples[("occupancy_ingest_messages_rejected_total", (("reason", "none"),))]
        == 0
    )
