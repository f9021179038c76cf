"""``/metrics`` read as Prometheus samples, and how much a sample grew between two reads."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


async def scrape(client) -> dict[tuple[str, frozenset], float]:
    """``/metrics`` as {(sample name, labels): value}."""
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def grown(before, after, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)
