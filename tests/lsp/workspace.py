"""A small workspace for the language server's tests: a ruleset that uses every kind of name,
with an include, so that each answer can be written out exactly."""

from __future__ import annotations

from pathlib import Path

MAIN = '''ruleset limits "Limits"
version "1"
effective 2026-12-01

include "parts/shared.rules"

facts customer "The borrower"
  balance: money "Balance drawn"
  segment: one of "retail", "business"
  loans: list of loan
end

reasons
  R01 "Too much drawn"
  R02 "Welcome"
end

outputs
  action: one of "hold", "raise" combine priority default "hold"
  raise_by: money default 0
end

let drawn = customer.balance + sum of l.drawn_amount for l in customer.loans

rule HIGH "Drawn too much"
  when drawn > 1_000
  then
    set action = "hold"
    reason R01
end

rule LOW "Little drawn"
  when drawn <= 1_000 and customer.segment = "retail"
  then
    set action = "raise"
    set raise_by = 500
    reason R02
end

example "small"
  as of 2026-12-15
  given customer = { balance: 100, segment: "retail", loans: [{ drawn_amount: 50 }] }
  expect action = "raise"
  expect reasons = [R02]
end

property P1 "Nobody who drew too much is raised"
  when drawn > 1_000
  expect action = "hold"
end
'''

SHARED = '''type loan "A loan"
  drawn_amount: money
end
'''


OTHER = '''ruleset other
include "parts/shared.rules"

facts borrower
  credit: loan
end

outputs
  owed: money default 0
end

rule ANY when true then
  set owed = borrower.credit.drawn_amount
end
'''


def make_workspace(folder: Path) -> Path:
    """The workspace folder: main.rules, other.rules (which includes the same shared file)
    and parts/shared.rules."""
    (folder / "parts").mkdir(parents=True, exist_ok=True)
    (folder / "main.rules").write_text(MAIN, encoding="utf-8")
    (folder / "other.rules").write_text(OTHER, encoding="utf-8")
    (folder / "parts" / "shared.rules").write_text(SHARED, encoding="utf-8")
    return folder


def position_of_text(text: str, needle: str, occurrence: int = 0, offset: int = 0
                     ) -> tuple[int, int]:
    """The 0-based line and character of the ``occurrence``-th ``needle`` (plus ``offset``)."""
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(needle, start + 1)
    line = text.count("\n", 0, start)
    return line, start - (text.rfind("\n", 0, start) + 1) + offset
