"""Who may call the API, and which workbook a name may reach.

Tokens come from a TOML file (``[[token]]`` tables with ``name``, ``token`` and ``scopes``, a
list of ``read`` and ``write``) or from ``SOPFIN_API_TOKENS`` (``name:token:read+write``,
comma separated). With no token configured, reads are open (the server listens on loopback
unless told otherwise) and every write is refused: no token, no write.

A workbook name is a plain file name in the root folder: no path separators, no ``..``, a
``.xlsx`` or ``.xlsm`` suffix, and a regular file whose real path (symlinks resolved) is inside
the root.
"""

from __future__ import annotations

import hmac
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

SCOPES = ("read", "write")
ENV_TOKENS = "SOPFIN_API_TOKENS"
_NAME = re.compile(r"^[^/\\\x00]{1,200}\.(xlsx|xlsm)$", re.IGNORECASE)


class TokenConfigError(ValueError):
    """The token file or variable cannot be used (a usage problem for ``sopfin serve``)."""


@dataclass(frozen=True)
class Caller:
    name: str
    scopes: frozenset[str]


ANONYMOUS = Caller("anonymous", frozenset({"read"}))


@dataclass(frozen=True)
class Tokens:
    by_secret: Mapping[str, Caller]

    @property
    def configured(self) -> bool:
        return bool(self.by_secret)

    def caller(self, secret: str | None) -> Caller | None:
        """The caller a bearer secret names (compared in constant time), ``ANONYMOUS`` when
        no token is configured and none is given, else None."""
        if not secret:
            return None if self.configured else ANONYMOUS
        found = None
        for known, caller in self.by_secret.items():
            if hmac.compare_digest(known.encode(), secret.encode()):
                found = caller
        return found


def load_tokens(path: str | Path | None, env: Mapping[str, str] = os.environ) -> Tokens:
    entries: list[tuple[str, str, list[str]]] = []
    if path is not None:
        try:
            doc = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise TokenConfigError(f"{path}: cannot read the token file ({exc})") from None
        for n, t in enumerate(doc.get("token", []), start=1):
            if not isinstance(t, Mapping):
                raise TokenConfigError(f"{path}: token #{n} is not a table")
            entries.append((str(t.get("name", "")), str(t.get("token", "")),
                            list(t.get("scopes", ["read"]))))
    for n, item in enumerate(filter(None, env.get(ENV_TOKENS, "").split(",")), start=1):
        parts = item.strip().split(":")
        if len(parts) != 3:
            raise TokenConfigError(f"{ENV_TOKENS}: entry #{n} is not name:token:scopes")
        entries.append((parts[0], parts[1], parts[2].split("+")))
    out: dict[str, Caller] = {}
    for name, secret, scopes in entries:
        if not name or len(secret) < 16:
            raise TokenConfigError(f"token {name or '(no name)'!r}: a token needs a name and "
                                   "a secret of at least 16 characters")
        bad = [s for s in scopes if s not in SCOPES]
        if bad:
            raise TokenConfigError(f"token {name!r}: unknown scope {bad[0]!r}; use read, write")
        out[secret] = Caller(name, frozenset(scopes) | {"read"})
    return Tokens(out)


class UnknownWorkbookError(LookupError):
    """No workbook of that name in the root (or the name could reach outside it)."""


def workbook_path(root: Path, name: str) -> Path:
    """The file ``name`` names in ``root``; ``UnknownWorkbookError`` for anything else."""
    if not _NAME.match(name) or name in (".", "..") or name.startswith("."):
        raise UnknownWorkbookError(f"{name!r} is not a workbook name (a file name ending "
                                   ".xlsx or .xlsm)")
    real_root = root.resolve()
    path = real_root / name
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError):
        raise UnknownWorkbookError(f"no workbook {name!r}") from None
    if real.parent != real_root or not real.is_file():
        raise UnknownWorkbookError(f"no workbook {name!r}")
    return real
