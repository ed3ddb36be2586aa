"""The documentation says what the code does: the code table is generated from the catalogue,
and the guide points only to files that exist."""

from __future__ import annotations

import re

from engine.codes import codes_markdown
from tests.helpers import ROOT, assert_golden


def test_the_code_table_is_the_catalogue() -> None:
    assert_golden(codes_markdown(), ROOT / "docs" / "codes.md")


def test_the_docs_point_only_to_files_in_the_repository() -> None:
    for page in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]:
        text = page.read_text(encoding="utf-8")
        for path in re.findall(r"`((?:docs|engine|rulesets|tests|benchmarks|grammar)/[\w./-]+)`",
                               text):
            assert (ROOT / path.rstrip("/.")).exists() or "*" in path, (page.name, path)
