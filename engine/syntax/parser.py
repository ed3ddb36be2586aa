"""Parse ruleset text into the typed AST of ``engine.syntax.ast``.

The grammar lives in ``grammar/tenet.lark``; Lark analyses it once (``engine.syntax.grammar``)
and ``engine.syntax.lalr`` runs its tables with a contextual keyword lexer, building the AST as it reduces.
Syntax errors become diagnostics (see ``engine.syntax.errors``); after an error, parsing resumes
at the next line that starts a declaration, so one run reports every independent mistake.
"""

from __future__ import annotations

import gc
import re
import threading
from contextlib import contextmanager
from functools import lru_cache

from lark import Token
from lark.exceptions import UnexpectedInput

from engine.diagnostics import Diagnostic, Severity, Span
from engine.syntax import ast
from engine.syntax.builder import AstBuilder
from engine.syntax.errors import absorbed_keyword, describe_syntax_error
from engine.syntax.grammar import grammar
from engine.syntax.lalr import LalrDriver
from engine.syntax.source import BIDI_CONTROLS, LINE_SEPARATORS

# Words that open a top-level declaration; parsing resumes at a line starting with one of them.
# `offer` also opens an action inside rules, so it only counts at the start of a line.
_RESYNC_KEYWORDS = ("ruleset", "version", "effective", "include", "facts", "type", "reasons",
                    "outputs", "let", "table", "rule", "cap", "budget", "example", "property")
_RESYNC = re.compile(r"^[ \t]*(?:" + "|".join(_RESYNC_KEYWORDS) + r")\b|^offer\b", re.M)


_BUILDER_LOCK = threading.Lock()


@contextmanager
def no_cyclic_gc():
    """Parsing and checking allocate hundreds of thousands of small acyclic objects, which makes
    the cyclic garbage collector run over and over for nothing; pause it meanwhile."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@lru_cache(maxsize=1)
def _parser() -> tuple[LalrDriver, AstBuilder]:
    """The parser, built once per process. It builds the AST as it reduces, which is several
    times faster than building a parse tree and then walking it;
    every token is kept so that each node's span covers its keywords. ``LalrDriver`` runs
    Lark's tables (see engine/syntax/lalr.py)."""
    builder = AstBuilder()
    return LalrDriver(grammar(), builder.reducer, DECLARATIONS), builder


def parse_module(text: str, path: str) -> tuple[ast.Module, list[Diagnostic]]:
    """Parse one file. With syntax errors the module holds what parsed cleanly, and the
    diagnostics say what did not."""
    parser, builder = _parser()
    text, diagnostics = _without_line_separators(text, path)
    declarations: tuple[ast.Declaration, ...] = ()
    start = syntax_errors = 0
    while True:
        # Blank out what was already consumed (keeping line breaks) so positions stay true.
        masked = re.sub(r"[^\n]", " ", text[:start]) + text[start:]
        try:
            with _BUILDER_LOCK, no_cyclic_gc():
                builder.file, builder.diagnostics, builder.not_a_value = path, [], {}
                declarations = parser.parse(masked)
                diagnostics.extend(builder.diagnostics)
        except UnexpectedInput as error:
            diagnostics.append(describe_syntax_error(error, masked, path))
            syntax_errors += 1
            if syntax_errors >= MAX_SYNTAX_ERRORS:
                last = diagnostics[-1].span
                diagnostics.append(Diagnostic(
                    "E101", Severity.ERROR,
                    f"too many syntax errors: the rest of the file was not read after "
                    f"{MAX_SYNTAX_ERRORS}", Span(path, last.line, last.column, last.line,
                                                 last.column + 1),
                    help="fix these first; is this a ruleset file?"))
                break
            resume = _RESYNC.search(masked, _error_offset(error, masked))
            if resume is not None and resume.start() <= start:
                resume = _RESYNC.search(masked, masked.find("\n", start) + 1 or len(masked))
            if resume is None or resume.start() <= start:
                break
            start = resume.start()
            continue
        break
    diagnostics.extend(_too_deep(declarations, parser.depths))
    return ast.Module(path, declarations, span=Span(path, 1, 1, 1, 1)), diagnostics


_LINE_SEPARATOR = re.compile(f"[{LINE_SEPARATORS}]")
_SUSPICIOUS = re.compile(f"[{LINE_SEPARATORS}]|{BIDI_CONTROLS.pattern}")
_NAMES = {"\v": "a vertical tab", "\f": "a form feed", "\x85": "a next-line character (U+0085)",
          "\u2028": "a line separator (U+2028)", "\u2029": "a paragraph separator (U+2029)"}


def _without_line_separators(text: str, path: str) -> tuple[str, list[Diagnostic]]:
    """Characters that some editors show as a line break and the language does not (see
    ``engine.syntax.source``) are errors; they are read as spaces so that parsing goes on. Bidi
    controls, which make an editor show text in another order than it is read (Trojan
    Source), are warnings."""
    found = []
    line, counted = 1, 0
    for match in _SUSPICIOUS.finditer(text):
        start = match.start()
        line += text.count("\n", counted, start)
        counted = start
        column = start - (text.rfind("\n", 0, start) + 1) + 1
        span = Span(path, line, column, line, column + 1)
        character = match.group()
        if BIDI_CONTROLS.match(character):
            found.append(Diagnostic(
                "W301", Severity.WARNING,
                f"a bidirectional control character (U+{ord(character):04X}) here: editors "
                "may show the text around it in another order than Tenet reads it", span,
                help="remove it; right-to-left text displays correctly without it"))
            continue
        name = _NAMES.get(character, f"a record separator (U+{ord(character):04X})")
        found.append(Diagnostic(
            "E107", Severity.ERROR, f"{name} here: editors disagree on whether it breaks the line",
            span, help="replace it with a line break or a space"))
    if any(d.code == "E107" for d in found):
        text = _LINE_SEPARATOR.sub(" ", text)
    return text, found


MAX_DEPTH = 200
# The grammar's declarations, whose nesting depth the parser reports.
DECLARATIONS = frozenset({
    "ruleset_header", "version_decl", "effective_decl", "include_decl", "facts_decl",
    "type_decl", "reasons_decl", "outputs_decl", "let_decl", "table_decl", "rule_decl",
    "cap_decl", "offer_decl", "budget_decl", "example_decl"})
# After this many syntax errors the rest of a file is not read: more would not help anyone,
# and each resumption rescans the file.
MAX_SYNTAX_ERRORS = 100


def _too_deep(declarations: tuple[ast.Declaration, ...],
              depths: dict[int, int]) -> list[Diagnostic]:
    """Expressions nested more than MAX_DEPTH levels: every later pass walks expressions
    recursively, and no real ruleset comes near the limit, so it is a syntax error. The
    parser measured each declaration's depth as it built the tree (``LalrDriver.depths``)."""
    found = []
    for declaration in declarations:
        if depths.get(id(declaration), 0) > MAX_DEPTH + 1:
            span = declaration.span
            found.append(Diagnostic(
                "E106", Severity.ERROR,
                f"an expression here is nested more than {MAX_DEPTH} levels deep",
                Span(span.file, span.line, span.column, span.line, span.column + 1),
                help="split it into several `let`s"))
    return found


def _error_offset(error: UnexpectedInput, text: str) -> int:
    """Where to look for the next declaration: the error itself, or the declaration keyword
    that the lexer read as a name just before it."""

    absorbed = absorbed_keyword(error, text)
    if absorbed is not None:
        return absorbed.start_pos
    token = getattr(error, "token", None)
    if isinstance(token, Token) and token.start_pos is not None:
        return token.start_pos
    position = getattr(error, "pos_in_stream", None)
    if position is None or position < 0:
        return len(text)
    # A lexer error: resume no earlier than the next line.
    line_end = text.find("\n", position)
    return len(text) if line_end < 0 else line_end
