"""Sheet protection hashes, checked against workbooks that Excel itself protected.

The passwords are the ones each project's own test suite uses on its file:
ClosedXML unprotects ``SHA512PasswordProtection.xlsx`` Sheet2 with "abc"
(XLSheetProtectionTests.TestWorksheetWithSha512Protection); Apache POI validates
``workbookProtection-sheet_password-2013.xlsx`` with "pwd" (protectSheet_lowlevel_2013).
"""

from __future__ import annotations

import base64
import re
import zipfile
from pathlib import Path

import pytest

from sopfin.close.protection import check_password, hash_password
from sopfin.sheetspec import SheetProtection

CORPUS_CASES = [
    ("016_ClosedXML_SHA512PasswordProtection.xlsx", "xl/worksheets/sheet2.xml", "abc"),
    ("059_poi_workbookProtection-sheet_password-2013.xlsx", "xl/worksheets/sheet1.xml", "pwd"),
]


def stored_protection(path: Path, part: str) -> SheetProtection:
    """The <sheetProtection> attributes of one worksheet part, read straight from the zip."""
    xml = zipfile.ZipFile(path).read(part).decode("utf-8")
    element = re.search(r"<sheetProtection\b[^>]*>", xml)
    assert element, f"{path.name}:{part} has no sheetProtection"
    attrs = dict(re.findall(r'(\w+)="([^"]*)"', element.group(0)))
    return SheetProtection(algorithm_name=attrs["algorithmName"], hash_value=attrs["hashValue"],
                           salt_value=attrs["saltValue"], spin_count=int(attrs["spinCount"]))


@pytest.mark.parametrize(("name", "part", "password"), CORPUS_CASES)
def test_reproduces_the_hash_excel_stored(corpus_dir, name, part, password):
    stored = stored_protection(corpus_dir / name, part)
    assert stored.algorithm_name == "SHA-512" and stored.spin_count == 100_000
    ours = hash_password(password, salt=base64.b64decode(stored.salt_value),
                         spin_count=stored.spin_count, algorithm=stored.algorithm_name)
    assert ours == stored


@pytest.mark.parametrize(("name", "part", "password"), CORPUS_CASES)
def test_checks_excels_hash(corpus_dir, name, part, password):
    stored = stored_protection(corpus_dir / name, part)
    assert check_password(password, stored)
    assert not check_password(password.upper(), stored)
    assert not check_password(password + " ", stored)


def test_round_trip_with_a_random_salt():
    protection = hash_password("Close-2025/03 ünïcødé 𝄞")
    assert protection.algorithm_name == "SHA-512"
    assert protection.spin_count == 100_000
    assert len(base64.b64decode(protection.salt_value)) == 16
    assert len(base64.b64decode(protection.hash_value)) == 64
    assert check_password("Close-2025/03 ünïcødé 𝄞", protection)
    assert not check_password("Close-2025/03 unicode", protection)


def test_salts_are_fresh_each_time():
    first = hash_password("same", spin_count=10)
    second = hash_password("same", spin_count=10)
    assert first.salt_value != second.salt_value
    assert first.hash_value != second.hash_value
    assert check_password("same", first) and check_password("same", second)


@pytest.mark.parametrize(("algorithm", "digest_bytes"),
                         [("SHA-256", 32), ("SHA-384", 48), ("SHA-512", 64)])
def test_other_strong_algorithms_round_trip(algorithm, digest_bytes):
    protection = hash_password("pwd", algorithm=algorithm, spin_count=1_000)
    assert len(base64.b64decode(protection.hash_value)) == digest_bytes
    assert check_password("pwd", protection)
    assert not check_password("pwe", protection)


def test_spin_count_is_part_of_the_hash():
    salt = b"\x01" * 16
    assert (hash_password("pwd", salt=salt, spin_count=10).hash_value
            != hash_password("pwd", salt=salt, spin_count=11).hash_value)


def test_the_empty_password_means_protected_without_a_password():
    protection = hash_password("")
    assert protection == SheetProtection()
    assert check_password("", protection)
    assert not check_password("anything", protection)


def test_weak_or_unknown_algorithms_are_not_offered():
    with pytest.raises(ValueError, match="SHA-512"):
        hash_password("pwd", algorithm="SHA-1")
    with pytest.raises(ValueError, match="SHA-512"):
        hash_password("pwd", algorithm="WHIRLPOOL")


def test_limits_are_enforced():
    with pytest.raises(ValueError, match="255"):
        hash_password("x" * 256)
    with pytest.raises(ValueError, match="spin count"):
        hash_password("pwd", spin_count=-1)


def test_an_uncheckable_stored_hash_unlocks_with_nothing():
    good = hash_password("pwd", spin_count=5)
    assert not check_password("pwd", SheetProtection("SHA-512", "not base64!", good.salt_value, 5))
    assert not check_password("pwd", SheetProtection("RIPEMD-128", good.hash_value,
                                                     good.salt_value, 5))
    assert not check_password("pwd", SheetProtection("SHA-512", good.hash_value,
                                                     good.salt_value, 20_000_000))
