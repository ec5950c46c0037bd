"""A source-only VBA project (MS-OVBA 2.2-2.3): ``vbaProject.bin`` from module texts.

The project holds no compiled code: ``_VBA_PROJECT`` carries version 0xFFFF, which tells
Office to ignore any performance cache and compile the modules from their source
(MS-OVBA 2.3.4.1), and every module's source starts at offset 0 of its stream. What is
written, per MS-OVBA section:

- 2.3.1 ``PROJECT``: the project's properties as text, with ``CMG``/``DPB``/``GC`` encrypted
  per 2.4.3 (not protected, no password, visible);
- 2.3.3 ``PROJECTwm``: module names in the code page and in UTF-16;
- 2.3.4.2 ``VBA/dir`` (compressed): SysKind Win32, LCID 0x409, code page 1252, the project
  name, references to stdole and Office (``IRibbonControl`` lives in Office), one MODULE
  record per module;
- 2.3.4.3 one compressed stream per module, named after it.
"""

from __future__ import annotations

import hashlib
import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

try:
    from . import cfb, ovba
except ImportError:  # run as a script from addin/
    import cfb  # type: ignore[no-redef]
    import ovba  # type: ignore[no-redef]

CODE_PAGE = 1252
CODEC = "cp1252"
LCID = 0x0409
SYSKIND_WIN32 = 1
VBA_PROJECT_STREAM = bytes.fromhex("CC61FFFF000000")   # Reserved1, Version 0xFFFF, 0, 0
VERSION_MAJOR, VERSION_MINOR = 1467127224, 5
VERSION_COMPATIBLE32 = "393222000"
NOT_PROTECTED, NO_PASSWORD, VISIBLE = bytes(4), bytes(1), b"\xff"   # CMG, DPB, GC data
HOST_EXTENDER = "&H00000001={3832D640-CF90-11CF-8E43-00A0C911005A};VBE;&H00000000"
REFERENCES = (
    ("stdole", "*\\G{00020430-0000-0000-C000-000000000046}#2.0#0#"
               "C:\\Windows\\SysWOW64\\stdole2.tlb#OLE Automation"),
    ("Office", "*\\G{2DF8D04C-5BFA-101B-BDE5-00AA0044DE52}#2.0#0#"
               "C:\\Program Files (x86)\\Common Files\\Microsoft Shared\\OFFICE16\\MSO.DLL"
               "#Microsoft Office 16.0 Object Library"),
)
STANDARD, DOCUMENT = "standard", "document"
NAME_LINE = re.compile(r'^Attribute VB_Name = "([A-Za-z][A-Za-z0-9_]*)"$')
MAX_MODULE_NAME = 31


class ModuleSourceError(ValueError):
    """A module source that cannot become a VBA module."""


@dataclass(frozen=True)
class Module:
    """One VBA module: ``code`` is the whole stream text (Attribute lines included),
    with CRLF line endings."""

    name: str
    kind: str
    code: str


def read_module(path: Path) -> Module:
    """A module from a ``.bas`` (standard module) or ``.cls`` (document module) file.
    The first line must be ``Attribute VB_Name = "<file stem>"``."""
    kind = {".bas": STANDARD, ".cls": DOCUMENT}.get(path.suffix.lower())
    if kind is None:
        raise ModuleSourceError(f"{path}: a module source is a .bas or .cls file")
    text = path.read_bytes().decode("utf-8")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    match = NAME_LINE.match(lines[0]) if lines else None
    if match is None:
        raise ModuleSourceError(f'{path}: the first line must be Attribute VB_Name = "Name"')
    name = match.group(1)
    if name != path.stem:
        raise ModuleSourceError(f"{path}: VB_Name {name!r} differs from the file name")
    if sum(1 for line in lines if line.startswith("Attribute VB_Name")) != 1:
        raise ModuleSourceError(f"{path}: Attribute VB_Name must appear exactly once")
    if kind == DOCUMENT and not any(line.startswith('Attribute VB_Base = "0{')
                                    for line in lines):
        raise ModuleSourceError(f"{path}: a document module needs its VB_Base attribute")
    code = "".join(line + "\r\n" for line in lines)
    try:
        code.encode(CODEC)
    except UnicodeEncodeError as exc:
        raise ModuleSourceError(f"{path}: not representable in code page {CODE_PAGE}: "
                                f"{exc.object[exc.start:exc.end]!r}") from None
    return Module(name, kind, code)


def check_modules(modules: Sequence[Module]) -> None:
    """Names unique ignoring case, at most 31 characters."""
    seen: set[str] = set()
    for module in modules:
        if len(module.name) > MAX_MODULE_NAME:
            raise ModuleSourceError(f"{module.name}: module names have at most 31 characters")
        if module.name.lower() in seen:
            raise ModuleSourceError(f"{module.name}: two modules share this name (ignoring case)")
        seen.add(module.name.lower())


def project_key(project_id: str) -> int:
    """ProjKey of MS-OVBA 2.4.3.2: the sum of the project ID's bytes, modulo 256."""
    return sum(project_id.encode(CODEC)) & 0xFF


def encrypt(data: bytes, project_id: str, seed: int, ignored: bytes) -> str:
    """MS-OVBA 2.4.3.2 data encryption, as the hex text of ``CMG``/``DPB``/``GC``.
    ``ignored`` supplies the (seed & 6) // 2 filler bytes the algorithm inserts."""
    key = project_key(project_id)
    version_enc, key_enc = seed ^ 2, seed ^ key
    out = [seed, version_enc, key_enc]
    unencrypted, enc1, enc2 = key, key_enc, version_enc
    plain = ignored[:(seed & 6) // 2] + len(data).to_bytes(4, "little") + data
    for byte in plain:
        byte_enc = byte ^ ((enc2 + unencrypted) & 0xFF)
        out.append(byte_enc)
        enc2, enc1, unencrypted = enc1, byte_enc, byte
    return bytes(out).hex().upper()


def _encrypted_field(field: str, data: bytes, project_id: str) -> str:
    """A deterministic seed and filler per field, so two builds are byte-identical."""
    digest = hashlib.sha256(f"{project_id}/{field}".encode()).digest()
    return encrypt(data, project_id, digest[0], digest[1:4])


def project_stream(name: str, project_id: str, modules: Sequence[Module]) -> bytes:
    """The PROJECT stream (MS-OVBA 2.3.1)."""
    ordered = [m for m in modules if m.kind == DOCUMENT] + [m for m in modules
                                                            if m.kind == STANDARD]
    lines = [f'ID="{project_id}"']
    lines += [f"Document={m.name}/&H00000000" if m.kind == DOCUMENT else f"Module={m.name}"
              for m in ordered]
    lines += [f'Name="{name}"', 'HelpContextID="0"',
              f'VersionCompatible32="{VERSION_COMPATIBLE32}"',
              f'CMG="{_encrypted_field("CMG", NOT_PROTECTED, project_id)}"',
              f'DPB="{_encrypted_field("DPB", NO_PASSWORD, project_id)}"',
              f'GC="{_encrypted_field("GC", VISIBLE, project_id)}"',
              "", "[Host Extender Info]", HOST_EXTENDER, "", "[Workspace]"]
    lines += [f"{m.name}=0, 0, 0, 0, C" for m in ordered]
    return "".join(line + "\r\n" for line in lines).encode(CODEC)


def projectwm_stream(modules: Sequence[Module]) -> bytes:
    """The PROJECTwm stream (MS-OVBA 2.3.3): each name in the code page and in UTF-16."""
    out = bytearray()
    for module in modules:
        out += module.name.encode(CODEC) + b"\0" + module.name.encode("utf-16-le") + b"\0\0"
    return bytes(out + b"\0\0")


def _record(record_id: int, payload: bytes) -> bytes:
    return struct.pack("<HI", record_id, len(payload)) + payload


def _text_pair(record_id: int, reserved: int, text: str) -> bytes:
    """A record holding a string in the code page, then (after ``reserved``) in UTF-16."""
    unicode = text.encode("utf-16-le")
    return _record(record_id, text.encode(CODEC)) + struct.pack("<HI", reserved,
                                                                len(unicode)) + unicode


def dir_stream(name: str, modules: Sequence[Module]) -> bytes:
    """The decompressed dir stream (MS-OVBA 2.3.4.2)."""
    out = bytearray()
    out += _record(0x0001, struct.pack("<I", SYSKIND_WIN32))
    out += _record(0x0002, struct.pack("<I", LCID))
    out += _record(0x0014, struct.pack("<I", LCID))
    out += _record(0x0003, struct.pack("<H", CODE_PAGE))
    out += _record(0x0004, name.encode(CODEC))
    out += _text_pair(0x0005, 0x0040, "")                       # PROJECTDOCSTRING
    out += _text_pair(0x0006, 0x003D, "")                       # PROJECTHELPFILEPATH
    out += _record(0x0007, struct.pack("<I", 0))                # PROJECTHELPCONTEXT
    out += _record(0x0008, struct.pack("<I", 0))                # PROJECTLIBFLAGS
    out += struct.pack("<HIIH", 0x0009, 4, VERSION_MAJOR, VERSION_MINOR)
    out += _text_pair(0x000C, 0x003C, "")                       # PROJECTCONSTANTS
    for ref_name, libid in REFERENCES:
        out += _text_pair(0x0016, 0x003E, ref_name)             # REFERENCENAME
        encoded = libid.encode(CODEC)
        out += _record(0x000D, struct.pack("<I", len(encoded)) + encoded
                       + struct.pack("<IH", 0, 0))              # REFERENCEREGISTERED
    out += _record(0x000F, struct.pack("<H", len(modules)))     # PROJECTMODULES
    out += _record(0x0013, struct.pack("<H", 0xFFFF))           # PROJECTCOOKIE
    for module in modules:
        out += _record(0x0019, module.name.encode(CODEC))       # MODULENAME
        out += _record(0x0047, module.name.encode("utf-16-le"))  # MODULENAMEUNICODE
        out += _text_pair(0x001A, 0x0032, module.name)          # MODULESTREAMNAME
        out += _text_pair(0x001C, 0x0048, "")                   # MODULEDOCSTRING
        out += _record(0x0031, struct.pack("<I", 0))            # MODULEOFFSET: no p-code
        out += _record(0x001E, struct.pack("<I", 0))            # MODULEHELPCONTEXT
        out += _record(0x002C, struct.pack("<H", 0xFFFF))       # MODULECOOKIE
        out += struct.pack("<HI", 0x0021 if module.kind == STANDARD else 0x0022, 0)
        out += struct.pack("<HI", 0x002B, 0)                    # MODULE terminator
    out += struct.pack("<HI", 0x0010, 0)                        # dir terminator
    return bytes(out)


def vba_project_bin(name: str, project_id: str, modules: Sequence[Module]) -> bytes:
    """The compound file ``xl/vbaProject.bin`` for ``modules``."""
    check_modules(modules)
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,127}", name):
        raise ModuleSourceError(f"{name!r}: a VBA project name is a VBA identifier")
    streams = {"PROJECT": project_stream(name, project_id, modules),
               "PROJECTwm": projectwm_stream(modules),
               "VBA/_VBA_PROJECT": VBA_PROJECT_STREAM,
               "VBA/dir": ovba.compress(dir_stream(name, modules))}
    for module in modules:
        streams[f"VBA/{module.name}"] = ovba.compress(module.code.encode(CODEC))
    return cfb.write_compound_file(streams)
