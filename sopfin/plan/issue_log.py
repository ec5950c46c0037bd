"""The issues a read collects: the first ``ISSUES_PER_CODE`` per code and sheet are kept and
the rest counted in one summary issue, so a sheet with ten thousand bad cells gives a readable
list; and the "did you mean" hint for a name that is nearly a known one."""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Iterable, Sequence

from sopfin.model import CellRef, Issue, IssueCode, Severity

ISSUES_PER_CODE = 50  # issues kept per code and sheet; the rest are counted in one summary


class IssueLog:
    """Collects issues, keeping the first ``limit`` per code and sheet and counting the rest."""

    def __init__(self, limit: int = ISSUES_PER_CODE) -> None:
        self.limit = limit
        self._kept: list[Issue] = []
        self._counts: Counter[tuple[IssueCode, str]] = Counter()
        self._severity: dict[tuple[IssueCode, str], Severity] = {}

    def room(self, code: IssueCode, sheet: str) -> int:
        return max(0, self.limit - self._counts[(code, sheet)])

    def add(self, issue: Issue) -> None:
        key = (issue.code, issue.sheet)
        self._counts[key] += 1
        self._severity.setdefault(key, issue.severity)
        if self._counts[key] <= self.limit:
            self._kept.append(issue)

    def extend(self, issues: Sequence[Issue]) -> None:
        for issue in issues:
            self.add(issue)

    def count_more(self, code: IssueCode, severity: Severity, sheet: str, n: int) -> None:
        """Count ``n`` further issues that were not built because the limit is reached."""
        if n > 0:
            self._counts[(code, sheet)] += n
            self._severity.setdefault((code, sheet), severity)

    def issues(self) -> list[Issue]:
        out = list(self._kept)
        for (code, sheet), count in self._counts.items():
            if count > self.limit:
                out.append(Issue(code, self._severity[(code, sheet)], CellRef(sheet),
                                 f"\u2026 and {count - self.limit:,} more {code.value} issues "
                                 "like the ones above", "fix those, then check again",
                                 more=count - self.limit))
        return out


def suggest_name(name: str, known: Iterable[str]) -> str:
    """' (did you mean 'X'?)' for a known name equal but for case, or close; else ''."""
    known = list(known)
    same = [k for k in known if k.casefold() == name.casefold()]
    close = same or difflib.get_close_matches(name, known, n=1, cutoff=0.8)
    return f" (did you mean {close[0]!r}?)" if close else ""
