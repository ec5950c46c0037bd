"""Actuals posted to ``POST /revenue/track``: the body, and the CSV file and mapping it
becomes so that ``sopfin import`` reads it like any other source."""

import csv
from pathlib import Path

from pydantic import BaseModel, Field


class ActualLine(BaseModel):
    date: str
    item: str
    units: float | None = None
    revenue: float | None = None
    cogs: float | None = None


class TrackRequest(BaseModel):
    lines: list[ActualLine] = Field(min_length=1, max_length=100_000)
    families: dict[str, str] | None = None  # item -> family; default: the item is the family
    source: str = "api"


def safe_name(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)[:60] or "api"


def actuals_csv(path: Path, body: TrackRequest) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["date", "item", "units", "revenue", "cogs"])
        for line in body.lines:
            w.writerow([line.date, line.item, *("" if v is None else repr(float(v))
                                                for v in (line.units, line.revenue,
                                                          line.cogs))])


def actuals_mapping(body: TrackRequest) -> str:
    measures = [m for m in ("units", "revenue", "cogs")
                if any(getattr(line, m) is not None for line in body.lines)]
    text = ('name = "posted actuals"\n[columns]\ndate = "date"\nitem = "item"\n[values]\n'
            + "".join(f'{m} = "{m}"\n' for m in measures))
    if body.families:
        text += "[families.map]\n" + "".join(
            f"{_toml_str(k)} = {_toml_str(v)}\n" for k, v in body.families.items())
    return text


def _toml_str(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + "".join(ch if ch >= " " else f"\\u{ord(ch):04x}" for ch in escaped) + '"'
