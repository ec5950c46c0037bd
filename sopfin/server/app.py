"""The HTTP API: FastAPI routes over ``Books``, the import and allocation commands, verify
and approve. OpenAPI documentation at ``/docs``.

Errors are JSON: ``{"error": {"status", "message", "fix"}, "issues": [...]}`` with the same
issue codes and cell locations as the CLI. 401 without a valid token, 403 without the write
scope, 404 for an unknown workbook or version, 409 when the workbook is open elsewhere or
another writer holds it, 413 for a body over the limit, 422 for issues in the data.
"""


import hashlib
import tempfile
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from sopfin.close.records import Window
from sopfin.close.window import WindowError
from sopfin.engine.opex import Opex
from sopfin.imports.command import ImportUsageError
from sopfin.imports.origin import Origin
from sopfin.model import Issue
from sopfin.server.books import (
    Books,
    Live,
    NoVersion,
    PlanIssues,
    chosen_version,
    live_report,
    version_report,
    versions_of,
    window_actuals,
    window_of,
)
from sopfin.server.costs import (
    BY,
    NoCosts,
    by_department,
    costs_by_family,
    department_months,
    live_opex,
    require_departments,
)
from sopfin.server.posted import TrackRequest, actuals_csv, actuals_mapping, safe_name
from sopfin.server.security import Caller, Tokens, UnknownWorkbookError
from sopfin.xlsx.errors import (
    UserSheetPatchError,
    WorkbookBusyError,
    WorkbookChangedError,
    WorkbookError,
    WorkbookLockedError,
)

API = "/api/v1/workbooks"
DEFAULT_MAX_BODY = 1 << 20  # 1 MiB


class ApiError(Exception):
    def __init__(self, status: int, message: str, fix: str = "",
                 issues: list[Issue] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.fix = status, message, fix
        self.issues = issues or []


def _error(status: int, message: str, fix: str = "", issues: list[Issue] | None = None,
           headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"status": status, "message": message, "fix": fix},
                         "issues": [i.to_dict() for i in issues or []]},
                        status_code=status, headers=headers)


class BodyLimit:
    """Refuse a request body over ``limit`` bytes (413), whether it says its length or not."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: MutableMapping[str, Any],
                       receive: Callable[[], Awaitable[MutableMapping[str, Any]]],
                       send: Callable[[MutableMapping[str, Any]], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            await _error(413, f"the request body is over {self.limit} bytes",
                         "send less per request")(scope, receive, send)
            return
        seen = 0

        async def limited() -> MutableMapping[str, Any]:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise ApiError(413, f"the request body is over {self.limit} bytes",
                               "send less per request")
            return message

        await self.app(scope, limited, send)


# ------------------------------------------------------------------ bodies


class Change(BaseModel):
    sheet: Literal["Demand", "Supply", "Prices"]
    family: str
    month: str
    value: float
    scenario: str = ""
    channel: str = ""


class ForecastRequest(BaseModel):
    changes: list[Change] = Field(max_length=10_000)
    period: str = "Horizon"


class AllocateRequest(BaseModel):
    """``sopfin allocate``: revenue, units or cogs to the families, or opex to the
    departments and their accounts."""

    amount: float
    measure: str = "revenue"
    to: str = Field("families", description="families, or departments (measure opex)")
    by: str = Field("equal", description="equal, budget_units, revenue, prior_actuals; to "
                                         "departments also headcount")
    window: str = "Horizon"


# ------------------------------------------------------------------ the app


def create_app(root: Path, tokens: Tokens, *, max_body: int = DEFAULT_MAX_BODY) -> Any:
    books = Books(root)
    app = FastAPI(title="sopfin", version="1",
                  description="The S&OP plan workbooks of one folder: reports, costs, "
                              "what-ifs, actuals, budget allocation and the version ledger.")
    app.state.books = books

    def caller(authorization: Annotated[str | None, Header()] = None) -> Caller:
        secret = None
        if authorization:
            kind, _, value = authorization.partition(" ")
            if kind.lower() != "bearer" or not value:
                raise ApiError(401, "use an Authorization: Bearer <token> header")
            secret = value.strip()
        found = tokens.caller(secret)
        if found is None:
            raise ApiError(401, "a valid bearer token is required",
                           "ask for a token; tokens come from the server's token file")
        return found

    Reader = Annotated[Caller, Depends(caller)]

    def writer(who: Reader) -> Caller:
        if "write" not in who.scopes:
            raise ApiError(403, f"token {who.name!r} may read but not write",
                           "use a token with the write scope")
        return who

    Writer = Annotated[Caller, Depends(writer)]

    async def body_sha256(request: Request) -> str:
        """The SHA-256 of the request body as sent: what a write records as its source's
        hash, so the sender can match it with the bytes it posted."""
        return hashlib.sha256(await request.body()).hexdigest()

    BodyHash = Annotated[str, Depends(body_sha256)]

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return _error(exc.status, exc.message, exc.fix, exc.issues, headers)

    @app.exception_handler(UnknownWorkbookError)
    async def _unknown(_: Request, exc: UnknownWorkbookError) -> JSONResponse:
        return _error(404, str(exc), "list the workbooks at " + API)

    @app.exception_handler(NoVersion)
    async def _no_version(_: Request, exc: NoVersion) -> JSONResponse:
        return _error(404, str(exc))

    @app.exception_handler(PlanIssues)
    async def _issues(_: Request, exc: PlanIssues) -> JSONResponse:
        return _error(422, "the plan has errors", "fix the cells listed", exc.issues)

    @app.exception_handler(NoCosts)
    async def _no_costs(_: Request, exc: NoCosts) -> JSONResponse:
        return _error(404, str(exc), exc.fix)

    @app.exception_handler(WindowError)
    async def _window(_: Request, exc: WindowError) -> JSONResponse:
        return _error(400, str(exc))

    @app.exception_handler(ImportUsageError)
    async def _usage(_: Request, exc: ImportUsageError) -> JSONResponse:
        return _error(400, str(exc))

    @app.exception_handler(WorkbookError)
    async def _workbook(_: Request, exc: WorkbookError) -> JSONResponse:
        busy = (WorkbookLockedError, WorkbookBusyError, WorkbookChangedError,
                UserSheetPatchError)
        return _error(409 if isinstance(exc, busy) else 422, exc.problem, exc.fix)

    @app.get("/api/v1/status")
    def status(_: Reader) -> dict[str, int]:
        """How often the server read a workbook from disk (it reads one again only when its
        file changed)."""
        return {"reads": books.reads}

    @app.get(API)
    def list_workbooks(_: Reader) -> dict[str, list[str]]:
        return {"workbooks": books.names()}

    @app.get(API + "/{name}/versions")
    def versions(name: str, _: Reader) -> dict[str, Any]:
        return {"workbook": name, "versions": versions_of(books.ledger(name))}

    @app.get(API + "/{name}/versions/{n}")
    def version(name: str, n: int, _: Reader) -> dict[str, Any]:
        chosen = chosen_version(books.ledger(name), n)
        snap = books.snapshot(name, n)
        totals = {str(k): round(float(v), 2) for k, v in
                  snap.sum(axis=1).groupby(level="measure").sum().items()}
        return {"workbook": name, **chosen, "months": list(map(str, snap.columns)),
                "totals": totals}

    @app.post(API + "/{name}/versions/{n}/approve")
    def approve(name: str, n: int, who: Writer) -> dict[str, Any]:
        from sopfin.close.publish import run_approve

        path = books.path(name)
        with books.writer(path):
            result = run_approve(path, version=n, by=who.name)
        if not result.ok:
            raise ApiError(422, f"version {n} was not approved", "", list(result.issues))
        return {"workbook": name, "version": n, "status": "approved", "by": who.name,
                "messages": list(result.messages)}

    @app.get(API + "/{name}/verify")
    def verify(name: str, _: Reader) -> dict[str, Any]:
        from sopfin.close.verify import run_verify

        result = run_verify(books.path(name))
        return {"workbook": name, "ok": result.ok, "messages": list(result.messages),
                "findings": [_finding(f) for f in result.findings]}

    @app.get(API + "/{name}/reports/{period}")
    def report(name: str, period: str, _: Reader, version: int | None = None,
               live: bool = False
               ) -> dict[str, Any]:
        answer: dict[str, Any] = books.answer(name, ("report", period, version, live),
                                              lambda: _report(name, period, version, live))
        return answer

    def _report(name: str, period: str, version: int | None, live: bool) -> dict[str, Any]:
        if live:
            plan = books.live(name)
            s = plan.plan.settings
            win = window_of(plan.plan.months, period, s.fiscal_year_start, s.current_cycle)
            return {"workbook": name, "period": win.label, "months": list(win.months),
                    "version": None, "status": "live", "currency": s.currency,
                    "scenarios": live_report(plan, win)}
        chosen = chosen_version(books.ledger(name), version)
        snap = books.snapshot(name, int(str(chosen["version"])))
        months = tuple(map(str, snap.columns))
        win = window_of(months, period, _fiscal_start(books, name), "")
        return {"workbook": name, "period": win.label, "months": list(win.months),
                "version": chosen["version"], "status": chosen["status"],
                "hash": chosen["entry_hash"], "plan": version_report(snap, win),
                "actual": actuals_now(name, win)}

    def actuals_now(name: str, win: Window) -> dict[str, float | None] | None:
        """The period's actuals as the workbook holds them now, beside a version's plan;
        None when the current sheets have errors (their issues are on ``?live=true``)."""
        try:
            return window_actuals(books.live(name), win)
        except PlanIssues:
            return None

    def costs_scope(name: str, period: str, scenario: str | None
                    ) -> tuple[Live, Window, str]:
        live = books.live(name)
        s = live.plan.settings
        win = window_of(live.plan.months, period, s.fiscal_year_start, s.current_cycle)
        scen = scenario or s.reconciled_scenario
        if scen not in live.figures.scenarios:
            raise ApiError(404, f"no scenario {scen!r}; scenarios: "
                                f"{', '.join(live.figures.scenarios)}")
        return live, win, scen

    def opex_of(name: str, live: Live) -> Opex:
        opex: Opex = books.answer(name, ("opex",), lambda: live_opex(live))
        return opex

    @app.get(API + "/{name}/costs")
    def costs(name: str, _: Reader, by: str = "family", period: str = "Horizon",
              scenario: str | None = None) -> dict[str, Any]:
        """COGS by family and month (``by=family``), or operating expenses by department
        over the period (``by=department``) with a total row. Variance is plan - budget
        (positive: the plan spends more than the budget); variance % is variance / |budget|.
        Amounts are in the workbook's currency, to the cent; actual sums the period's closed
        months (null when it has none)."""
        if by not in BY:
            raise ApiError(400, f"costs by {by!r}: by is one of {', '.join(BY)}",
                           "ask for by=department or by=family")
        live, win, scen = costs_scope(name, period, scenario)
        head = {"workbook": name, "by": by, "scenario": scen, "period": win.label}
        if by == "family":
            return {**head, "measure": "cogs",
                    "rows": costs_by_family(live, scen, win.months)}
        opex = opex_of(name, live)
        require_departments(opex)
        rows, total = by_department(opex, scen, win.months)
        return {**head, "measure": "opex", "months": list(win.months),
                "closed_months": [m for m in win.months if opex.closed[opex.months.index(m)]],
                "rows": rows, "total": total}

    @app.get(API + "/{name}/costs/{department}")
    def department_costs(name: str, department: str, _: Reader, period: str = "Horizon",
                         scenario: str | None = None) -> dict[str, Any]:
        """One department's operating expenses month by month over the period, its accounts
        beneath each month (plan, budget, actual in closed months, variance = plan - budget),
        and the period's total."""
        live, win, scen = costs_scope(name, period, scenario)
        opex = opex_of(name, live)
        require_departments(opex, department)
        months, total = department_months(opex, department, scen, win.months)
        return {"workbook": name, "department": department, "scenario": scen,
                "period": win.label, "months": months, "total": total}

    @app.post(API + "/{name}/forecast")
    def forecast(name: str, body: ForecastRequest, _: Reader
                 ) -> dict[str, Any]:
        from sopfin.engine.dollarize import dollarize
        from sopfin.engine.summary import summarize
        from sopfin.engine.whatif import apply_changes

        live = books.live(name)
        changed, issues = apply_changes(live.plan, [c.model_dump() for c in body.changes])
        if issues:
            raise ApiError(422, "a change names no cell of the plan", "", issues)
        d, more = dollarize(changed)
        overrides = live.finance.overrides if live.finance else ()
        what_if = Live(changed, live.finance, d,
                       summarize(d, changed.settings.fiscal_year_start, overrides), more)
        s = changed.settings
        win = window_of(changed.months, body.period, s.fiscal_year_start, s.current_cycle)
        return {"workbook": name, "period": win.label, "written": False,
                "changes": len(body.changes), "baseline": live_report(live, win),
                "forecast": live_report(what_if, win)}

    @app.post(API + "/{name}/revenue/track")
    def track(name: str, body: TrackRequest, who: Writer, sha256: BodyHash) -> dict[str, Any]:
        from sopfin.imports.command import import_payload, run_import

        path = books.path(name)
        with tempfile.TemporaryDirectory() as tmp, books.writer(path):
            source = Path(tmp) / f"{safe_name(body.source)}.csv"
            mapping = Path(tmp) / "mapping.toml"
            actuals_csv(source, body)
            mapping.write_text(actuals_mapping(body), encoding="utf-8")
            out = run_import(path, source, "Actuals", str(mapping),
                             origin=Origin("api-track", who.name, source.name, sha256))
        payload = import_payload(out)
        payload["author"] = who.name
        if not out.ok:
            raise ApiError(422, "nothing imported: the lines have errors", "", out.issues)
        return payload

    @app.post(API + "/{name}/budget/allocate")
    def budget_allocate(name: str, body: AllocateRequest, who: Reader, sha256: BodyHash,
                        apply: bool = False) -> dict[str, Any]:
        from sopfin.imports.allocation import run_allocate

        if apply and "write" not in who.scopes:
            raise ApiError(403, f"token {who.name!r} may read but not write",
                           "use a token with the write scope, or leave out apply=true")
        path = books.path(name)
        with books.writer(path):
            out = run_allocate(path, amount=body.amount, measure=body.measure, to=body.to,
                               by=body.by, window=body.window, dry_run=not apply,
                               origin=Origin("api-allocate", who.name, sha256=sha256))
        if not out.ok:
            raise ApiError(422, "nothing allocated", "", out.issues)
        return {"workbook": name, "amount": out.amount, "measure": out.measure, "to": out.to,
                "by": out.driver, "period": out.window, "months": list(out.months),
                "applied": out.written, "recorded": out.recorded is not None,
                "rows": out.cells, "lines": out.rows(),
                "split_equally": list(out.split_equally)}

    return BodyLimit(app, max_body)


def _fiscal_start(books: Books, name: str) -> int:
    try:
        return books.live(name).plan.settings.fiscal_year_start
    except PlanIssues:
        return 1


def _finding(f: Issue) -> dict[str, object]:
    """A verify finding as the CLI's JSON gives an issue, with its version."""
    return {**f.to_dict(), "version": f.version, "where": str(f.where)}
