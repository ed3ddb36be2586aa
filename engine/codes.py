"""The catalogue of diagnostic codes: each code's severity, a short title and what it means.

Codes are stable: tools and CI configurations refer to them. E1xx are syntax errors, E2xx
structure (header, includes, duplicates), E3xx names, E4xx types and units, E5xx semantics, and
W1xx warnings about unused declarations, E6xx and W2xx findings of the static analysis (see
``engine.lint``), which `# tenet: ignore[CODE]` on the finding's line suppresses. V0xx are the
results of `tenet verify` (``engine.verify``).
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.diagnostics import Severity


@dataclass(frozen=True, slots=True)
class CodeInfo:
    code: str
    severity: Severity
    title: str
    explanation: str
    example: str = ""  # a ruleset fragment that triggers it


_E, _W, _I = Severity.ERROR, Severity.WARNING, Severity.INFO

CODES: dict[str, CodeInfo] = {info.code: info for info in (
    CodeInfo("I001", _I, "analysis incomplete",
             "The static analysis of a table, a rule or a `combine unique` output stopped at its "
             "work budget (conditions with many `or` terms multiply the cases to compare), so "
             "findings about it (E601, W202, W203, W205, W206) may be missing. Nothing is wrong "
             "with the ruleset; `tenet check` stays fast whatever it is given."),
    CodeInfo("E101", _E, "syntax error",
             "The text does not follow the grammar of the rule language at this point."),
    CodeInfo("E102", _E, "block not closed",
             "A `rule`, `facts`, `type`, `table`, `offer`, `budget`, `example`, `property`, "
             "`outputs` or `reasons` block must be closed with `end` before the next "
             "declaration starts."),
    CodeInfo("E103", _E, "unexpected character",
             "A character that cannot start any word, number, text or symbol of the language, "
             "or a text that is not closed on its line."),
    CodeInfo("E104", _E, "invalid literal",
             "A date that does not exist, a priority that is not a whole number, or an "
             "unknown escape in a text."),
    CodeInfo("E105", _E, "table result is not a value",
             "The last cell of a table row is the table's value when the row matches; it must "
             "be a value or expression, not a test such as `>= 3`."),
    CodeInfo("E106", _E, "expression nested too deeply",
             "An expression nested more than 200 levels deep (parentheses, operators, `not`); "
             "split it into several `let`s."),
    CodeInfo("E107", _E, "ambiguous line break",
             "A vertical tab, form feed, U+0085, U+2028 or U+2029: some editors show a line break "
             "there and the language does not, so a rule after one could be hidden in a comment. "
             "Only `\\n`, `\\r\\n` and `\\r` break lines."),
    CodeInfo("E201", _E, "missing ruleset header",
             "A ruleset file starts with `ruleset NAME` (after comments and includes)."),
    CodeInfo("E202", _E, "misplaced header",
             "`ruleset`, `version` and `effective` appear once each, at the top of the file."),
    CodeInfo("E203", _E, "included file not found",
             "An `include` names a path, relative to the including file, that does not exist."),
    CodeInfo("E204", _E, "include cycle",
             "Files include each other in a circle; the cycle is named."),
    CodeInfo("E205", _E, "header in an included file",
             "An included file shares declarations; only the including ruleset has a header."),
    CodeInfo("E206", _E, "duplicate name",
             "Facts, types, lets, tables, outputs, rules and offers share one namespace; each "
             "name is declared once across the ruleset and its includes."),
    CodeInfo("E207", _E, "duplicate reason code",
             "Each reason code is declared once in the `reasons` catalogue."),
    CodeInfo("E208", _E, "duplicate field",
             "A field is declared, or given in a record, once."),
    CodeInfo("E209", _E, "empty effective window",
             "The `until` date of `effective … until …` must come after the `effective` date."),
    CodeInfo("E210", _E, "reserved name",
             "Keywords cannot name lets, tables, outputs, rules, offers, facts or types, and "
             "`offers` is the name of the implicit offers output."),
    CodeInfo("E211", _E, "file outside the ruleset's folder",
             "A ruleset reads files only inside its root folder: the folder named on the command "
             "line (or the folder of the file named), or `--root`. An absolute include path, a "
             "path that leaves the folder, or a symbolic link that points outside it is refused, "
             "and nothing of the target is shown."),
    CodeInfo("E212", _E, "file cannot be read",
             "A ruleset file or include that is a folder, not a regular file, a symbolic link "
             "loop, unreadable, or larger than the size limit (4 MB; the environment variable "
             "`TENET_MAX_FILE_BYTES` changes it)."),
    CodeInfo("E213", _E, "versions overlap",
             "Two files in one folder declare the same `ruleset NAME` with `effective` windows "
             "that share a day, so a service deciding by the as-of date could not tell which "
             "version decides. End the earlier one the day the next starts (`effective DATE "
             "until DATE`); a challenger belongs in a folder of its own. Rulesets without an "
             "`effective` line are not versions and are not compared; only files checked "
             "together (`tenet check FOLDER`) are."),
    CodeInfo("E301", _E, "unknown name",
             "A name that is not a facts block, let, table, output or aggregate variable."),
    CodeInfo("E302", _E, "unknown field",
             "A field that the record's `facts` or `type` declaration does not have."),
    CodeInfo("E303", _E, "unknown type", "A type name with no `type` declaration."),
    CodeInfo("E304", _E, "unknown reason code",
             "A reason code that the `reasons` catalogue does not declare."),
    CodeInfo("E305", _E, "unknown offer", "An offer with no `offer` declaration."),
    CodeInfo("E306", _E, "unknown output",
             "`set`, `add`, `cap` and `expect` name an output declared in `outputs`."),
    CodeInfo("E307", _E, "unknown function", "A function that is not one of the built-ins."),
    CodeInfo("E308", _E, "unknown facts block",
             "An example's `given` names a facts block that is not declared."),
    CodeInfo("E401", _E, "type mismatch",
             "A value whose type does not fit where it is used."),
    CodeInfo("E402", _E, "money unit mismatch",
             "Money adds to money, is multiplied or divided by numbers, and is compared with "
             "money or literal amounts; mixing it with a non-literal number is an error."),
    CodeInfo("E403", _E, "value not in the list",
             "A text compared with, or assigned to, a `one of` value must be one of its values."),
    CodeInfo("E404", _E, "condition is not a yes/no value",
             "Conditions (`when`, `where`, `requires`, `and`, `or`, `not`, `if`) must be boolean."),
    CodeInfo("E405", _E, "wrong number of arguments",
             "A function called with too few or too many arguments."),
    CodeInfo("E406", _E, "wrong action for the output",
             "`set` proposes a single value; `add` adds to a `collect` or `output order` list."),
    CodeInfo("E407", _E, "policy does not fit the type",
             "`priority` needs a `one of` type, `min`/`max` numbers or dates, `sum` numbers, "
             "`count` an integer, `collect` a list or set, `output order` a list of `one of`."),
    CodeInfo("E408", _E, "wrong number of cells",
             "Every table row has one cell per input column, then the result."),
    CodeInfo("E409", _E, "cell does not fit its column",
             "A table cell compares its column's value with values of the same type."),
    CodeInfo("E410", _E, "table header does not end with the table's name",
             "The last column of a table's header row is the table's own name; a table with "
             "several results names them after `||` instead, each by a plain name."),
    CodeInfo("E411", _E, "not a record", "Only records (facts blocks and types) have fields."),
    CodeInfo("E412", _E, "not a list",
             "Aggregates, `in` and `length` need a list or set."),
    CodeInfo("E413", _E, "values cannot be ordered",
             "`<`, `<=`, `>`, `>=`, `between`, intervals and `min`/`max` need numbers or dates."),
    CodeInfo("E414", _E, "decimal places out of range",
             "`round(x, places)` takes a whole number of places from -20 to 20 (negative "
             "places round to tens, hundreds, …)."),
    CodeInfo("E415", _E, "budget action not allowed",
             "A budget overrides the decisions it cannot afford: its `else` sets outputs and "
             "gives a reason; adding to a list or making an offer there has no meaning."),
    CodeInfo("E416", _E, "division by zero",
             "Dividing by the number 0 always gives missing; it is a typo or a leftover."),
    CodeInfo("E417", _E, "empty interval",
             "A table cell `[low..high)` whose low bound is above its high bound (or equal to it, "
             "unless both ends are closed) matches no value at all."),
    CodeInfo("E418", _E, "result columns do not fit the table",
             "A table with several result columns (`|| rate | term_months |`) has a record for "
             "its value: each column is named once, is a field of the table's declared `type` "
             "(whose required fields all have a column), and `otherwise { … }` names only "
             "result columns.",
             "table terms: loan_terms\n  | customer.segment || rate | term |\n  …\nend"),
    CodeInfo("E501", _E, "dependency cycle",
             "Lets, tables, outputs and rules read each other in a circle, so no evaluation "
             "order exists; the cycle is named."),
    CodeInfo("E502", _E, "partner offer without consent condition",
             "An offer with a `partner` shares data with a third party and must have `requires`."),
    CodeInfo("E503", _E, "example facts do not fit the schema",
             "An example's `given` must give every required field with a value of its type and "
             "no undeclared field, and every facts block must be given."),
    CodeInfo("W209", _W, "condition swallowed by a filter",
             "`where` takes everything to its right: in `any p in c.loans where p.late or c.flag`, "
             "`or c.flag` is part of the filter. An operand of the filter that does not mention "
             "the element was almost always meant for the whole condition; put the aggregate in "
             "parentheses.",
             "rule A when any l in customer.loans where l.dpd > 30 or customer.fraud then …"),
    CodeInfo("W210", _W, "cap bound looks like a typo",
             "A cap on a money output whose bound is a plain number changed the value in most "
             "examples where the rules gave it one (a declined example's 0 does not count), "
             "each time to less than a tenth of what the rules gave: `at most 2` where "
             "`at most 200_000` was meant. (A literal has no unit, so `check` cannot tell "
             "otherwise.)",
             "cap new_limit at most 2 when action = \"increase\" because C01"),
    CodeInfo("W211", _W, "split decision",
             "A rule proposes to two outputs (an action and a limit), and another rule that "
             "proposes only one of them wins it when both fire: the decision then takes the "
             "action from one rule and the limit from the other, such as \"hold\" with a raised "
             "limit. Set the second output in a rule of its own that reads the first "
             "(`when action = \"increase\" then set new_limit = …`); the finding names a customer "
             "for whom both rules fire.",
             "rule HOLD priority 10 when customer.score < 650 then set action = \"hold\" end\n"
             "rule UP when customer.income > 5000 then\n  set action = \"increase\"\n"
             "  set new_limit = customer.limit * 120%\nend"),
    CodeInfo("W212", _W, "adverse default without a reason",
             "An output whose default refuses something (\"decline\", \"decrease\", …; not "
             "\"hold\", which keeps the terms as they are) keeps it when no rule "
             "proposes another value, and when no rule that gives a reason fires either, the "
             "customer is refused with no reason at all, though one is owed. The finding names "
             "such a customer; a rule that gives a reason to everyone the other rules leave out "
             "closes the gap.",
             "outputs\n  decision: one of \"approve\", \"decline\" default \"decline\"\nend\n"
             "rule OK when customer.score >= 700 then set decision = \"approve\" reason A1 end"),
    CodeInfo("W213", _W, "percentage slip",
             "A number that reads as a share (a ratio the ruleset compares with a percentage "
             "elsewhere) held against `0.5%` where 50% was meant, or against a plain number "
             "above 1 (`utilization > 70`), or an amount multiplied by a plain number of 10 or "
             "more (`income * 50`): each is legal and changes decisions a hundredfold. The "
             "finding says what was likely meant.",
             "rule R when customer.debt <= customer.income * 50 then set ok = true end"),
    CodeInfo("W301", _W, "bidirectional control character",
             "A Unicode bidi control (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C) makes "
             "editors and code review show the text around it in another order than Tenet reads "
             "it, so a rule can look different from what it does (the Trojan Source attack). "
             "Right-to-left text needs none of them.",
             "rule A when customer.segment = \"retail\u202e\" then set action = \"hold\" end"),
    CodeInfo("W302", _W, "confusable name",
             "A declared name that mixes scripts (Latin with Cyrillic or Greek) or that looks "
             "like another declared name (`а` Cyrillic and `a` Latin): a reader cannot tell them "
             "apart, so a rule can read a different value than it seems to.",
             "let limit = 100\nlet lіmit = 200   # the second `і` is Cyrillic"),
    CodeInfo("W101", _W, "unused value",
             "A let or table that nothing reads: remove it or use it."),
    CodeInfo("W102", _W, "unused reason code",
             "A reason code that no rule, cap, offer or budget gives."),
    CodeInfo("W103", _W, "unused offer", "An offer that no rule makes."),
    CodeInfo("W104", _W, "output never proposed",
             "An output that no rule proposes to and whose default is a constant: it always "
             "takes that value. An output whose default reads values (a table, a let: a "
             "published decision, as `tenet dmn import` makes them) is not reported."),
    CodeInfo("E601", _E, "table rows overlap",
             "Under `hit unique` (the default) at most one row may match. Two rows that can match "
             "the same customer make that customer's decision fail at run time; the finding "
             "names such a customer.",
             "table factor\n  | customer.score | factor |\n  | >= 700 | 1.2 |\n"
             "  | >= 750 | 1.5 |\nend"),
    CodeInfo("W202", _W, "table row can never match",
             "Under `hit first` the first matching row wins. A row whose every customer is "
             "already taken by the rows above it is dead: its value is never used, which is "
             "usually a row in the wrong order.",
             "table factor hit first\n  | customer.score | factor |\n  | >= 700 | 1.2 |\n"
             "  | >= 750 | 1.5 |\nend"),
    CodeInfo("W203", _W, "table has gaps",
             "A table without `otherwise` is missing for inputs that match no row, and rules "
             "reading it then do not fire. The finding names inputs that match no row.",
             "table factor\n  | customer.score | factor |\n  | >= 750 | 1.5 |\nend"),
    CodeInfo("W204", _W, "condition can never be true",
             "A rule whose comparisons contradict each other never fires: usually a reversed "
             "comparison or a typo in a threshold.",
             "rule R when customer.score > 800 and customer.score < 700 then reason R1 end"),
    CodeInfo("W205", _W, "rule always overridden",
             "Under `combine first` the earlier (or higher-priority) proposal wins. A rule that "
             "only fires when an earlier rule proposing the same outputs fires too never has a "
             "proposal used, and its reasons are never given.",
             "rule A priority 10 when customer.score > 700 then set limit = 2 end\n"
             "rule B when customer.score > 750 then set limit = 3 end"),
    CodeInfo("W206", _W, "possible conflict on a unique output",
             "Two rules that can propose to a `combine unique` output for the same customer make "
             "that customer's decision fail; the finding names such a customer.",
             "rule A when customer.score > 700 then set tier = \"A\" end\n"
             "rule B when customer.score > 650 then set tier = \"B\" end"),
    CodeInfo("W207", _W, "unguarded division",
             "Dividing by a value that can be zero gives a missing value, and every rule that "
             "reads it silently does not fire. Guard the division or make the missing value "
             "deliberate (and say so with `# tenet: ignore[W207]`).",
             "let dti = customer.debt / customer.income"),
    CodeInfo("W208", _W, "adverse action without a reason",
             "A customer whose limit is cut, held or frozen, or who is declined, is owed the "
             "principal reasons; a rule that proposes such an action must give a reason code.",
             "rule CUT when customer.dpd > 60 then set action = \"decrease\" end"),
    CodeInfo("V001", _E, "property violated",
             "`tenet verify` found a customer (facts and an as-of date) for whom the property's "
             "`when` is true and its `expect` is false or missing. The witness was decided by "
             "the engine, and the engine's decision breaks the property.",
             "property P01 when customer.current_dpd > 0 expect action != \"increase\" end"),
    CodeInfo("V002", _E, "property unknown",
             "The solver could not prove or refute the claim: its time limit (`--timeout`) was "
             "reached, or the claim reaches arithmetic it cannot decide exactly (a product of "
             "two facts, rounded). `unknown` is never a pass; simplify the property or raise "
             "the time limit."),
    CodeInfo("V003", _E, "a decision can be a conflict",
             "Some customer's decision is a conflict: two proposals for a `combine unique` "
             "output (or a `hit unique` table), different proposals for `combine any`, or a "
             "fraction for an `integer` output. The witness is such a customer."),
    CodeInfo("V004", _W, "rule partly used",
             "A rule fired, one of its proposals was used and another was overridden: a \"hold\" "
             "that still raises the limit, when a higher rule wins `action` and the rule's "
             "`new_limit` is kept. Suppress with `# tenet: ignore[V004]` on the rule where that "
             "is meant.",
             "rule I01 when customer.score > 700 then set action = \"increase\" "
             "set new_limit = customer.limit * 1.2 end"),
    CodeInfo("V005", _I, "differs from the baseline",
             "With `--baseline`, some customer gets a different value of this output (or "
             "different reasons or offers) from the two rulesets; the witness shows both "
             "decisions side by side."),
    CodeInfo("V007", _E, "the baseline does not fit",
             "`tenet verify --baseline` compares two decisions on the same customers: a property's "
             "`baseline.NAME` must be an output the baseline has, with the same type, and a fact "
             "both rulesets read must have one type in both."),
    CodeInfo("V006", _E, "internal error of the prover",
             "The prover produced a witness that the engine does not decide as the prover said. "
             "This is a bug in Tenet, never in the ruleset: please report it with the witness."),
)}


def codes_markdown() -> str:
    """docs/codes.md: every code of the catalogue, written from it so that it cannot drift."""
    lines = ["# Diagnostic codes", "",
             "Every code `tenet check` can report (`tenet explain CODE` prints the same, with an",
             "example where there is one). E: errors, W: warnings (they fail only `--strict`),",
             "I: notes. Findings of the static analysis (E6xx, W2xx, W3xx, I001) can be suppressed",
             "with `# tenet: ignore[CODE]`; errors of the language cannot.", "",
             "This page is generated from `engine/codes.py` (a test keeps it in step).", "",
             "| code | severity | title | what it means |", "|---|---|---|---|"]
    for code in sorted(CODES, key=lambda c: ("EWIV".index(c[0]), c)):
        info = CODES[code]
        explanation = info.explanation.replace("|", "\\|")
        lines.append(f"| {code} | {info.severity.value} | {info.title} | {explanation} |")
    return "\n".join(lines) + "\n"
