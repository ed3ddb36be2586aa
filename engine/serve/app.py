"""`tenet serve`: decisions over HTTP, each recorded for audit before it is answered (issue 22).

An ASGI application (Starlette; uvicorn serves it). A decision request is decided by the version
of the ruleset in effect on its as-of date, exactly as `tenet run` decides (the same facts
validation, the same decision JSON), and its audit record is committed before the 200 goes out.
Every failure is an answer with a status and words, never a traceback: bad JSON 400, a missing
token 401, an unknown ruleset or decision 404, a body too large 413, a wrong content type 415,
facts that do not fit or a date outside every window 422, a conflict 409, a store that refuses
to write 503.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import msgspec
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

import engine
from engine.exceptions import DecisionConflict, FactsError, UnknownRule
from engine.run.facts import iso_date
from engine.serve.audit import AuditStore, AuditUnavailable, record_of
from engine.serve.catalog import Catalog, CatalogError, NoVersionInEffect, UnknownRuleset

MAX_BODY = 1_000_000
_LOG = logging.getLogger("tenet.serve")
_REQUEST = msgspec.json.Decoder(float_hook=Decimal)  # amounts stay exact
_RESPONSE = msgspec.json.Encoder(decimal_format="number")
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
_FIELDS = {"facts", "as_of", "trace", "why_not", "request_id"}


class _Refused(Exception):
    def __init__(self, status: int, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.problems = status, message, problems


def _json(data: Any, status: int = 200) -> Response:
    return Response(_RESPONSE.encode(data), status_code=status, media_type="application/json")


class Metrics:
    """Prometheus counters: decisions by ruleset, version and outcome, a latency histogram,
    refusals by status."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.decisions: Counter = Counter()
        self.refusals: Counter = Counter()
        self.buckets = [0] * (len(_LATENCY_BUCKETS) + 1)
        self.latency_sum = 0.0

    def decided(self, name: str, version: str | None, outcome: str, seconds: float) -> None:
        with self._lock:
            self.decisions[(name, version or "", outcome)] += 1
            self.latency_sum += seconds
            index = next((i for i, b in enumerate(_LATENCY_BUCKETS) if seconds <= b),
                         len(_LATENCY_BUCKETS))
            self.buckets[index] += 1

    def refused(self, status: int) -> None:
        with self._lock:
            self.refusals[status] += 1

    def text(self) -> str:
        with self._lock:
            lines = ["# HELP tenet_decisions_total Decisions made, by ruleset, version and "
                     "outcome (the action, or the first output).",
                     "# TYPE tenet_decisions_total counter"]
            for (name, version, outcome), count in sorted(self.decisions.items()):
                lines.append(f'tenet_decisions_total{{ruleset="{_label(name)}",'
                             f'version="{_label(version)}",outcome="{_label(outcome)}"}} {count}')
            lines += ["# HELP tenet_decision_seconds Time to decide and record a decision.",
                      "# TYPE tenet_decision_seconds histogram"]
            running = 0
            for bound, count in zip([*map(str, _LATENCY_BUCKETS), "+Inf"], self.buckets,
                                    strict=True):
                running += count
                lines.append(f'tenet_decision_seconds_bucket{{le="{bound}"}} {running}')
            lines.append(f"tenet_decision_seconds_sum {self.latency_sum:.6f}")
            lines.append(f"tenet_decision_seconds_count {running}")
            lines += ["# HELP tenet_refusals_total Requests answered with an error, by status.",
                      "# TYPE tenet_refusals_total counter"]
            for status, count in sorted(self.refusals.items()):
                lines.append(f'tenet_refusals_total{{status="{status}"}} {count}')
            return "\n".join(lines) + "\n"


def _label(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class Served:
    """The catalog a service decides with, replaced whole by a reload: a request reads
    ``catalog`` once, so it is decided by the old set or the new, never a mix."""

    def __init__(self, catalog: Catalog, load: Callable[[], Catalog] | None = None,
                 supervised: bool = False) -> None:
        self.catalog = catalog
        self.load = load  # a fresh catalog from the folder (CatalogError when it cannot be)
        self.supervised = supervised  # one of uvicorn's workers: the parent replaces us
        self._reloading = threading.Lock()

    def reload(self) -> Catalog:
        """Load the folder again and serve it once every check has passed (CatalogError
        otherwise, and the old set keeps serving). Under a supervisor, the new set is checked
        here and the parent is asked (SIGHUP) to replace its workers one by one."""
        if self.load is None:
            raise CatalogError(["this service was not started from a folder"])
        with self._reloading:
            catalog = self.load()
            if self.supervised:
                os.kill(os.getppid(), signal.SIGHUP)
            else:
                self.catalog = catalog
            return catalog


def create_app(served: Served | Catalog, store: AuditStore, token: str | None = None,
               max_body: int = MAX_BODY) -> Starlette:
    """The service. ``POST /v1/admin/reload`` is on only with a ``token``."""
    if isinstance(served, Catalog):
        served = Served(served)
    metrics = Metrics()

    def guarded(endpoint):
        async def handle(request: Request) -> Response:
            try:
                if token is not None and request.url.path != "/healthz" and request.headers.get(
                        "authorization") != f"Bearer {token}":
                    raise _Refused(401, "a bearer token is required (Authorization: Bearer …)")
                return await endpoint(request)
            except _Refused as refused:
                metrics.refused(refused.status)
                body: dict[str, Any] = {"error": refused.message}
                if refused.problems:
                    body["problems"] = refused.problems
                return _json(body, refused.status)
            except Exception as error:  # a bug: one line in the log, never a traceback
                metrics.refused(500)
                _LOG.error("internal error on %s %s: %s: %s", request.method, request.url.path,
                           type(error).__name__, error)
                return _json({"error": "internal error; it is in the service's log"}, 500)
        return handle

    async def decide(request: Request) -> Response:
        started = time.perf_counter()
        received = datetime.datetime.now(datetime.UTC)
        body = await _body(request, max_body)
        name = request.path_params["name"]
        as_of = _as_of(body.get("as_of"), received)
        try:
            ruleset = served.catalog.pick(name, as_of)
        except UnknownRuleset:
            raise _Refused(404, f"no ruleset `{name}`; GET /v1/rulesets lists them") from None
        except NoVersionInEffect as outside:
            raise _Refused(422, str(outside)) from None
        try:
            audited = ruleset.decide_audited(body.get("facts"), as_of, body.get("why_not"))
        except FactsError as error:
            raise _Refused(422, "the facts do not fit the ruleset's schema",
                           list(error.problems)) from None
        except DecisionConflict as conflict:
            raise _Refused(409, str(conflict)) from None
        except UnknownRule as unknown:
            raise _Refused(422, str(unknown)) from None
        record = record_of(ruleset, audited, received=received,
                           latency_us=int((time.perf_counter() - started) * 1e6),
                           request_id=body.get("request_id"))
        try:
            await asyncio.wrap_future(store.submit(ruleset, record))
        except AuditUnavailable as error:
            raise _Refused(503, f"the audit store refused the record ({error}); the decision "
                                "was not made") from None
        decision = audited.decision
        data = decision.to_data(trace=bool(body.get("trace")))
        data["decision_id"] = record["decision_id"]
        outcome = str(next(iter(decision.decision.values()), "")) if decision.decision else ""
        metrics.decided(name, ruleset.version, outcome, time.perf_counter() - started)
        return _json(data)

    async def reload(request: Request) -> Response:
        if token is None:
            raise _Refused(404, "reloading over HTTP is off: start the service with "
                                "--token-file to turn it on (or send it SIGHUP)")
        try:
            catalog = await run_in_threadpool(served.reload)
        except CatalogError as refused:
            raise _Refused(422, "the folder was not loaded; the rulesets served before keep "
                                "serving", refused.problems) from None
        listed = {"rulesets": _listed(catalog)}
        if served.supervised:
            return _json({"status": "the folder checks clean; the workers are being replaced "
                                    "one by one", **listed}, 202)
        return _json({"status": "reloaded", **listed})

    async def rulesets(request: Request) -> Response:
        return _json({"rulesets": _listed(served.catalog)})

    async def decision(request: Request) -> Response:
        try:
            found = await run_in_threadpool(store.get, request.path_params["decision_id"])
        except AuditUnavailable as error:
            raise _Refused(503, f"the audit store cannot be read ({error})") from None
        if found is None:
            raise _Refused(404, f"no decision `{request.path_params['decision_id']}`")
        return _json(found)

    async def healthz(request: Request) -> Response:
        return _json({"status": "ok", "engine": engine.__version__})

    async def metrics_text(request: Request) -> Response:
        return PlainTextResponse(metrics.text(), media_type="text/plain; version=0.0.4")

    async def openapi(request: Request) -> Response:
        return JSONResponse(OPENAPI)

    routes = [
        Route("/v1/rulesets/{name}/decisions", guarded(decide), methods=["POST"]),
        Route("/v1/rulesets", guarded(rulesets), methods=["GET"]),
        Route("/v1/decisions/{decision_id}", guarded(decision), methods=["GET"]),
        Route("/healthz", guarded(healthz), methods=["GET"]),
        Route("/metrics", guarded(metrics_text), methods=["GET"]),
        Route("/openapi.json", guarded(openapi), methods=["GET"]),
        Route("/v1/admin/reload", guarded(reload), methods=["POST"]),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        _on_hangup(served)
        yield
        await run_in_threadpool(store.close)

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.metrics = metrics
    app.state.served = served
    return app


def log_to_stderr() -> None:
    """The service's own log lines (reloads, internal errors) on stderr, one line each with
    the time."""
    logger = logging.getLogger("tenet")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: "
                                               "%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


ENVIRONMENT = "TENET_SERVE"  # the options a worker process starts from


def from_environment() -> Starlette:
    """The service in one of uvicorn's worker processes (`tenet serve --workers N`), from the
    options the parent process put in TENET_SERVE. A folder that no longer checks clean stops
    the worker before it serves: the parent then keeps the worker it was replacing."""
    log_to_stderr()
    options = msgspec.json.decode(os.environ[ENVIRONMENT])
    load = partial(Catalog.load, Path(options["folder"]),
                   allow_unproved=options["allow_unproved"])
    token_file = options["token_file"]
    token = Path(token_file).read_text(encoding="utf-8").strip() if token_file else None
    try:
        catalog = load()
    except CatalogError as refused:
        for problem in refused.problems:
            _LOG.error("reload refused: %s", problem)
        _LOG.error("this worker does not start; the workers serving before keep serving")
        raise SystemExit(2) from None
    return create_app(Served(catalog, load, supervised=True),
                      AuditStore(options["db"]), token=token, max_body=options["max_body"])


def _on_hangup(served: Served) -> None:
    """SIGHUP reloads the folder (in the background; the old set serves until the new one has
    passed every check). Only a process's main thread can take signals: a service run inside
    a test's thread reloads over HTTP only."""
    if served.load is None or served.supervised or \
            threading.current_thread() is not threading.main_thread():
        return
    loop = asyncio.get_running_loop()

    def hangup() -> None:
        async def reload() -> None:
            try:
                catalog = await run_in_threadpool(served.reload)
            except CatalogError as refused:
                for problem in refused.problems:
                    _LOG.warning("reload refused: %s", problem)
                _LOG.warning("reload refused (%d problems); the rulesets served before keep "
                             "serving", len(refused.problems))
            else:
                _LOG.warning("reloaded: %s", ", ".join(catalog.versions))
        loop.create_task(reload())

    loop.add_signal_handler(signal.SIGHUP, hangup)


async def _body(request: Request, limit: int) -> dict[str, Any]:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise _Refused(415, "send the request as JSON (Content-Type: application/json)")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _Refused(413, f"the body is over {limit:,} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _Refused(413, f"the body is over {limit:,} bytes")
        chunks.append(chunk)
    try:
        body = _REQUEST.decode(b"".join(chunks))
    except (msgspec.DecodeError, RecursionError) as error:
        raise _Refused(400, f"the body is not JSON: {error}") from None
    if not isinstance(body, dict):
        raise _Refused(400, 'the body is a JSON object: {"facts": {…}, "as_of": "YYYY-MM-DD"}')
    unknown = sorted(set(body) - _FIELDS)
    if unknown:
        raise _Refused(400, f"unknown field{'s' if len(unknown) > 1 else ''} "
                            f"{', '.join(map(repr, unknown))}; the fields are "
                            f"{', '.join(sorted(_FIELDS))}")
    for key, kind in (("trace", bool), ("why_not", str), ("request_id", str)):
        if key in body and body[key] is not None and not isinstance(body[key], kind):
            raise _Refused(400, f"`{key}` must be {'true or false' if kind is bool else 'a text'}")
    return body


def _as_of(value: Any, received: datetime.datetime) -> datetime.date:
    if value is None:
        return received.date()
    as_of = iso_date(value) if isinstance(value, str) else None
    if as_of is None:
        raise _Refused(422, f"as_of: expected a date (YYYY-MM-DD), got {value!r}")
    return as_of


def _listed(catalog: Catalog) -> list[dict[str, Any]]:
    return [{"name": name, "versions": [_version(v) for v in versions]}
            for name, versions in catalog.versions.items()]


def _version(ruleset) -> dict[str, Any]:
    window = ruleset.window
    return {"version": ruleset.version, "digest": ruleset.info.digest,
            "effective": window.start.isoformat() if window else None,
            "until": window.until.isoformat() if window and window.until else None,
            "outputs": sorted(ruleset.check.program.output_types),
            "facts_schema": ruleset.schema.model.model_json_schema(by_alias=True)}


OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Tenet decisions", "version": "1",
             "description": "Credit decisions by versioned rulesets; every decision is recorded "
                            "for audit before it is answered."},
    "paths": {
        "/v1/rulesets/{name}/decisions": {"post": {
            "summary": "Decide for one customer with the version in effect on the as-of date",
            "parameters": [{"name": "name", "in": "path", "required": True,
                            "schema": {"type": "string"}}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "additionalProperties": False, "required": ["facts"],
                "properties": {"facts": {"type": "object"},
                               "as_of": {"type": "string", "format": "date"},
                               "trace": {"type": "boolean"}, "why_not": {"type": "string"},
                               "request_id": {"type": "string"}}}}}},
            "responses": {"200": {"description": "The decision, as `tenet run --format json` "
                                                 "prints it, with its decision_id"},
                          "400": {"description": "Not a JSON object of the known fields"},
                          "401": {"description": "A bearer token is required"},
                          "404": {"description": "No such ruleset"},
                          "409": {"description": "The decision is a conflict"},
                          "413": {"description": "The body is too large"},
                          "415": {"description": "Not JSON"},
                          "422": {"description": "Facts that do not fit, or no version in "
                                                 "effect on the as-of date"},
                          "503": {"description": "The audit store refused the record"}}}},
        "/v1/rulesets": {"get": {"summary": "The rulesets, their versions, windows, digests, "
                                            "outputs and facts schemas",
                                 "responses": {"200": {"description": "The rulesets"}}}},
        "/v1/decisions/{decision_id}": {"get": {
            "summary": "The audit record of a decision",
            "parameters": [{"name": "decision_id", "in": "path", "required": True,
                            "schema": {"type": "string"}}],
            "responses": {"200": {"description": "The record"},
                          "404": {"description": "No such decision"},
                          "503": {"description": "The audit store cannot be read"}}}},
        "/v1/admin/reload": {"post": {
            "summary": "Load the folder again; the rulesets served before keep serving until "
                       "the new set has passed every check (on only with a token)",
            "responses": {"200": {"description": "Reloaded: the rulesets now served"},
                          "202": {"description": "Checked; the workers are being replaced"},
                          "404": {"description": "Reloading over HTTP is off (no token)"},
                          "422": {"description": "The folder was not loaded, and why"}}}},
        "/healthz": {"get": {"summary": "Alive", "responses": {"200": {"description": "ok"}}}},
        "/metrics": {"get": {"summary": "Prometheus metrics",
                             "responses": {"200": {"description": "text/plain"}}}},
    },
}
