"""`tenet diff`: champion against challenger over a book, as text, JSON and an HTML page that a
real headless browser loads and draws."""

from __future__ import annotations

import datetime
import io
import json
import os
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console

import engine
from engine.portfolio.diff import DiffOptions, diff_books, histogram
from engine.report.diff import render_html, render_text
from tests.helpers import FIXTURES, ROOT, assert_golden, invoke
from tests.strategies import facts_strategy

DIFF = FIXTURES / "diff"
CHAMPION = "rulesets/limit_review.rules"
CHALLENGER = "rulesets/challengers/limit_review_2027.rules"
BOOK = "rulesets/facts/book.csv"


@pytest.fixture
def in_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Relative paths in the reports, as a user in the project folder sees them."""
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize("output_format", ["text", "json"])
def test_limit_review_challenger_over_the_demo_book(output_format: str, in_root: None,
                                                    tmp_path: Path) -> None:
    out = tmp_path / f"report.{output_format}"
    # Two worker processes for JSON: the report is the same however the runs are split.
    jobs = "2" if output_format == "json" else "1"
    code, output = invoke("diff", CHAMPION, CHALLENGER, "--facts", BOOK, "--as-of", "2026-12-15",
                          "--id", "customer.customer_id", "--jobs", jobs,
                          "--format", output_format, "--out", str(out))
    assert (code, output) == (0, "")
    suffix = "txt" if output_format == "text" else "json"
    assert_golden(out.read_text(encoding="utf-8"), DIFF / f"limit_review.{suffix}")


def test_the_json_report_adds_up(in_root: None) -> None:
    """What the golden file shows, checked against itself: every row is in one matrix cell,
    the money difference is the two totals' difference, the histogram counts every changed
    customer, and the budget figures are the two runs' own."""
    report = json.loads((DIFF / "limit_review.json").read_text(), parse_float=Decimal)
    action = report["matrices"]["action"]
    assert sum(cell["count"] for cell in action["cells"]) == report["decided_by_both"] == 1000
    changed = {(c["champion"], c["challenger"]): c["count"] for c in action["cells"]
               if c["changed"]}
    assert changed == {("hold", "increase"): 61, ("increase", "hold"): 3}
    money = report["money"]["new_limit"]
    assert money["difference"] == money["challenger_total"] - money["champion_total"]
    assert sum(money["histogram"]["counts"]) == money["up"] + money["down"] == 86
    budgets = report["budgets"]
    assert budgets["champion"]["increase_budget"]["limit"] == 5_000_000
    assert budgets["challenger"]["increase_budget"]["limit"] == 6_000_000
    assert budgets["champion"]["increase_budget"]["overridden"] == 61
    b01 = next(r for r in report["reasons"] if r["code"] == "B01")
    assert (b01["champion"], b01["challenger"], b01["shift"]) == (61, 0, -61)
    assert {(e["champion"], e["challenger"]) for e in report["examples"]} == set(changed)
    assert all(len(cell["examples"]) == 3 for cell in action["cells"] if cell["changed"])


def test_rows_one_schema_refuses_are_counted_and_listed_and_rules_marked_new_or_removed(
        in_root: None, tmp_path: Path) -> None:
    out = tmp_path / "report.txt"
    code, _ = invoke("diff", "tests/fixtures/diff/champion.rules",
                     "tests/fixtures/diff/challenger.rules", "--facts",
                     "tests/fixtures/diff/book.jsonl", "--id", "c.id", "--as-of", "2026-12-01",
                     "--jobs", "1", "--out", str(out))
    assert code == 0
    assert_golden(out.read_text(encoding="utf-8"), DIFF / "schemas_differ.txt")
    report = diff_books(DIFF / "champion.rules", DIFF / "challenger.rules", DIFF / "book.jsonl",
                        DiffOptions(as_of=datetime.date(2026, 12, 1), id_field="c.id"))
    assert (report["rows"], report["decided_by_both"], report["refused_by_both"]) == (9, 6, 1)
    assert [(r["row"], r["id"], r["refused_by"]) for r in report["decided_by_one_only"]["rows"]] \
        == [(6, "F", "challenger"), (8, "H", "challenger")]
    assert {r["rule"]: r["status"] for r in report["rules"]} == {
        "GOLD": "changed", "SILVER": "changed", "LOW": "removed", "PLATINUM": "new",
        "NORTH": "new"}
    matrix = report["matrices"]["tier"]
    assert matrix["champion_values"] == ["gold", "silver", "none"]
    assert matrix["challenger_values"] == ["platinum", "gold", "silver", "none"]


RULESETS = sorted(ROOT.joinpath("rulesets").glob("*.rules"))


@pytest.mark.parametrize("path", RULESETS, ids=lambda p: p.stem)
def test_a_ruleset_diffed_with_itself_changes_nothing(path: Path, tmp_path_factory) -> None:
    ruleset = engine.load(path)
    facts = facts_strategy(ruleset)
    as_of = ruleset.window.start if ruleset.window else datetime.date(2026, 12, 1)
    encode = msgspec.json.Encoder(decimal_format="number").encode

    @settings(deadline=None, max_examples=15,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(st.lists(facts, min_size=1, max_size=15))
    def check(book: list[dict]) -> None:
        book_path = tmp_path_factory.mktemp("diff") / "book.jsonl"
        book_path.write_bytes(b"".join(encode(row) + b"\n" for row in book))
        report = diff_books(path, path, book_path, DiffOptions(as_of=as_of),
                            loaded=(ruleset, ruleset))
        assert report["decided_by_one_only"]["count"] == 0
        assert report["decided_by_both"] + report["refused_by_both"] == len(book)
        for matrix in report["matrices"].values():
            assert not any(cell["changed"] for cell in matrix["cells"])
        for money in report["money"].values():
            assert (money["up"], money["down"], money["difference"]) == (0, 0, 0)
            assert money["histogram"] == {"edges": [], "counts": [], "closed": "left"}
        assert all(reason["shift"] == 0 for reason in report["reasons"])
        assert all(rule["status"] == "same" for rule in report["rules"])
        assert report["budgets"]["champion"] == report["budgets"]["challenger"]
        assert report["examples"] == []

    check()


def test_usage_errors_exit_2_without_a_traceback(in_root: None, tmp_path: Path) -> None:
    code, output = invoke("diff", CHAMPION, CHALLENGER, "--facts", BOOK, "--format", "html")
    assert code == 2 and "--format html needs --out FILE.html" in output
    code, output = invoke("diff", CHAMPION, CHALLENGER, "--facts", "rulesets/facts/book.txt")
    assert code == 2 and "does not exist" in output
    code, output = invoke("diff", CHAMPION, CHALLENGER, "--facts", BOOK, "--as-of", "2025-01-01")
    assert code == 2
    assert "ruleset `limit_review` is effective from 2026-12-01; the as-of date 2025-01-01 is " \
        "outside that window" in output
    broken = tmp_path / "broken.rules"
    broken.write_text("ruleset broken\nrule R when nowhere > 1 then reason X end\n")
    code, output = invoke("diff", CHAMPION, str(broken), "--facts", BOOK)
    assert code == 2 and "E301 [error] unknown name `nowhere`" in output
    assert "Traceback" not in output


# ------------------------------------------------------------------------------- the browser


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: .ci/run installs Debian's chromium package")
        pytest.skip("no chromium on this machine (apt-get install chromium)")
    return found


# Added to a copy of the page for the test only: the report itself has no script. After the
# load event it writes what the browser saw into the DOM that --dump-dom prints.
PROBE = """<script>
const problems = [];
window.addEventListener("error", event => problems.push(String(event.message || event.type)),
                        true);
window.addEventListener("load", () => {
  const images = [...document.images].map(image => [image.complete, image.naturalWidth,
                                                    image.naturalHeight]);
  const fetched = performance.getEntriesByType("resource").map(entry => entry.name);
  const headline = (document.querySelector("p.headline") || {}).innerText || "";
  const headers = [...document.querySelectorAll("th")].map(cell => cell.innerText);
  const probe = document.createElement("pre");
  probe.id = "probe";
  probe.textContent = JSON.stringify({images, fetched, problems, headline, headers});
  document.body.append(probe);
});
</script>"""


def test_the_html_report_loads_offline_and_draws_its_charts(in_root: None,
                                                            tmp_path: Path) -> None:
    browser = chromium()
    page = tmp_path / "report.html"
    code, output = invoke("diff", CHAMPION, CHALLENGER, "--facts", BOOK, "--as-of", "2026-12-15",
                          "--id", "customer.customer_id", "--jobs", "1", "--format", "html",
                          "--out", str(page))
    assert (code, output) == (0, "")
    html = page.read_text(encoding="utf-8")
    assert "http://" not in html and "https://" not in html and "<script" not in html
    assert html.count("<img ") == 2  # the heat map and the histogram

    probed = tmp_path / "probed.html"
    probed.write_text(html.replace("<head>", "<head>" + PROBE, 1), encoding="utf-8")
    flags = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=5000"]
    dom = subprocess.run([*flags, "--dump-dom", probed.as_uri()], capture_output=True,
                         text=True, timeout=120, check=True).stdout
    seen = json.loads(dom.split('<pre id="probe">', 1)[1].split("</pre>", 1)[0]
                      .replace("&quot;", '"').replace("&amp;", "&"))
    assert seen["problems"] == [] and seen["fetched"] == []
    assert seen["headline"].startswith("Of 1,000 customers, 1,000 were decided by both")
    assert {"text", "label"} <= set(seen["headers"])  # reasons' texts, rules' labels
    assert len(seen["images"]) == 2
    assert all(complete and width > 300 and height > 200
               for complete, width, height in seen["images"]), seen["images"]

    screenshot = ROOT / "build" / "diff-report.png"
    screenshot.parent.mkdir(exist_ok=True)
    screenshot.unlink(missing_ok=True)
    subprocess.run([*flags, f"--screenshot={screenshot}", "--window-size=1200,1600",
                    page.as_uri()], capture_output=True, timeout=120, check=True)
    assert_drawn(screenshot)


def assert_drawn(screenshot: Path) -> None:
    """The screenshot shows the charts: plenty of the heat map's and histogram's colours."""
    from matplotlib.image import imread

    pixels = imread(screenshot)
    height, width = pixels.shape[:2]
    assert (width, height) == (1200, 1600)
    coloured = (abs(pixels[:, :, 0] - pixels[:, :, 2]) > 0.3).sum()
    assert coloured > 0.02 * width * height, coloured
    # The changed cells keep the heat map's strongest colour (dark red), not the diagonal.
    dark_red = ((pixels[:, :, 0] > 0.4) & (pixels[:, :, 1] < 0.15) & (pixels[:, :, 2] < 0.2)).sum()
    assert dark_red > 5_000, dark_red


def test_the_html_report_escapes_what_comes_from_the_book(tmp_path: Path) -> None:
    """A refused row's problem quotes the facts; in the page it is text, never markup."""
    book = tmp_path / "book.jsonl"
    book.write_text('{"c": {"id": "X", "score": 700, "region": "<script>alert(1)</script>"}}\n')
    report = diff_books(DIFF / "champion.rules", DIFF / "challenger.rules", book,
                        DiffOptions(as_of=datetime.date(2026, 12, 1), id_field="c.id"))
    assert report["decided_by_one_only"]["count"] == 1
    page = render_html(report)
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def _many_values_rulesets(tmp_path: Path, values: list[str]) -> tuple[Path, Path]:
    """Two rulesets that copy a `one of` fact into their output, except one value each, which
    gets the default (the first value): the champion's last value, the challenger's first."""
    quoted = ", ".join(json.dumps(value) for value in values)
    text = (f"ruleset many\neffective 2026-01-01\n\nfacts c\n  id: text\n  pick: one of {quoted}\n"
            f"end\n\noutputs\n  tier: one of {quoted} default {json.dumps(values[0])}\nend\n\n"
            "rule COPY\n  when c.pick != {first}\n  then\n    set tier = c.pick\nend\n")
    champion, challenger = tmp_path / "champion.rules", tmp_path / "challenger.rules"
    champion.write_text(text.replace("{first}", json.dumps(values[-1])), encoding="utf-8")
    challenger.write_text(text.replace("{first}", json.dumps(values[0])), encoding="utf-8")
    return champion, challenger


@pytest.mark.parametrize("count", [120, 700])
def test_a_matrix_shows_the_values_that_occur_and_folds_a_long_axis(count: int,
                                                                      tmp_path: Path) -> None:
    values = [f"v{index}" for index in range(count)]
    champion, challenger = _many_values_rulesets(tmp_path, values)
    book = tmp_path / "book.jsonl"
    picks = ["v0", "v0", "v1", *(f"v{index}" for index in range(2, 17)), values[-1]]
    book.write_text("".join(json.dumps({"c": {"id": f"c{n}", "pick": pick}}) + "\n"
                            for n, pick in enumerate(picks)), encoding="utf-8")
    report = diff_books(champion, challenger, book,
                        DiffOptions(as_of=datetime.date(2026, 12, 1), id_field="c.id"))
    matrix = report["matrices"]["tier"]
    occurring = ["v0", *(f"v{index}" for index in range(1, 17))]
    assert matrix["champion_values"] == occurring
    assert matrix["challenger_values"] == [*occurring, values[-1]]
    page = render_html(report)
    assert page.count("<img ") == 1
    # 18 challenger values: 7 shown, 11 folded; 17 champion values: 7 shown, 10 folded
    assert "<th>… 11 more</th>" in page and "<td>… 10 more</td>" in page
    console = Console(file=io.StringIO(), width=200, color_system=None)
    console.print(render_text(report))
    text = console.file.getvalue()
    matrix_text = text[:text.index("└")]  # the first table
    header = next(line for line in matrix_text.splitlines() if "champion ↓" in line)
    rows = [line for line in matrix_text.splitlines() if line.startswith("│")]
    assert [cell.strip() for cell in header.split("┃")[1:-1]] == [
        "tier: champion ↓ challenger →", "v0", "v1", "v2", "v3", "v4", "v5", "v6", "… 11 more",
        "total"]
    assert [row.split("│")[1].strip() for row in rows] == [
        "v0", "v1", "v2", "v3", "v4", "v5", "v6", "… 10 more"]


def test_values_with_dollar_signs_are_drawn_as_text_not_mathematics(tmp_path: Path) -> None:
    values = ["$\\nope$", "$x$ and $y$", "plain"]
    champion, challenger = _many_values_rulesets(tmp_path, values)
    book = tmp_path / "book.jsonl"
    book.write_text("".join(json.dumps({"c": {"id": f"c{n}", "pick": pick}}) + "\n"
                            for n, pick in enumerate(values)), encoding="utf-8")
    report = diff_books(champion, challenger, book,
                        DiffOptions(as_of=datetime.date(2026, 12, 1), id_field="c.id"))
    page = render_html(report)
    assert page.count("<img ") == 1 and "$\\nope$" in page


def test_the_report_names_its_date_digests_texts_and_a_changed_reason_text(
        tmp_path: Path) -> None:
    champion = (DIFF / "champion.rules").read_text(encoding="utf-8")
    code, text = next((line.split('"')[0].split()[0], line.split('"')[1])
                      for line in champion.splitlines() if line.startswith("  ") and '"' in line
                      and line.split()[0].isupper() and "reasons" not in line)
    challenger = tmp_path / "challenger.rules"
    challenger.write_text(champion.replace(f'"{text}"', '"A new text the customer reads"', 1),
                          encoding="utf-8")
    report = diff_books(DIFF / "champion.rules", challenger, DIFF / "book.jsonl",
                        DiffOptions(as_of=datetime.date(2026, 12, 1), id_field="c.id"))
    assert report["as_of"] == "2026-12-01"
    assert report["champion"]["digest"].startswith("sha256:")
    assert report["champion"]["digest"] != report["challenger"]["digest"]
    [row] = [r for r in report["reasons"] if r["code"] == code]
    assert (row["text"], row["text_changed"], row["champion_text"]) == (
        "A new text the customer reads", True, text)
    assert all("label" in rule for rule in report["rules"])
    assert report["headline"][0].startswith(f"Of {report['rows']:,} customers, ")
    page = render_html(report)
    assert "(text changed; was: " in page and "<p class=headline>" in page


def test_a_change_on_a_bin_edge_falls_in_the_bin_it_opens() -> None:
    bins = histogram([Decimal(0), Decimal(5), Decimal(10), Decimal(10), Decimal(20)])
    counts = [0] * 21
    counts[0] = counts[5] = counts[20] = 1
    counts[10] = 2  # 10 is the lower edge of [10..11)
    assert bins == {"edges": list(range(22)), "counts": counts, "closed": "left"}
