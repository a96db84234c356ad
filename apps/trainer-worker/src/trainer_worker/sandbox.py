"""Runs untrusted Python (generated code + an item's tests) in a child process with hard limits.

What a run gets:
- an isolated interpreter (`python -I -S -B`: no environment variables of ours, no site-packages, no
  user site, the script's folder not on sys.path) in a fresh scratch folder as its cwd, removed
  afterwards; an empty environment (PATH, LANG only); stdin closed; stdout discarded;
- resource limits, set by the child's bootstrap before the untrusted code runs (soft = hard, so the
  code cannot raise them again; CPU: SIGXCPU at the limit, SIGKILL a second later): CPU seconds,
  address space, file size, no core dumps, and a cap on new processes;
- a new session (process group), killed as a whole when the wall-clock limit runs out, and
  whatever is left of it when the program ends;
- no network: a new network namespace (`unshare --net --map-root-user`, plus a PID namespace so
  that nothing it starts outlives it) where the host allows unprivileged user namespaces (probed
  once; container runtimes' default seccomp profiles usually forbid it). Elsewhere a bootstrap
  prelude disables the socket module, which is best effort only (code can still run `curl` or
  load a C extension): production pods get network isolation from their NetworkPolicy
  (deploy/k8s) or a sandboxed runtime class such as gVisor, not from this module.

Why the limits are set by the child and not in a `preexec_fn`: the worker evaluates from a thread
while torch's own threads run, and CPython documents preexec_fn as unsafe (possible deadlock)
in a multi-threaded parent. The bootstrap runs in the fresh interpreter before any untrusted byte.

The file system is not isolated: the code can write wherever the worker's user may (bounded by
the file size limit). The pod runs as a non-root user on a read-only root file system for that
(deploy/k8s/base/trainer-worker.yaml).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

Network = Literal["auto", "namespace", "prelude"]
PROGRAM = "main.py"  # the bootstrap below opens it by this name
STDERR_TAIL = 2000
EXTRA_PROCESSES = 16  # new processes (and threads) the code may start on top of the user's current ones

# Runs in the child before the program: limits first, then (fallback mode) the socket block, then
# the program itself under its own file name, so tracebacks show its line numbers.
_BOOTSTRAP = """\
import resource, sys
cpu, memory, fsize, nproc, block_network, as_init = (int(a) for a in sys.argv[1:7])
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
if nproc:
    resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
if as_init:
    # PID 1 of a new PID namespace: the kernel drops default-action signals (SIGXCPU, ...) sent to
    # it, so the program runs as its child; this exit ends the namespace and all left in it.
    import os
    child = os.fork()
    if child:
        status = os.waitpid(child, 0)[1]
        os._exit(128 + os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status))
    del os, child
if block_network:
    import _socket, socket
    def _no_network(*args, **kwargs):
        raise OSError(101, "network access is disabled in the sandbox")
    for _module in (socket, _socket):
        for _name in ("socket", "create_connection", "create_server", "socketpair", "fromfd",
                      "getaddrinfo", "gethostbyname", "gethostbyname_ex", "gethostbyaddr"):
            if hasattr(_module, _name):
                setattr(_module, _name, _no_network)
    sys.modules["_socket"] = None
    del _module, _name, _no_network, socket, _socket
del resource, cpu, memory, fsize, nproc, block_network, as_init
sys.argv = ["main.py"]
with open("main.py", encoding="utf-8") as _file:
    _code = compile(_file.read(), "main.py", "exec")
del _file
exec(_code, {"__name__": "__main__", "__file__": "main.py", "__builtins__": __builtins__})
"""


@dataclass(frozen=True)
class SandboxLimits:
    """Per run. The defaults match the evaluator's (GENESIS_SANDBOX_* there and in the worker)."""

    cpu_seconds: int = 5
    memory_mb: int = 512
    wall_seconds: float = 10.0
    file_size_mb: int = 16

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
    exit_code: int | None  # the exit status; -N: killed by signal N; None: never ran
    duration_seconds: float
    stderr_tail: str

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


def run_python(source: str, limits: SandboxLimits | None = None, network: Network = "auto") -> SandboxResult:
    """Runs `source` as a program in the sandbox; passed iff it exits 0 within the limits."""
    limits = limits or SandboxLimits()
    namespace = network_namespace_available() if network == "auto" else network == "namespace"
    scratch = tempfile.mkdtemp(prefix="genesis-sandbox-")
    try:
        with open(os.path.join(scratch, PROGRAM), "w", encoding="utf-8") as f:
            f.write(source)
        argv = [sys.executable, "-I", "-S", "-B", "-c", _BOOTSTRAP]
        argv += [str(limits.cpu_seconds), str(limits.memory_mb << 20), str(limits.file_size_mb << 20)]
        argv += [str(_process_cap()), "0" if namespace else "1", "1" if namespace else "0"]
        if namespace:
            argv = [*_UNSHARE, *argv]
        # stderr goes to a file (bounded by the file size limit), never to a pipe that a chatty
        # program could fill faster than it is read.
        with tempfile.TemporaryFile() as stderr:
            started = time.monotonic()
            try:
                proc = subprocess.Popen(
                    argv,
                    cwd=scratch,
                    env={"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"},
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=stderr,
                    start_new_session=True,
                )
            except OSError as err:
                return SandboxResult("error", None, time.monotonic() - started, f"could not start: {err}")
            code, cpu_seconds, timed_out = _wait(proc, started + limits.wall_seconds)
            duration = time.monotonic() - started
            stderr.seek(0, os.SEEK_END)
            stderr.seek(max(0, stderr.tell() - 4 * STDERR_TAIL))
            tail = stderr.read().decode("utf-8", "replace")[-STDERR_TAIL:]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if namespace and code > 128:
        code = 128 - code  # the bootstrap's init reports "killed by signal N" as 128 + N (so an
        # exit status above 128 reads as a signal there too)
    if timed_out or (code != 0 and cpu_seconds >= limits.cpu_seconds - 0.05):
        outcome = "timeout"  # the wall clock, or the CPU limit (SIGXCPU, or SIGKILL a second later)
    elif code == 0:
        outcome = "passed"
    elif "MemoryError" in tail or code == -signal.SIGKILL:
        outcome = "memory"  # Python's own MemoryError, or the kernel's OOM killer
    elif code < 0:
        outcome = "error"  # died by another signal: a crash, the file size limit, ...
    else:
        outcome = "failed"
    return SandboxResult(outcome, code, duration, tail)


def _wait(proc: subprocess.Popen, deadline: float) -> tuple[int, float, bool]:
    """(exit code, CPU seconds of the whole tree, timed out). The group is killed before the
    program is reaped: until then its pid, which is the group's id, cannot be reused by another
    process. wait4 rather than Popen.wait: its rusage includes the descendants the child reaped,
    so the CPU used behind unshare shows too."""
    timed_out = False
    try:
        while os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
            if time.monotonic() >= deadline:
                timed_out = True
                break
            time.sleep(0.005)
    finally:
        _kill_group(proc.pid)  # the whole run on a timeout; what it left behind otherwise
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
    return proc.returncode, usage.ru_utime + usage.ru_stime, timed_out


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _process_cap() -> int:
    """RLIMIT_NPROC for the child, 0 for none. The kernel counts every task (thread) of the *user*,
    not of the process, and exempts root: a fixed small number would stop a non-root worker's
    child from starting at all (the worker's own threads count), so the cap is the user's current
    tasks plus a margin."""
    if os.geteuid() == 0:
        return 0
    uid, tasks = os.getuid(), 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    tasks += len(os.listdir(f"/proc/{entry.name}/task"))
            except OSError:
                continue  # gone meanwhile
    return tasks + EXTRA_PROCESSES


# --fork + --pid: the program is PID 1 of its own namespace, so when it ends (or is killed) the
# kernel kills everything it started, even what left the process group with setsid().
_UNSHARE = ["unshare", "--net", "--pid", "--fork", "--kill-child", "--map-root-user", "--"]


@cache
def network_namespace_available() -> bool:
    """Whether `unshare --net --map-root-user` works here (it needs unprivileged user namespaces,
    which many container runtimes forbid). Probed once per process."""
    if shutil.which("unshare") is None:
        return False
    try:
        probe = subprocess.run(
            [*_UNSHARE, sys.executable, "-I", "-S", "-c", "pass"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0
