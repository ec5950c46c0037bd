"""Sheet and workbook protection passwords, hashed the way Excel 2010 and later do it.

ECMA-376 Part 1 (``sheetProtection``, ``workbookProtection``) stores a password as four
attributes: ``algorithmName``, ``hashValue``, ``saltValue`` and ``spinCount``. The hash is the
salted, iterated password verifier of agile encryption (ECMA-376 Part 2)::

    H0    = H(salt || password as UTF-16LE)
    Hi+1  = H(Hi || i as 4-byte little-endian)        for i in 0 .. spinCount - 1
    hashValue = base64(H_spinCount), saltValue = base64(salt)

Checked against workbooks written by Excel itself (the ClosedXML and Apache POI test files in
the shared corpus reproduce bit for bit).

Why not the legacy ``password`` attribute. Excel 97-2007 wrote a 16-bit hex hash
(``<sheetProtection password="CC3D"/>``) built by rotating and XOR-ing the password's bytes.
It has 32,768 useful values, is unsalted and unspun, and many short strings collide with any
given value, so anyone can produce *a* password that unlocks the sheet in well under a second.
Excel 2013+ no longer writes it when a strong algorithm is available, and LibreOffice and
Excel both accept the agile form. sopfin therefore writes only the agile hash and never the
legacy one.

What protection is not. Whatever the hash, sheet protection only tells Excel's user interface
to refuse edits: the ``<sheetProtection>`` element can be deleted from the package with a zip
tool, after which the sheet is editable. It prevents accidents, not fraud. Tamper evidence for
published reconciliations comes from the version ledger (``sopfin.close.ledger``), not from here.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

from sopfin.sheetspec import SheetProtection

# ECMA-376 algorithm names -> hashlib names. MD5 and SHA-1 are accepted when checking a
# password found in a file, never offered when hashing a new one.
_CHECKABLE = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384",
              "SHA-512": "sha512"}
_WRITABLE = ("SHA-256", "SHA-384", "SHA-512")

SALT_BYTES = 16  # what Excel uses
DEFAULT_SPIN_COUNT = 100_000  # what Excel uses
MAX_SPIN_COUNT = 10_000_000  # ECMA-376 upper bound; also bounds the cost of a check
MAX_PASSWORD_LENGTH = 255  # Excel's limit on protection passwords


def hash_password(password: str, *, salt: bytes | None = None,
                  spin_count: int = DEFAULT_SPIN_COUNT,
                  algorithm: str = "SHA-512") -> SheetProtection:
    """Hash ``password`` into the four ``sheetProtection`` attributes.

    A random 16-byte salt is drawn from ``secrets`` unless one is given (give one only to
    reproduce a known hash). The empty password means "protected without a password" and
    returns a ``SheetProtection`` whose fields are all None, as Excel writes it.
    """
    if algorithm not in _WRITABLE:
        raise ValueError(f"protection algorithm {algorithm!r} is not offered for new "
                         f"passwords; use one of {', '.join(_WRITABLE)}")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValueError(f"a protection password has at most {MAX_PASSWORD_LENGTH} "
                         f"characters; got {len(password)}")
    _check_spin_count(spin_count)
    if password == "":
        return SheetProtection()
    if salt is None:
        salt = secrets.token_bytes(SALT_BYTES)
    if not salt:
        raise ValueError("the salt must not be empty")
    digest = _agile_hash(password, salt, spin_count, _CHECKABLE[algorithm])
    return SheetProtection(
        algorithm_name=algorithm,
        hash_value=base64.b64encode(digest).decode("ascii"),
        salt_value=base64.b64encode(salt).decode("ascii"),
        spin_count=spin_count,
    )


def check_password(password: str, protection: SheetProtection) -> bool:
    """True when ``password`` unlocks ``protection``.

    A protection without a hash (protected without a password) is unlocked by the empty
    password only. A hash that cannot be checked (unknown algorithm, unreadable base64, spin
    count out of range) unlocks with nothing: False.
    """
    if protection.hash_value is None:
        return password == ""
    name = _CHECKABLE.get(protection.algorithm_name or "")
    spin_count = protection.spin_count if protection.spin_count is not None else 0
    if name is None or not 0 <= spin_count <= MAX_SPIN_COUNT:
        return False
    try:
        expected = base64.b64decode(protection.hash_value, validate=True)
        salt = base64.b64decode(protection.salt_value or "", validate=True)
    except (binascii.Error, ValueError):
        return False
    return hmac.compare_digest(_agile_hash(password, salt, spin_count, name), expected)


def _agile_hash(password: str, salt: bytes, spin_count: int, hashlib_name: str) -> bytes:
    new = getattr(hashlib, hashlib_name)
    digest: bytes = new(salt + password.encode("utf-16-le")).digest()
    for i in range(spin_count):
        digest = new(digest + i.to_bytes(4, "little")).digest()
    return digest


def _check_spin_count(spin_count: int) -> None:
    if not 0 <= spin_count <= MAX_SPIN_COUNT:
        raise ValueError(f"spin count must be between 0 and {MAX_SPIN_COUNT:,}; "
                         f"got {spin_count:,}")
