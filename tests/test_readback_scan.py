"""The row scanner reads exactly what the lxml reader read.

The reference is the reader as it was before the scanner (``xlsx_helpers.readback_reference``,
lxml only). Both read: every sheet of every workbook in the shared corpus; sheets generated
by Hypothesis in every cell shape the module docstring promises (shared and inline strings,
booleans, errors, dates, formulas with shared and array ones, entities, pretty-printed XML)
and in shapes the scanner leaves to lxml (namespace prefixes, comments, cells without ``r``,
rich text, rows out of order), read in chunks small enough to split rows and characters; and
sopfin's own output, as written and as LibreOffice saves it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sopfin.layout import column_letter
from sopfin.sheetspec import Block, SheetSpec
from sopfin.xlsx import readback, rowscan
from sopfin.xlsx.readback import read_cell_rows, read_cells
from sopfin.xlsx.writer import create_workbook, sheet_names
from xlsx_helpers import readback_reference as reference
from xlsx_helpers.libreoffice import convert
from xlsx_helpers.packages import rebuild

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
CORPUS_FILES = ([e["file"] for e in json.loads((CORPUS / "MANIFEST.json").read_text())]
                if (CORPUS / "MANIFEST.json").exists() else [])
SST_TEXTS = ["Family", "PUMPS-200 ", "東京", "a&b", ""]


def shown(cells: dict[str, dict[str, object]]) -> dict[str, list[tuple[str, str]]]:
    """Cells in a form that compares NaN and types exactly."""
    return {name: sorted((ref, f"{type(v).__name__}:{v!r}") for ref, v in sheet.items())
            for name, sheet in cells.items()}


def outcome(read, path: Path, names: list[str]) -> object:
    try:
        return shown(read(path, names))
    except Exception as exc:  # noqa: BLE001  (the same failure is the same outcome)
        return type(exc).__name__


def streamed(path: Path, names: list[str]) -> dict[str, dict[str, object]]:
    """read_cell_rows, merged the way read_cells merges rows."""
    out = {}
    for name, rows in read_cell_rows(path, names).items():
        cells: dict[str, object] = {}
        for row in rows:
            for column, value in row.cells().items():
                cells[f"{column}{row.number}"] = value
        out[name] = cells
    return out


@pytest.fixture
def no_fallback(monkeypatch):
    """Fail if any sheet is handed to the lxml reader."""
    def refuse(*_args):
        raise AssertionError("the scanner handed a sheet to lxml")
    monkeypatch.setattr(readback, "_lxml_rows", refuse)


# --- the corpus -------------------------------------------------------------------------------
@pytest.mark.corpus
@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("file", CORPUS_FILES)
def test_every_corpus_workbook_reads_as_with_lxml(file):
    path = CORPUS / file
    try:
        names = sheet_names(path)
    except Exception:  # noqa: BLE001  (refused packages: nothing to read)
        pytest.skip("sopfin refuses this package")
    expected = outcome(reference.read_cells, path, names)
    assert outcome(read_cells, path, names) == expected
    assert outcome(streamed, path, names) == expected
    lxml_only = outcome(lambda p, n: read_cells(p, n, scan=False), path, names)
    assert lxml_only == expected


# --- generated sheets ---------------------------------------------------------------------------
def escape(text: str, how: int) -> str:
    """Text as XML content, escaped one of several legal ways."""
    named = {"&": "&amp;", "<": "&lt;", ">": "&gt;" if how == 1 else ">",
             '"': "&quot;" if how == 1 else '"'}
    out = []
    for c in text:
        if how == 2 and c in "ABab":
            out.append(f"&#{ord(c)};")
        elif how == 3 and c in "15":
            out.append(f"&#x{ord(c):X};")
        else:
            out.append(named.get(c, c))
    return "".join(out)


TEXTS = st.sampled_from(["12.5", " 7 ", "1e3", "-0", "", "abc", "a&b<c>", "#N/A", "#DIV/0!",
                         "1", "true", "0", "2027-03-01T00:00:00", "2027-13-01", "東京", "3",
                         "line\nbreak", "tab\there", " lead", "9" * 20])
PLAIN_TEXTS = st.sampled_from(["12.5", " 7 ", "1e3", "-0", "", "abc", "#N/A", "1", "true",
                               "0", "2027-03-01T00:00:00", "x y", "東京", "3", "2"])
FORMULAS = st.sampled_from(["B1*2", "SUM(A1:A3)", 'IF(A1>0,"yes","")', "A1&B1", "$B$1+C2",
                            "'My Sheet'!A1", "SUM( A1 , B2 )", "=A1", "Demand!D4", "TRUE()"])
PLAIN_FORMULAS = st.sampled_from(["B1*2", "SUM(A1:A3)", '"yes"', "$B$1+C2", "Demand!D4"])
SPACE = st.sampled_from(["", "", "", "\n  ", " "])
PLAIN, USUAL, UNUSUAL = "plain", "usual", "unusual"  # what the scanner keeps undecoded,
# what it decodes itself, what it leaves to lxml


def pick(draw, usual: list, unusual: list, mode: str) -> object:
    return draw(st.sampled_from(usual + unusual if mode == UNUSUAL else usual))


@st.composite
def cell_xml(draw, row: int, col: int, shared: list[int], mode: str) -> str:
    """One <c> element in a shape writers use; in UNUSUAL mode also others."""
    ref_style = pick(draw, ["ok"], ["none", "lower", "other-row", "late"], mode)
    ref = f"{column_letter(col)}{row if ref_style != 'other-row' else row + 3}"
    attrs = []
    kind = draw(st.sampled_from([None, "n", "s", "str", "b", "e", "d", "inlineStr"]))
    if draw(st.booleans()):
        attrs.append(f's="{draw(st.integers(0, 5))}"')
    if kind is not None:
        attrs.append(f't="{kind}"')
    if draw(st.integers(0, 9)) == 0:
        attrs.append('vm="1"')
    if mode == UNUSUAL and draw(st.booleans()):
        attrs = [a.replace('"', "'") for a in attrs]
    if ref_style == "lower":
        attrs.insert(0, f'r="{ref.lower()}"')
    elif ref_style == "late":
        attrs.append(f'r="{ref}"')
    elif ref_style != "none":
        attrs.insert(0, f'r="{ref}"')
    gap = draw(SPACE)
    children = []
    escaping = 0 if mode == PLAIN else draw(st.integers(0, 3))
    f_kinds = [None, None, "plain", "plain", "plain", "empty"]
    if mode != PLAIN:
        f_kinds += ["aca", "master", "dependent", "array"]
    f_kind = draw(st.sampled_from(f_kinds))
    formula = draw(FORMULAS if escaping else PLAIN_FORMULAS)
    text = escape(formula, escaping)
    if f_kind == "plain":
        children.append(f"<f>{text}</f>")
    elif f_kind == "aca":
        children.append(f'<f aca="false">{text}</f>')
    elif f_kind == "empty":
        children.append(draw(st.sampled_from(["<f/>", "<f></f>"])))
    elif f_kind == "master":
        si = draw(st.integers(0, 2))
        shared.append(si)
        children.append(f'<f t="shared" ref="{ref}:{column_letter(col)}{row + 4}" '
                        f'si="{si}">{text}</f>')
    elif f_kind == "dependent":
        si = draw(st.sampled_from(shared or [0]))
        children.append(draw(st.sampled_from([f'<f t="shared" si="{si}"/>',
                                              f'<f t="shared" si="{si}"></f>'])))
    elif f_kind == "array":
        last = f"{column_letter(col + 1)}{row + 2}"
        children.append(f'<f t="array" ref="{ref}:{last}">{text}</f>')
    v_kind = draw(st.sampled_from(["text", "text", "index", "none", "empty", "preserve"]))
    value = escape(draw(TEXTS if escaping else PLAIN_TEXTS), escaping)
    if v_kind == "index":
        value = str(draw(st.integers(-1, len(SST_TEXTS))))
    if v_kind in ("text", "index"):
        children.append(f"<v>{value}</v>")
    elif v_kind == "empty":
        children.append("<v/>")
    elif v_kind == "preserve":
        children.append(f'<v xml:space="preserve">{value}</v>')
    is_kind = pick(draw, [None, None, "t", "preserve"], ["rich", "phonetic"], mode)
    text = escape(draw(TEXTS if escaping else PLAIN_TEXTS), escaping)
    if is_kind == "t":
        children.append(f"<is><t>{text}</t></is>")
    elif is_kind == "preserve":
        children.append(f'<is><t xml:space="preserve">{text}</t></is>')
    elif is_kind == "rich":
        children.append(f"<is><r><t>{text}</t></r><r><rPr><b/></rPr><t>x</t></r></is>")
    elif is_kind == "phonetic":
        children.append(f"<is><t>{text}</t><rPh sb=\"0\" eb=\"1\"><t>y</t></rPh></is>")
    head = "<c" + "".join(f" {a}" for a in attrs)
    if not children and draw(st.booleans()):
        return head + "/>"
    return head + ">" + gap + gap.join(children) + gap + "</c>"


@st.composite
def sheet_xml(draw) -> str:
    """A worksheet part: rows of cells; one in four with what only lxml reads."""
    mode = draw(st.sampled_from([PLAIN, USUAL, USUAL, UNUSUAL]))
    rows = []
    number = 0
    shared: list[int] = []
    for _ in range(draw(st.integers(0, 6))):
        number = max(1, number + pick(draw, [1, 1, 1, 2], [0, -1], mode))
        numbered = mode == USUAL or draw(st.integers(0, 3)) > 0
        attrs = f' r="{number}"' if numbered else ""
        if draw(st.booleans()):
            attrs += ' spans="1:12"'
        cols = draw(st.lists(st.integers(1, 12), max_size=6))
        if mode == PLAIN:
            cols = sorted(set(cols))
        cells = [draw(cell_xml(number, col, shared, mode)) for col in cols]
        gap = draw(SPACE)
        if not cells and draw(st.booleans()):
            rows.append(f"<row{attrs}/>")
        else:
            rows.append(f"<row{attrs}>{gap}{gap.join(cells)}{gap}</row>")
    extra = pick(draw, ["none", "none", "crlf", "empty", "bom"],
                 ["comment", "prefix", "ext", "drawing"], mode)
    between = "<!-- a comment -->" if extra == "comment" else draw(SPACE)
    data = between.join(rows)
    sheet_data = "<sheetData/>" if extra == "empty" and not rows else \
        f"<sheetData>{data}</sheetData>"
    tail = ('<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" '
            'footer="0.3"/>')
    if extra == "drawing":
        tail += ('<x:anchor xmlns:x="urn:drawing"><x:row>2</x:row><x:row>5</x:row>'
                 "</x:anchor>")
    xml = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet '
           f'xmlns="{MAIN}"><dimension ref="A1"/>{sheet_data}{tail}</worksheet>')
    if extra == "crlf":
        xml = xml.replace("\n", "\r\n")
    elif extra == "prefix":
        xml = (xml.replace(f'xmlns="{MAIN}"', f'xmlns:x="{MAIN}"')
               .replace("<", "<x:").replace("<x:/", "</x:").replace("<x:?", "<?")
               .replace("<x:!", "<!"))
    elif extra == "ext" and "</row>" in xml:
        xml = xml.replace("</row>", '<extLst><ext uri="x"/></extLst></row>', 1)
    elif extra == "bom":
        xml = "\ufeff" + xml
    return xml


SST = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="{MAIN}">'
       + "".join(f"<si><t>{escape(t, 0)}</t></si>" for t in SST_TEXTS) + "</sst>")


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    """A workbook with one sheet 'Plan' and a shared-strings part; examples replace the
    sheet's XML."""
    path = tmp_path_factory.mktemp("scan") / "base.xlsx"
    create_workbook(path, [SheetSpec("Plan", blocks=[Block(1, 1, [["x"]])], owned=False)])

    def edit(p: dict[str, bytes]) -> dict[str, bytes]:
        rels = p["xl/_rels/workbook.xml.rels"].replace(b"</Relationships>", (
            b'<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/officeDocument/'
            b'2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>'))
        return {**p, "xl/sharedStrings.xml": SST.encode(), "xl/_rels/workbook.xml.rels": rels}

    rebuild(path, edit)
    return path


def with_sheet(base: Path, xml: str) -> Path:
    path = base.with_name("example.xlsx")
    shutil.copyfile(base, path)
    sheet = next(n for n in reference_parts(base) if n.startswith("xl/worksheets/"))
    rebuild(path, lambda p: {**p, sheet: xml.encode("utf-8")})
    return path


def reference_parts(path: Path) -> list[str]:
    import zipfile
    with zipfile.ZipFile(path) as zf:
        return zf.namelist()


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(xml=sheet_xml(), chunk=st.sampled_from([rowscan.CHUNK_BYTES, 7, 64, 1000]))
def test_generated_sheets_read_as_with_lxml(base, monkeypatch, xml, chunk):
    monkeypatch.setattr(rowscan, "CHUNK_BYTES", chunk)
    path = with_sheet(base, xml)
    expected = outcome(reference.read_cells, path, ["Plan"])
    assert outcome(read_cells, path, ["Plan"]) == expected, xml
    assert outcome(streamed, path, ["Plan"]) == expected, xml


def test_plain_rows_are_scanned_not_parsed(base, no_fallback):
    """Shapes from sopfin, Excel, LibreOffice and openpyxl: no sheet goes to lxml."""
    xml = (f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}"><sheetData>'
           '<row r="1" spans="1:3"><c r="A1" t="s"><v>0</v></c><c r="B1" s="2"><f>A1*2</f>'
           '<v>3</v></c><c r="C1" t="inlineStr"><is><t xml:space="preserve">x </t></is></c>'
           '</row><row r="2"/><row r="3"><c r="A3" s="1" t="str"><f aca="false">B1&amp;"x"'
           '</f><v>3x</v></c><c r="B3" t="e"><f>1/0</f><v>#DIV/0!</v></c><c r="C3"/></row>'
           '<row r="4">\n  <c r="A4">\n    <f t="shared" ref="A4:A5" si="0">A3+1</f>\n    '
           '<v>1</v>\n  </c>\n</row><row r="5"><c r="A5"><f t="shared" si="0"/><v/></c></row>'
           "</sheetData></worksheet>")
    path = with_sheet(base, xml)
    assert shown(read_cells(path, ["Plan"])) == shown(reference.read_cells(path, ["Plan"]))
    assert read_cells(path, ["Plan"])["Plan"]["A5"].formula == "A4+1"


def test_an_unusual_row_hands_the_rest_of_the_sheet_to_lxml(base, monkeypatch):
    """The rows before the first one the scanner cannot read are not read twice."""
    calls = []
    original = readback._lxml_rows

    def spy(*args):
        calls.append(args)
        yield from original(*args)
    monkeypatch.setattr(readback, "_lxml_rows", spy)
    xml = (f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}"><sheetData>'
           '<row r="1"><c r="A1"><v>1</v></c></row><row r="2"><c r="A2"><v>2</v></c></row>'
           '<row r="3"><c><v>3</v></c></row><row r="4"><c r="B4"><v>4</v></c></row>'
           "</sheetData></worksheet>")
    path = with_sheet(base, xml)
    rows = [(r.number, dict(r.cells())) for r in read_cell_rows(path, ["Plan"])["Plan"]]
    assert rows == [(1, {"A": 1.0}), (2, {"A": 2.0}), (3, {"A": 3.0}), (4, {"B": 4.0})]
    assert len(calls) == 1


# --- sopfin's own output -----------------------------------------------------------------------
def test_sopfins_own_sheets_are_scanned_and_read_as_with_lxml(closed_demo, no_fallback):
    names = sheet_names(closed_demo)
    expected = shown(reference.read_cells(closed_demo, names))
    assert shown(read_cells(closed_demo, names)) == expected
    assert shown(streamed(closed_demo, names)) == expected


@pytest.mark.libreoffice
def test_sopfins_sheets_saved_by_libreoffice_read_as_with_lxml(closed_demo, soffice, tmp_path):
    out = convert(soffice, [closed_demo], tmp_path / "lo", fmt="xlsx")[closed_demo]
    assert out is not None
    names = sheet_names(out)
    expected = shown(reference.read_cells(out, names))
    assert shown(read_cells(out, names)) == expected
    assert shown(streamed(out, names)) == expected
