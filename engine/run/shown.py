"""Values as a risk officer reads them, in every text Tenet writes: traces, why-not answers,
examples' failures (15,000.50, "increase", true, missing)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from engine.run.runtime import CONTEXT, normalize
from engine.syntax.source import escape_unprintable
from engine.syntax.unparse import literal_text

_MICRO = Decimal("0.000001")


def show(value: Any) -> str:
    """A value as a risk officer reads it: 15,000.50, "increase", true, missing."""
    value = normalize(value)
    if value is None:
        return "missing"
    if isinstance(value, Decimal):
        if value and not -7 < value.adjusted() < 34:  # too large or too fine to write out
            return str(value)
        if value.as_tuple().exponent < -6:  # long fractions are shown to 6 places
            return f"{value.quantize(_MICRO, None, CONTEXT):,}…"
        return f"{value:,}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(show(item) for item in value) + "]"
    if isinstance(value, dict):
        if "name" in value:  # an offer
            extras = [f"{k} {show(v)}" for k, v in value.items() if k != "name"]
            return value["name"] + (f" ({', '.join(extras)})" if extras else "")
        return "{" + ", ".join(f"{k}: {show(v)}" for k, v in value.items()) + "}"
    if isinstance(value, str):  # facts' text may hold terminal escapes: never sent raw
        return escape_unprintable(literal_text(value))
    if isinstance(value, bool | datetime.date):
        return literal_text(value)
    return escape_unprintable(str(value))


def percentage(value: Decimal) -> str:
    shown = CONTEXT.multiply(value, 100).quantize(Decimal("0.1"), None, CONTEXT)
    return f"{shown}%"
