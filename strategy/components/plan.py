"""The indicator plan of a template: which indicator series its components read, and warm-up.

Identical requests from different components (two signals on SMA(20)) share one series.
The plan computes those series either in batch over whole arrays (backtester) or as
streams fed one closed candle at a time (evaluator); the indicator package guarantees both
forms give the same numbers.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from strategy.components.base import ComponentType, Need
from strategy.components.catalogue import COMPONENTS
from strategy.indicators import INDICATORS, Candles
from strategy.indicators.memory import settle
from strategy.template.model import Component, Template

CANDLE_SERIES = ("open", "high", "low", "close", "volume", "spread_bps")


@dataclass(frozen=True, slots=True)
class Bound:
    """A configured component with its local-label -> global-series-name map."""

    spec: Component
    kind: ComponentType
    labels: dict[str, str]


def _series_name(need: Need) -> str:
    params = ",".join(f"{k}={v}" for k, v in need.params)
    return f"{need.indicator}({params})@{need.source}.{need.output}"


def _stream_key(need: Need) -> tuple[str, tuple, str]:
    return need.indicator, need.params, need.source


class Plan:
    """Indicator needs of every signal, filter and exit of a template."""

    def __init__(self, template: Template) -> None:
        self.needs: dict[str, Need] = {}

        def bind(spec: Component) -> Bound:
            kind = COMPONENTS[spec.type]
            labels = {}
            for need in kind.needs(spec.params):
                name = _series_name(need)
                self.needs.setdefault(name, need)
                labels[need.label] = name
            return Bound(spec, kind, labels)

        self.signals = tuple(bind(c) for c in template.signals)
        self.filters = tuple(bind(c) for c in template.filters)
        self.exits = tuple(bind(c) for c in template.exits)
        bound = (*self.signals, *self.filters, *self.exits)
        self.history = max((b.kind.history for b in bound), default=0)
        lookback = max(
            (INDICATORS[n.indicator].lookback(dict(n.params)) for n in self.needs.values()),
            default=0,
        )
        # closed candles needed before a decision: the warmup-th candle (index warmup - 1)
        # is the first with every indicator value (and its history) available
        self.warmup = lookback + self.history + 1
        # candles past ``warmup`` until every indicator has forgotten where it started
        # (``strategy.indicators.memory``): warming on ``warmup + settle`` candles gives the
        # decisions of a run that started long before (restart and hot-swap parity)
        self.settle = max(
            (
                settle(n.indicator, INDICATORS[n.indicator].resolve(dict(n.params)))
                for n in self.needs.values()
            ),
            default=0,
        )

    def batch(
        self, candles: Candles, cache: dict[tuple, dict[str, np.ndarray]] | None = None
    ) -> dict[str, np.ndarray]:
        """Every needed indicator series over the whole candle history.

        ``cache`` (optional) holds series already computed *for these same candles*, keyed by
        indicator, parameters and source; new ones are added to it.  A parameter search passes
        one per candle set so that trials needing the same indicator compute it once.
        """
        out: dict[str, np.ndarray] = {}
        done = {} if cache is None else cache
        for name, need in self.needs.items():
            key = _stream_key(need)
            if key not in done:
                spec = INDICATORS[need.indicator]
                done[key] = spec.batch(_source(candles, need.source), dict(need.params))
            out[name] = done[key][need.output]
        return out

    def streams(self) -> StreamSet:
        return StreamSet(self.needs)


class StreamSet:
    """Streaming state for a plan: one stream per distinct (indicator, params, source)."""

    def __init__(self, needs: dict[str, Need]) -> None:
        self._streams: dict[tuple, tuple] = {}
        self._outputs: list[tuple[str, tuple, int]] = []
        for name, need in needs.items():
            key = _stream_key(need)
            spec = INDICATORS[need.indicator]
            if key not in self._streams:
                self._streams[key] = (spec.stream(dict(need.params)), need.source)
            self._outputs.append((name, key, spec.outputs.index(need.output)))

    def update(
        self, t: int, o: float, h: float, lo: float, c: float, v: float
    ) -> Iterator[tuple[str, float]]:
        """Feed one closed candle; yield (series name, new value) for every needed series."""
        values = {}
        for key, (stream, source) in self._streams.items():
            if source == "close":
                values[key] = stream.update(o, h, lo, c, v, t)
            else:
                values[key] = stream.update(v, v, v, v, v, t)
        for name, key, index in self._outputs:
            yield name, values[key][index]


def _source(candles: Candles, source: str) -> Candles:
    if source == "close":
        return candles
    col = getattr(candles, source)
    return Candles(candles.open_time_ms, col, col, col, col, col)
