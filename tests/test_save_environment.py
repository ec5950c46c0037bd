"""The save respects the file and its surroundings: a read-only file is refused (even for
root), owner, group, mode, extended attributes and ACLs survive, what cannot be kept is said,
an app's lock file beside a symlink's target counts, and environment faults (a read-only
folder, a full disk, a symlink loop, a folder as PATH, a device or huge key file) are one
clear line, exit 2, the original untouched and no temporary file left."""

from __future__ import annotations

import os
import resource
import shutil
import struct
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Iterator
from pathlib import Path

import pytest

from sopfin.cli import main

NOBODY = 65534
AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
needs_root = pytest.mark.skipif(not AS_ROOT, reason="changes owners and runs as another user")
ACL_XATTR = "system.posix_acl_access"


@pytest.fixture(scope="module")
def demo_plan(built_demo, tmp_path_factory) -> Path:
    warm = tmp_path_factory.mktemp("plan") / "warm.xlsx"
    shutil.copyfile(built_demo, warm)  # loads what a dollarize imports, so that
    assert main(["dollarize", str(warm), "-q"]) == 0  # run_as_user needs none
    return built_demo


@pytest.fixture
def open_dir() -> Iterator[Path]:
    """A folder every user can reach (pytest's own is private to its user)."""
    folder = Path(tempfile.mkdtemp(prefix="sopfin-save-", dir="/tmp"))
    folder.chmod(0o777)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def plan(demo_plan: Path, open_dir: Path) -> Path:
    target = open_dir / "plan.xlsx"
    shutil.copyfile(demo_plan, target)
    return target


def run_sopfin(*args: str, memory: int = 3 << 30) -> subprocess.CompletedProcess:
    """The command as a user runs it, in its own process with a memory ceiling."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    return subprocess.run([sys.executable, "-m", "sopfin.cli", *args], capture_output=True,
                          text=True, timeout=120, preexec_fn=limit)


def run_as_user(uid: int, *args: str) -> subprocess.CompletedProcess:
    """The command run by another user: a forked copy of this process drops root and calls
    the CLI (the interpreter itself may sit where that user cannot read, so no exec)."""
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 99
        try:
            os.dup2(out_w, 1)
            os.dup2(err_w, 2)
            sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115
            sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            code = main(list(args))
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    os.close(out_w)
    os.close(err_w)
    with os.fdopen(out_r) as out, os.fdopen(err_r) as err:
        stdout, stderr = out.read(), err.read()
    _, status = os.waitpid(pid, 0)
    return subprocess.CompletedProcess(args, os.waitstatus_to_exitcode(status), stdout, stderr)


def leftovers(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir() if p.name.startswith(f".{path.name}"))


def assert_refused(proc: subprocess.CompletedProcess, path: Path, old: bytes, words: str):
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], proc.stderr
    assert path.read_bytes() == old and leftovers(path) == []


# --- permissions and ownership -------------------------------------------------------------
@pytest.mark.parametrize("command", ["dollarize", "reconcile", "close"])
def test_a_read_only_file_is_refused_even_for_root(plan: Path, command: str, capsys):
    plan.chmod(0o444)
    old = plan.read_bytes()
    assert main([command, str(plan), "-q"]) == 2
    err = capsys.readouterr().err.strip()
    assert "the file is read-only (mode 0444" in err and len(err.splitlines()) == 1
    assert plan.read_bytes() == old and plan.stat().st_mode & 0o777 == 0o444
    assert leftovers(plan) == []


@needs_root
def test_a_file_the_user_may_not_write_is_not_replaced(plan: Path):
    plan.chmod(0o644)  # root's file in a folder everyone may write
    old = plan.read_bytes()
    proc = run_as_user(NOBODY, "dollarize", str(plan), "-q")
    assert_refused(proc, plan, old, "you do not have write permission")
    assert plan.stat().st_uid == 0


def acl_giving_nobody_write() -> bytes:
    """A POSIX access ACL (the kernel's xattr form): owner rw, nobody rw, group r, mask rw."""
    entries = [(0x01, 6, 0xFFFFFFFF), (0x02, 6, NOBODY), (0x04, 4, 0xFFFFFFFF),
               (0x10, 6, 0xFFFFFFFF), (0x20, 0, 0xFFFFFFFF)]
    return struct.pack("<I", 2) + b"".join(struct.pack("<HHI", *e) for e in entries)


def metadata(path: Path) -> tuple:
    st = path.stat()
    attrs = {name: os.getxattr(path, name) for name in os.listxattr(path)}
    return st.st_uid, st.st_gid, st.st_mode & 0o7777, attrs


@needs_root
def test_owner_group_mode_and_extended_attributes_survive_a_save_by_root(plan: Path):
    os.chown(plan, NOBODY, NOBODY)
    try:
        os.setxattr(plan, "user.sopfin.reviewed", b"yes")
        os.setxattr(plan, ACL_XATTR, acl_giving_nobody_write())
    except OSError as exc:
        pytest.skip(f"this filesystem keeps no extended attributes or ACLs: {exc}")
    plan.chmod(0o660)  # after the ACL: its mask is the group bits
    before = metadata(plan)
    old = plan.read_bytes()
    assert main(["dollarize", str(plan), "-q"]) == 0
    assert plan.read_bytes() != old, "nothing was written"
    assert metadata(plan) == before
    assert set(before[3]) == {"user.sopfin.reviewed", ACL_XATTR}


@needs_root
def test_what_a_save_cannot_keep_is_said(plan: Path):
    os.chown(plan, 0, NOBODY)
    plan.chmod(0o664)  # the user may write it through its group, but cannot own it as root
    proc = run_as_user(NOBODY, "dollarize", str(plan), "-q")
    assert proc.returncode == 0, proc.stderr
    assert "warning: the saved file could not keep the original's owner (uid 0)" in proc.stdout
    st = plan.stat()
    assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (NOBODY, NOBODY, 0o664)


# --- open in an app, through a link --------------------------------------------------------
@pytest.mark.parametrize("lock", ["~$plan.xlsx", ".~lock.plan.xlsx#"])
def test_an_app_lock_beside_the_symlinks_target_refuses(plan: Path, tmp_path: Path, lock: str,
                                                        capsys):
    link = tmp_path / "shortcut.xlsx"
    link.symlink_to(plan)
    (plan.parent / lock).write_text("someone")
    old = plan.read_bytes()
    assert main(["dollarize", str(link), "-q"]) == 2
    assert "the workbook is open in Excel or LibreOffice" in capsys.readouterr().err
    assert plan.read_bytes() == old and link.is_symlink()


# --- environment faults --------------------------------------------------------------------
def test_a_read_only_folder_is_one_line(plan: Path):
    plan.chmod(0o666)
    plan.parent.chmod(0o555)
    old = plan.read_bytes()
    try:
        proc = (run_as_user(NOBODY, "dollarize", str(plan), "-q") if AS_ROOT
                else run_sopfin("dollarize", str(plan), "-q"))
    finally:
        plan.parent.chmod(0o777)
    assert_refused(proc, plan, old, "cannot write in its folder")


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 400 KiB filesystem: room for the plan, not for the dollarized workbook."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=400k", "tmpfs", str(mount)],
                          capture_output=True)
    if done.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


def test_a_full_disk_is_one_line_and_leaves_no_temp(demo_plan: Path, tiny_disk: Path):
    plan = tiny_disk / "plan.xlsx"
    shutil.copyfile(demo_plan, plan)
    old = plan.read_bytes()
    proc = run_sopfin("dollarize", str(plan), "-q")
    assert_refused(proc, plan, old, "could not save (No space left on device)")
    assert sorted(p.name for p in tiny_disk.iterdir()) == ["plan.xlsx"]


@pytest.mark.parametrize("command", ["check", "dollarize", "close", "init", "verify"])
def test_a_symlink_loop_is_one_line(tmp_path: Path, command: str, capsys):
    loop = tmp_path / "a.xlsx"
    loop.symlink_to(tmp_path / "b.xlsx")
    (tmp_path / "b.xlsx").symlink_to(loop)
    assert main([command, str(loop)]) == 2
    assert capsys.readouterr().err.strip() == (
        "sopfin: a.xlsx: not a workbook file: it is a symbolic link that loops back on itself; "
        "give the path of an .xlsx or .xlsm file.")


@pytest.mark.parametrize("command", [["check"], ["dollarize"], ["close"], ["init"],
                                     ["new", "--force"]])
def test_a_folder_given_as_path_is_one_line(tmp_path: Path, command: list[str], capsys):
    folder = tmp_path / "plan.xlsx"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine")
    assert main([command[0], str(folder), *command[1:], "-q"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == ("sopfin: plan.xlsx: not a workbook file: it is a folder; give the path of "
                   "an .xlsx or .xlsm file.")
    assert (folder / "keep.txt").read_text() == "mine"


@pytest.mark.parametrize("key", ["device", "pipe", "huge"])
def test_a_key_file_that_is_no_key_is_one_line(plan: Path, tmp_path: Path, key: str):
    if key == "device":
        key_file = Path("/dev/zero")
    elif key == "pipe":
        key_file = tmp_path / "key.fifo"
        os.mkfifo(key_file)
    else:
        key_file = tmp_path / "huge.key"
        with key_file.open("wb") as fh:
            fh.truncate(2 << 30)  # 2 GiB, sparse
    old = plan.read_bytes()
    proc = run_sopfin("close", str(plan), "--key-file", str(key_file), "-q", memory=1 << 30)
    words = "is over 4096 bytes" if key == "huge" else "is not a regular file"
    assert_refused(proc, plan, old, words)
