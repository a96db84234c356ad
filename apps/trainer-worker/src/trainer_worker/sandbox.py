"""Runs an item's tests against generated code, contained, and says honestly whether they passed.

A run is two sandboxed processes (sandbox_harness.py): the *code* process runs the generated code
and serves calls to its functions; the *judge* process runs the tests, calling those functions over
a pipe, and alone writes the verdict, tagged with a per-run nonce, on a pipe to the worker. Only
that record passes a run: an exit status, an early exit or anything the code prints counts for
nothing (docs/adr/0011-sandbox.md).

Containment (`GENESIS_SANDBOX_MODE`):
- `bwrap` (bubblewrap, Debian's `bubblewrap`): each process in its own user, PID, network, IPC and
  UTS namespace (`--unshare-all`: no network but a loopback of its own; the worker's PID is not
  even visible, so it cannot be signalled); a root file system of its own, read-only, holding only
  the Python runtime (/usr and the interpreter's prefix, read-only), /dev/null, zero, full, random,
  urandom, and a small tmpfs /scratch as the only writable place (the cwd); no /etc, /home, /root,
  /proc, /tmp, no checkout and no virtualenv; an empty environment (`--clearenv`); a new session;
  killed with the worker (`--die-with-parent`) and, when the run ends or overruns, killed whole
  (bwrap's PID 1 dies, the kernel kills everything in the namespace, `setsid` daemons included).
  A worker running as root starts bwrap as an unprivileged user (GENESIS_SANDBOX_UID, 65534) so
  that the process cap (RLIMIT_NPROC, which never binds root) holds.
- `external`: no containment here, only the limits, an empty environment, a scratch folder, a
  killed process group and (for a root worker) the unprivileged user. The code can use the
  network, read and write the file system and signal what that user can. Only for a deployment
  that contains the worker itself (a separate sandbox container with no network, a read-only root
  and no secrets); never the default.
- `auto`: bwrap when it works here (probed once), otherwise refuse: a run raises
  SandboxUnavailable rather than execute the code uncontained.

Limits, in both modes, set by the harness in the fresh interpreter before any untrusted byte
(soft = hard, so they cannot be raised again): CPU seconds (SIGXCPU, SIGKILL a second later),
address space, file size, no core dumps, a cap on processes; and the wall clock, after which both
processes are killed. They are set in the child and not in a `preexec_fn`: the worker evaluates
from a thread while torch's threads run, and CPython documents preexec_fn as unsafe (possible
deadlock) in a multi-threaded parent.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

Mode = Literal["auto", "bwrap", "external"]
MODES: tuple[str, ...] = ("auto", "bwrap", "external")
STDERR_TAIL = 2000
EXTRA_PROCESSES = 16  # external mode: new tasks on top of the user's current ones
SANDBOX_PROCESSES = 32  # bwrap mode: tasks (threads count) in one sandbox's user namespace
CODE_GRACE_SECONDS = 0.5  # after the judge's verdict, for the code process to see its channel close
SANDBOX_UID = 65534  # `nobody`: who runs bwrap when the worker is root
FALLBACK_PYTHON = "/usr/bin/python3"  # when the worker's own interpreter is not reachable by SANDBOX_UID
_HARNESS = (Path(__file__).with_name("sandbox_harness.py")).read_text(encoding="utf-8")
_DEVICES = ("null", "zero", "full", "random", "urandom")
_TOP_LEVEL = ("bin", "lib", "lib32", "lib64", "libx32", "sbin")

log = logging.getLogger(__name__)


class SandboxUnavailable(RuntimeError):
    """This worker cannot contain untrusted code in the mode asked for; nothing was run."""


@dataclass(frozen=True)
class SandboxLimits:
    """Per run (each of the two processes). The defaults match the evaluator's (GENESIS_SANDBOX_*)."""

    cpu_seconds: int = 5
    memory_mb: int = 512
    wall_seconds: float = 10.0
    file_size_mb: int = 16  # also the size of the bwrap sandbox's /scratch tmpfs

    def __post_init__(self) -> None:
        if not (isinstance(self.cpu_seconds, int) and self.cpu_seconds >= 1):
            raise ValueError(f"sandbox cpu_seconds must be an integer >= 1 (got {self.cpu_seconds!r})")
        if not (isinstance(self.memory_mb, int) and self.memory_mb >= 16):
            raise ValueError(f"sandbox memory_mb must be an integer >= 16 (got {self.memory_mb!r})")
        if not self.wall_seconds > 0:
            raise ValueError(f"sandbox wall_seconds must be > 0 (got {self.wall_seconds!r})")
        if not (isinstance(self.file_size_mb, int) and self.file_size_mb >= 1):
            raise ValueError(f"sandbox file_size_mb must be an integer >= 1 (got {self.file_size_mb!r})")


@dataclass(frozen=True)
class SandboxResult:
    outcome: Literal["passed", "failed", "timeout", "memory", "error"]
    exit_code: int | None  # the code process's exit status; -N: killed by signal N; None: never ran
    duration_seconds: float
    stderr_tail: str  # why the tests failed (the judge's traceback), then the code's own stderr

    @property
    def passed(self) -> bool:
        return self.outcome == "passed"

    def as_json(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "exit_code": self.exit_code,
            "duration_seconds": round(self.duration_seconds, 3),
            "stderr_tail": self.stderr_tail,
        }


@dataclass(frozen=True)
class Containment:
    """How runs are contained here: the outcome of the probe (see containment())."""

    mode: Literal["bwrap", "external"]
    python: str  # the interpreter the sandbox runs (a real path, not a venv's)
    run_as: int | None  # uid bwrap runs as (the worker is root), None: the worker's own

    def describe(self) -> dict[str, Any]:
        return {"mode": self.mode, "python": self.python, "run_as": self.run_as}


def run_tests(
    code: str,
    tests: str,
    limits: SandboxLimits | None = None,
    mode: Mode = "auto",
    *,
    entry_point: str | None = None,
    python: str | None = None,
) -> SandboxResult:
    """Runs `tests` against `code` (the generated program) in the sandbox. Passed iff the judge
    reported, with this run's nonce, that the tests ran to their end (and, with `entry_point`,
    that `check(<entry_point>)` returned: HumanEval's form). Raises SandboxUnavailable when the
    mode cannot contain the code."""
    limits = limits or SandboxLimits()
    box = containment(mode, python)
    nonce = secrets.token_hex(16)
    fds: list[int] = []

    def pipe() -> tuple[int, int]:
        ends = os.pipe()
        fds.extend(ends)
        return ends

    def memfd(name: str, text: str) -> int:
        fd = os.memfd_create(name)
        fds.append(fd)
        os.write(fd, text.encode("utf-8"))
        os.lseek(fd, 0, os.SEEK_SET)
        return fd

    to_code, to_judge, verdict = pipe(), pipe(), pipe()
    source, suite = memfd("code", code), memfd("tests", f"{nonce}\n{tests}")
    scratch = None if box.mode == "bwrap" else _scratch(box)
    procs: list[subprocess.Popen[bytes]] = []
    started = time.monotonic()
    try:
        with tempfile.TemporaryFile() as code_err, tempfile.TemporaryFile() as judge_err:
            try:
                procs.append(
                    _start(box, limits, scratch, code_err, "code", [source, to_code[0], to_judge[1]])
                )
                procs.append(
                    _start(
                        box,
                        limits,
                        scratch,
                        judge_err,
                        "judge",
                        [suite, to_judge[0], to_code[1], verdict[1]],
                        [entry_point] if entry_point else [],
                    )
                )
            except OSError as err:
                for proc in procs:
                    _kill_group(proc.pid)
                    _reap(proc)
                return SandboxResult("error", None, time.monotonic() - started, f"could not start: {err}")
            finally:
                for fd in fds:
                    if fd != verdict[0]:
                        os.close(fd)
            deadline = started + limits.wall_seconds
            judge_done, timed_out = _wait_exit(procs[1], deadline)
            if judge_done:  # the code process ends when its channel closes: a moment for that
                _wait_exit(procs[0], min(deadline, time.monotonic() + CODE_GRACE_SECONDS))
            code_running = not _wait_exit(procs[0], 0)[0]
            for proc in procs:
                _kill_group(proc.pid)  # whatever is left of either: overruns, daemons, stragglers
            (code_status, code_cpu), _ = _reap(procs[0]), _reap(procs[1])
            code_died = not code_running and code_status != 0  # by itself, not by the kill above
            record = _read_verdict(verdict[0], nonce) if judge_done else None
            duration = time.monotonic() - started
            tail = _tail(code_err)
            judge_tail = _tail(judge_err)
    finally:
        os.close(verdict[0])
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    reason = (record or {}).get("error") or ("" if record else "no verdict from the tests")
    detail = "\n".join(t for t in (reason, judge_tail, tail) if t)[-STDERR_TAIL:]
    if record is not None and record.get("passed") is True:
        return SandboxResult("passed", code_status, duration, detail)
    if timed_out or (code_died and _cpu_limit(code_status, code_cpu, duration, limits)):
        outcome = "timeout"  # the wall clock, or the code's CPU limit (SIGXCPU, SIGKILL a second later)
    elif "MemoryError" in detail or (code_died and code_status == -signal.SIGKILL):
        outcome = "memory"  # Python's own MemoryError, or the kernel's OOM killer
    elif code_died and code_status < 0:
        outcome = "error"  # died by another signal: a crash, the file size limit, ...
    else:
        outcome = "failed"
    return SandboxResult(outcome, code_status, duration, detail)


def _start(
    box: Containment,
    limits: SandboxLimits,
    scratch: str | None,
    stderr: Any,
    role: str,
    fds: list[int],
    extra: list[str] | None = None,
) -> subprocess.Popen[bytes]:
    """One harness process. stderr goes to a file (bounded by the file size limit), never to a
    pipe that a chatty program could fill faster than it is read."""
    nproc = SANDBOX_PROCESSES if box.mode == "bwrap" else _process_cap(box.run_as)
    argv = [box.python, "-I", "-S", "-B", "-c", _HARNESS, role]
    argv += [str(limits.cpu_seconds), str(limits.memory_mb << 20), str(limits.file_size_mb << 20)]
    argv += [str(nproc), *map(str, fds), *(extra or [])]
    if box.mode == "bwrap":
        argv = [*bwrap_prefix(box, limits.file_size_mb << 20), *argv]
    user = {} if box.run_as is None else {"user": box.run_as, "group": box.run_as, "extra_groups": []}
    return subprocess.Popen(
        argv,
        cwd=scratch or "/",
        env={} if box.mode == "bwrap" else {"LANG": "C.UTF-8"},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
        pass_fds=fds,
        start_new_session=True,  # its own process group, killed whole (external mode)
        **user,
    )


def _scratch(box: Containment) -> str:
    """External mode's working folder, owned by the user the code runs as."""
    path = tempfile.mkdtemp(prefix="genesis-sandbox-")
    if box.run_as is not None:
        os.chown(path, box.run_as, box.run_as)
    return path


def bwrap_prefix(box: Containment, scratch_bytes: int) -> list[str]:
    """The bwrap command line up to the program (see the module docstring for what each gives)."""
    argv = [
        shutil.which("bwrap") or "bwrap",
        "--unshare-all",
        "--unshare-user",
        "--disable-userns",
        "--die-with-parent",
    ]
    argv += ["--new-session", "--clearenv", "--cap-drop", "ALL", "--uid", "65534", "--gid", "65534"]
    argv += ["--ro-bind", "/usr", "/usr"]
    for name in _TOP_LEVEL:  # merged /usr: /bin -> usr/bin; older layouts: real folders
        path = f"/{name}"
        if os.path.islink(path):
            argv += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            argv += ["--ro-bind", path, path]
    prefix = runtime_prefix(box.python)
    if not prefix.startswith("/usr/"):
        argv += ["--ro-bind", prefix, prefix]
    for device in _DEVICES:
        argv += ["--dev-bind", f"/dev/{device}", f"/dev/{device}"]
    argv += ["--size", str(scratch_bytes), "--tmpfs", "/scratch", "--chdir", "/scratch"]
    argv += ["--setenv", "LANG", "C.UTF-8", "--setenv", "TMPDIR", "/scratch", "--setenv", "HOME", "/scratch"]
    argv += ["--remount-ro", "/"]  # bwrap's own root tmpfs; /scratch stays writable
    return argv


def runtime_prefix(python: str) -> str:
    """The installation an interpreter belongs to: <prefix>/bin/pythonX.Y."""
    return str(Path(python).resolve().parent.parent)


def _wait_exit(proc: subprocess.Popen[bytes], deadline: float) -> tuple[bool, bool]:
    """(it exited, the wall clock ran out). Not reaped here: until the group is killed its
    pid, which is the group's id, must not be reused."""
    while os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
        if time.monotonic() >= deadline:
            return False, True
        time.sleep(0.002)
    return True, False


def _cpu_limit(status: int, cpu: float, duration: float, limits: SandboxLimits) -> bool:
    """Whether the code process died of its CPU limit. bwrap's monitor does not reap the sandbox's
    processes itself, so its rusage may miss their CPU: the signal then tells (SIGXCPU; SIGKILL a
    second later, when the code ignored SIGXCPU, which only a run that lasted that long can have
    met)."""
    if cpu >= limits.cpu_seconds - 0.05 or status == -signal.SIGXCPU:
        return True
    return status == -signal.SIGKILL and duration >= limits.cpu_seconds


def _reap(proc: subprocess.Popen[bytes]) -> tuple[int, float]:
    """(exit status, CPU seconds of the process and the descendants it reaped). bwrap reports a
    program killed by signal N as exit status 128 + N: turned back into -N."""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = code = os.waitstatus_to_exitcode(status)  # reaped: Popen must not wait again
    if os.path.basename(proc.args[0]) == "bwrap" and code > 128:
        code = 128 - code
    return code, usage.ru_utime + usage.ru_stime


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _read_verdict(fd: int, nonce: str) -> dict[str, Any] | None:
    """The judge's record, if it wrote one with this run's nonce (it writes once, then exits)."""
    os.set_blocking(fd, False)
    try:
        raw = os.read(fd, 1 << 16)
    except BlockingIOError:
        return None
    try:
        record = json.loads(raw.decode("utf-8"))
    except ValueError:
        return None
    if not isinstance(record, dict) or not secrets.compare_digest(str(record.get("nonce")), nonce):
        return None
    return record


def _tail(file: Any) -> str:
    file.seek(0, os.SEEK_END)
    file.seek(max(0, file.tell() - 4 * STDERR_TAIL))
    return file.read().decode("utf-8", "replace")[-STDERR_TAIL:].strip()


def _process_cap(run_as: int | None) -> int:
    """External mode's RLIMIT_NPROC, 0 for none. The kernel counts every task (thread) of the
    *user* and exempts root: a fixed small number would stop a non-root worker's child from
    starting at all (the worker's own threads count), so the cap is the user's current tasks plus
    a margin. (In bwrap mode the count is per sandbox: its own user namespace.)"""
    uid, tasks = os.getuid() if run_as is None else run_as, 0
    if uid == 0:
        return 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    tasks += len(os.listdir(f"/proc/{entry.name}/task"))
            except OSError:
                continue  # gone meanwhile
    return tasks + EXTRA_PROCESSES


def _interpreters(python: str | None) -> list[str]:
    if python:
        return [python]
    own = os.path.realpath(getattr(sys, "_base_executable", sys.executable))
    return list(dict.fromkeys([own, os.path.realpath(FALLBACK_PYTHON)]))


@cache
def containment(mode: Mode = "auto", python: str | None = None) -> Containment:
    """What this worker can give (probed once per mode and process): bwrap when a trial run works
    with one of the interpreters (the configured one, or the worker's own base interpreter, then
    the system's, which the unprivileged sandbox user can reach when the worker's is under /root).
    Raises SandboxUnavailable, saying why, when `mode` asks for containment this host cannot give."""
    if mode not in MODES:
        raise SandboxUnavailable(f"unknown sandbox mode {mode!r} (auto, bwrap or external)")
    # Never root, in any mode: root is exempt from RLIMIT_NPROC, and uncontained root code could
    # signal every process of the machine (kill(-1, SIGKILL)).
    run_as = SANDBOX_UID if os.geteuid() == 0 else None
    kind: Literal["bwrap", "external"] = "external" if mode == "external" else "bwrap"
    problems = []
    if kind == "bwrap" and shutil.which("bwrap") is None:
        problems.append("bwrap is not installed (Debian: apt-get install bubblewrap)")
    else:
        for candidate in _interpreters(python):
            box = Containment(kind, candidate, run_as)
            problem = _probe(box)
            if problem is None:
                if kind == "bwrap":
                    log.info("sandbox: contained by bubblewrap", extra=box.describe())
                else:
                    log.warning(
                        "sandbox: NOT contained (GENESIS_SANDBOX_MODE=external)", extra=box.describe()
                    )
                return box
            problems.append(f"{candidate}: {problem}")
    raise SandboxUnavailable(
        f"cannot {'contain' if kind == 'bwrap' else 'run'} untrusted code here, so no tests run: "
        + "; ".join(problems)
        + " (docs/adr/0011-sandbox.md says what each deployment needs)"
    )


def _probe(box: Containment) -> str | None:
    """None if a trial run in the sandbox works, else why not."""
    argv = [box.python, "-I", "-S", "-B", "-c", "import resource, json"]
    if box.mode == "bwrap":
        argv = [*bwrap_prefix(box, 1 << 20), *argv]
    user = {} if box.run_as is None else {"user": box.run_as, "group": box.run_as, "extra_groups": []}
    try:
        probe = subprocess.run(
            argv, env={}, cwd="/", stdin=subprocess.DEVNULL, capture_output=True, timeout=20, **user
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        return str(err)
    if probe.returncode != 0:
        return probe.stderr.decode("utf-8", "replace").strip()[-300:] or f"exit status {probe.returncode}"
    return None
