"""The static analysis on cases the golden fixtures do not show: dates, texts, `not` cells,
missing values, and the limits of what it claims."""

from __future__ import annotations

from engine.pipeline import check_text

SCHEMA = '''ruleset lint
facts c
  opened: date
  income: money optional
  channel: text
  segment: one of "retail", "micro", "sme"
  score: integer
end
reasons
  R1 "One"
end
outputs
  out: integer default 0
end
'''


def findings(body: str) -> list[tuple[str, str]]:
    result = check_text(SCHEMA + body, "lint.rules")
    return [(d.code, d.message) for d in result.diagnostics if d.code[:2] in ("E6", "W2")]


USE = "rule USE when t > 0 then set out = 1 reason R1 end\n"


def test_date_columns_have_day_witnesses() -> None:
    assert findings('''
    table t
      | c.opened                  | t |
      | < 2026-01-01              | 1 |
      | [2026-01-01..2026-06-30]  | 2 |
      | > 2026-07-01              | 3 |
    end
    ''' + USE) == [("W203", "table `t` has no row for some inputs: a customer with c.opened "
                            "2026-07-01 matches no row, so the table is missing")]


def test_text_columns_are_open_ended() -> None:
    assert findings('''
    table t
      | c.channel        | t |
      | "app", "web"     | 1 |
      | not "app", "web" | 2 |
    end
    ''' + USE) == []
    assert findings('''
    table t
      | c.channel    | t |
      | "app"        | 1 |
    end
    ''' + USE) == [("W203", 'table `t` has no row for some inputs: a customer with c.channel '
                            '"other" matches no row, so the table is missing')]


def test_optional_columns_can_be_missing() -> None:
    assert findings('''
    table t
      | c.income   | t |
      | >= 0       | 1 |
      | < 0        | 2 |
    end
    ''' + USE) == [("W203", "table `t` has no row for some inputs: a customer with c.income "
                            "missing matches no row, so the table is missing")]
    assert findings('''
    table t
      | c.income   | t |
      | >= 0       | 1 |
      | < 0        | 2 |
      | missing    | 3 |
    end
    ''' + USE) == []


def test_non_constant_cells_are_not_analysed() -> None:
    assert findings('''
    table t
      | c.score        | t |
      | >= c.score     | 1 |
      | >= 700         | 2 |
    end
    ''' + USE) == []


def test_conditions_with_not_in_and_between() -> None:
    assert findings('''
    rule A when c.segment not in ["retail", "micro"] and c.segment != "sme" then reason R1 end
    rule B when not (c.score between 0 and 1000) and c.score = 500 then reason R1 end
    rule C when c.segment in ["retail"] and c.score between 300 and 400 then reason R1 end
    ''') == [("W204", "the condition of rule `A` can never be true"),
             ("W204", "the condition of rule `B` can never be true")]


def test_conditions_not_understood_are_never_guessed() -> None:
    # Impossible in fact (score > 1000 and < 900), but `c.score * 2` is not a plain comparison:
    # the analysis does not claim what it cannot show.
    result = check_text(SCHEMA + "rule A when c.score * 2 > 2000 and c.score < 900 then "
                                 "reason R1 end\n", "lint.rules")
    assert not result.has_errors
    assert [d.code for d in result.diagnostics if d.code[:2] in ("E6", "W2")] == []


def test_a_names_skeleton_for_ascii_agrees_with_the_confusables_table() -> None:
    """The ASCII shortcut of the look-alike lint gives what the whole table gives."""
    import string

    from engine.lint import names

    table = names._lookalikes()
    for character in string.ascii_letters + string.digits + "_":  # what names are made of
        assert names.skeleton(character) == table.get(character, character), character


def test_a_table_with_several_results_is_analysed_on_its_input_cells() -> None:
    body = '''
    table t
      | c.segment | c.score    || rate | months |
      | "retail"  | >= 700     || 3%   | 36     |
      | "retail"  | [600..750) || 5%   | 24     |
      | "micro"   | -          || 7%   | 12     |
    end
    rule USE when t.months > 12 then set out = 1 reason R1 end
    '''
    assert findings(body) == [
        ("W203", 'table `t` has no row for some inputs: a customer with c.segment "sme" and '
                 "c.score 0 matches no row, so the table is missing"),
        ("E601", 'rows 1 and 2 of table `t` overlap: a customer with c.segment "retail" and '
                 "c.score 700 matches both")]
    first = body.replace("table t\n", "table t hit first\n").replace(
        '"retail"  | [600..750)', '"retail"  | [700..750)')
    assert findings(first) == [
        ("W203", 'table `t` has no row for some inputs: a customer with c.segment "sme" and '
                 "c.score 0 matches no row, so the table is missing"),
        ("W202", "row 2 of table `t` can never match: the rows above it take every customer it "
                 "would match")]
