"""An API's /metrics read into samples a test or the bench can look up.

`parse_metrics` keys each sample by its full name (`..._total`, `..._bucket`, `..._count`)
and its sorted labels; a multi-worker API labels its gauges with the worker's `pid`.
"""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

Labels = tuple[tuple[str, str], ...]
Samples = dict[tuple[str, Labels], float]


def parse_metrics(text: str) -> Samples:
    """{(sample name, sorted (label, value) pairs): value} of a Prometheus text exposition."""
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def scrape(url: str, timeout: float = 10.0) -> Samples:
    """The samples of `<url>/metrics` (`url` is the API's base URL)."""
    response = httpx.get(f"{url.rstrip('/')}/metrics", timeout=timeout)
    response.raise_for_status()
    return parse_metrics(response.text)


def value(samples: Samples, name: str, **labels: str) -> float | None:
    """The sample `name` with exactly `labels`, or None when there is none."""
    return samples.get((name, tuple(sorted(labels.items()))))


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum of the samples `name` whose labels include `labels` (0 when there are none)."""
    wanted = labels.items()
    return sum(
        found
        for (sample, pairs), found in samples.items()
        if sample == name and wanted <= dict(pairs).items()
    )


def label_values(samples: Samples, name: str, label: str) -> set[str]:
    """The values `label` takes over the samples `name`: with `label="pid"` on a gauge of a
    multi-worker API, the pids of its live workers."""
    return {
        dict(pairs)[label]
        for (sample, pairs), _ in samples.items()
        if sample == name and label in dict(pairs)
    }
