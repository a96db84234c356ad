"""Containment: generated code that tries to get out of the sandbox is stopped and scored 0.

Every escape below is written as the generated code plus tests that assert the escape *worked*:
a contained run must fail them (and the host side confirms nothing got through). They run in
every mode the worker selects to contain code (`auto` and `bwrap`, which are the same sandbox); a
mode that cannot contain refuses. `external` (containment left to the deployment) is covered by
test_harness.py's honesty tests and the limits below, never by an escape test: it does not contain.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from pathlib import Path

import pytest

from trainer_worker import evaluation_job
from trainer_worker.errors import JobFailure
from trainer_worker.sandbox import (
    SandboxLimits,
    SandboxUnavailable,
    bwrap_prefix,
    containment,
    run_tests,
    runtime_prefix,
)

LIMITS = SandboxLimits(cpu_seconds=1, memory_mb=256, wall_seconds=5)
# The CPU limit must be what stops these, well before the wall clock (on a loaded machine a CPU
# second can take two of the wall clock).
CPU_BOUND = SandboxLimits(cpu_seconds=1, memory_mb=256, wall_seconds=20)
CONTAINING = ["auto", "bwrap"]
ALL_MODES = ["auto", "bwrap", "external"]
HARNESS_MARK = "The two programs of a sandboxed test run"  # in every sandbox process's command line


def escape(code: str, tests: str, mode: str, limits: SandboxLimits = LIMITS):
    result = run_tests(code, tests, limits, mode)  # type: ignore[arg-type]
    assert not result.passed, f"the escape worked: {result}"
    return result


@pytest.fixture
def server():
    """A TCP server on the host's loopback; the test asserts nothing reached it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        s.settimeout(0.3)
        yield s
        with pytest.raises(TimeoutError):
            s.accept()


# --- the sandbox chosen, and refusals ------------------------------------------------------------


def test_auto_picks_bubblewrap_here_and_drops_root() -> None:
    box = containment("auto")
    assert box.mode == "bwrap"  # the project's scripts install bubblewrap (tools/infra/ensure-bwrap.sh)
    assert box.run_as == (65534 if os.geteuid() == 0 else None)


def test_a_host_without_a_working_sandbox_refuses_instead_of_running(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    code = f"open({str(marker)!r}, 'w').write('x')\ndef f():\n    return 1\n"
    with pytest.raises(SandboxUnavailable, match="cannot contain untrusted code here"):
        run_tests(code, "assert f() == 1", LIMITS, "auto", python="/nonexistent/bin/python3")
    with pytest.raises(SandboxUnavailable):
        run_tests(code, "assert f() == 1", LIMITS, "bwrap", python="/nonexistent/bin/python3")
    assert not marker.exists()
    with pytest.raises(JobFailure) as err:  # the evaluation job fails, retryable, with the reason
        evaluation_job._check_sandbox("auto", "/nonexistent/bin/python3")
    assert err.value.code == "SANDBOX_UNAVAILABLE" and err.value.retryable
    assert "cannot contain" in err.value.message


def test_an_unknown_mode_refuses() -> None:
    with pytest.raises(SandboxUnavailable, match="unknown sandbox mode"):
        run_tests("x = 1", "assert x == 1", LIMITS, "prelude")  # type: ignore[arg-type]


def test_the_sandbox_sees_only_the_runtime() -> None:
    """No /etc, /home, /proc, /tmp, no checkout: the root holds /usr (read-only), the interpreter's
    prefix, a few devices and /scratch; nothing of the host is writable."""
    box = containment("auto")
    argv = bwrap_prefix(box, 1 << 20)
    binds = {argv[i + 2] for i, a in enumerate(argv) if a in ("--ro-bind", "--bind", "--dev-bind")}
    assert "--bind" not in argv and "/usr" in binds
    assert not any(b.startswith(("/etc", "/home", "/proc", "/tmp", "/work")) for b in binds), binds
    allowed = {"bin", "dev", "lib", "lib32", "lib64", "libx32", "sbin", "scratch", "usr"}
    allowed.add(runtime_prefix(box.python).split("/")[1])
    code = "import os\ndef top():\n    return sorted(os.listdir('/'))\n"
    result = run_tests(code, f"assert set(top()) <= {allowed!r}, top()\nassert 'scratch' in top()", LIMITS)
    assert result.passed, result.stderr_tail


# --- the network, by every route -----------------------------------------------------------------


@pytest.mark.parametrize("mode", CONTAINING)
def test_no_socket_to_the_host(mode: str, server: socket.socket) -> None:
    port = server.getsockname()[1]
    code = (
        f"import socket\ndef probe():\n    socket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
        "    return 'connected'\n"
    )
    result = escape(code, "assert probe() == 'connected'", mode)
    assert "ConnectionRefusedError" in result.stderr_tail  # its own, empty loopback


@pytest.mark.parametrize("mode", CONTAINING)
def test_no_route_to_the_outside(mode: str) -> None:
    code = (
        "import socket\ndef probe():\n    socket.create_connection(('192.0.2.1', 80), timeout=2)\n"
        "    return 'connected'\n"
    )
    result = escape(code, "assert probe() == 'connected'", mode)
    assert "unreachable" in result.stderr_tail  # no interface but loopback: fails at once


@pytest.mark.parametrize("mode", CONTAINING)
def test_no_network_through_a_subprocess(mode: str, server: socket.socket) -> None:
    port = server.getsockname()[1]
    code = (
        "import subprocess, sys\n"
        "def curl():\n"
        f"    return subprocess.run(['curl', '-s', '-m', '2', 'http://127.0.0.1:{port}/']).returncode\n"
        "def python():\n"
        f"    c = \"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=2)\"\n"
        "    return subprocess.run([sys.executable, '-c', c]).returncode\n"
    )
    result = escape(code, "assert curl() == 0 or python() == 0", mode)
    assert "AssertionError" in result.stderr_tail  # both ran, both failed to connect


@pytest.mark.parametrize("mode", CONTAINING)
def test_no_network_through_ctypes(mode: str, server: socket.socket) -> None:
    port = server.getsockname()[1]
    code = (
        "import ctypes, struct\n"
        "def probe():\n"
        "    libc = ctypes.CDLL('libc.so.6', use_errno=True)\n"
        "    fd = libc.socket(2, 1, 0)\n"
        f"    addr = struct.pack('!HH4s8x', 2, {port}, bytes([127, 0, 0, 1]))\n"
        "    addr = struct.pack('=H', 2) + addr[2:]\n"
        "    return libc.connect(fd, addr, len(addr)), ctypes.get_errno()\n"
    )
    result = escape(code, "r = probe()\nprint(r, file=__import__('sys').stderr)\nassert r[0] == 0", mode)
    assert "(-1, 111)" in result.stderr_tail  # ECONNREFUSED: ctypes ran, the socket went nowhere


# --- the file system ---------------------------------------------------------------------------


@pytest.mark.parametrize("mode", CONTAINING)
@pytest.mark.parametrize(
    "path",
    ["/etc/passwd", "/root/.bashrc", __file__, "/proc/1/environ"],
    ids=["passwd", "root", "checkout", "proc"],
)
def test_no_reading_outside_the_runtime(mode: str, path: str) -> None:
    code = f"def probe():\n    return open({path!r}).read()\n"
    result = escape(code, "assert len(probe()) > 0", mode)
    assert "FileNotFoundError" in result.stderr_tail


@pytest.mark.parametrize("mode", CONTAINING)
def test_no_writing_outside_scratch(mode: str, tmp_path: Path) -> None:
    target = tmp_path / "written"
    code = (
        "def probe(path):\n"
        "    open(path, 'w').write('x')\n"
        "    return True\n"
        "def scratch():\n"
        "    open('/scratch/ok', 'w').write('x')\n"
        "    return open('ok').read()\n"
    )
    paths = [str(target), "/usr/x", "/x", "/dev/x"]
    tests = f"assert scratch() == 'x'\nfor p in {paths!r}:\n    assert probe(p)\n"
    result = escape(code, tests, mode)
    assert not target.exists()
    assert "FileNotFoundError" in result.stderr_tail or "Read-only" in result.stderr_tail


@pytest.mark.parametrize("mode", CONTAINING)
def test_scratch_is_small(mode: str) -> None:
    limits = SandboxLimits(cpu_seconds=2, memory_mb=256, wall_seconds=5, file_size_mb=1)
    code = (
        "def fill():\n    for i in range(8):\n        open(f'f{i}', 'wb').write(b'0' * 500_000)\n"
        "    return True\n"
    )
    result = escape(code, "assert fill()", mode, limits)
    assert "No space left on device" in result.stderr_tail


# --- the environment ------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ALL_MODES)
def test_the_worker_environment_is_not_visible(mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every mode: the code and the tests start with an empty environment."""
    monkeypatch.setenv("GENESIS_FAKE_SECRET", "s3cret-value")
    code = "import os\ndef env():\n    return dict(os.environ)\n"
    tests = "import os\nassert 'GENESIS_FAKE_SECRET' in env() or 'GENESIS_FAKE_SECRET' in os.environ\n"
    escape(code, tests, mode)
    result = run_tests(
        code,
        "import os\nassert not os.environ.get('GENESIS_FAKE_SECRET')\nassert 's3cret' not in str(env())",
        LIMITS,
        mode,
    )  # type: ignore[arg-type]
    assert result.passed, result.stderr_tail


# --- processes: bombs, loops, daemons, signals ------------------------------------------------


@pytest.mark.parametrize("mode", CONTAINING)
def test_a_fork_bomb_is_capped(mode: str) -> None:
    code = (
        "import os, time\n"
        "def bomb():\n"
        "    n = 0\n"
        "    while n < 10000:\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(30)\n"
        "            os._exit(0)\n"
        "        n += 1\n"
        "    return n\n"
    )
    started = time.monotonic()
    result = escape(code, "assert bomb() == 10000", mode)
    assert time.monotonic() - started < 4
    assert "BlockingIOError" in result.stderr_tail  # RLIMIT_NPROC, counted in the sandbox's namespace
    assert _all_gone(HARNESS_MARK)  # all killed with the sandbox


@pytest.mark.parametrize("mode", ALL_MODES)
@pytest.mark.parametrize(
    "code", ["x = bytearray(2 * 1024**3)\n", "x = [0] * (10**9)\n"], ids=["bytes", "list"]
)
def test_a_memory_bomb_is_refused(mode: str, code: str) -> None:
    result = run_tests(code, "assert x", LIMITS, mode)  # type: ignore[arg-type]
    assert result.outcome == "memory" and "MemoryError" in result.stderr_tail


@pytest.mark.parametrize("mode", ALL_MODES)
def test_an_infinite_loop_is_killed_at_the_cpu_limit(mode: str) -> None:
    result = run_tests("def f():\n    while True:\n        pass\n", "assert f()", CPU_BOUND, mode)  # type: ignore[arg-type]
    assert result.outcome == "timeout"
    assert result.duration_seconds < 10  # 1 CPU second (+1 s grace at most), not the 20 s wall limit


@pytest.mark.parametrize("mode", ALL_MODES)
def test_ignoring_sigxcpu_does_not_escape_the_cpu_limit(mode: str) -> None:
    code = "import signal\nsignal.signal(signal.SIGXCPU, signal.SIG_IGN)\nwhile True:\n    pass\n"
    result = run_tests(code, "pass", CPU_BOUND, mode)  # type: ignore[arg-type]
    assert result.outcome == "timeout" and result.duration_seconds < 10


@pytest.mark.parametrize("mode", ALL_MODES)
def test_a_sleeping_program_is_killed_at_the_wall_clock_limit(mode: str) -> None:
    limits = SandboxLimits(cpu_seconds=5, memory_mb=256, wall_seconds=0.5)
    started = time.monotonic()
    result = run_tests("import time\ndef f():\n    time.sleep(60)\n", "f()", limits, mode)  # type: ignore[arg-type]
    assert result.outcome == "timeout" and time.monotonic() - started < 3


@pytest.mark.parametrize("mode", ALL_MODES)
def test_daemons_do_not_survive_the_run(mode: str) -> None:
    """A setsid() child that outlives the program: killed with the sandbox (PID namespace; in
    external mode only the process group, so a new session survives there: it is not contained)."""
    marker = f"genesis-daemon-{uuid.uuid4().hex}"
    code = (
        "import subprocess, sys\n"
        "def start():\n"
        f"    subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(20)  # {marker}'],\n"
        "                     start_new_session=True)\n"
        "    return True\n"
    )
    result = run_tests(code, "assert start()", LIMITS, mode)  # type: ignore[arg-type]
    assert result.passed, result.stderr_tail
    time.sleep(0.3)
    survivors = _processes_with(marker)
    for pid in survivors:  # clean up what external mode lets live, then say so
        os.kill(pid, 9)
    assert survivors == [] if mode != "external" else len(survivors) == 1


@pytest.mark.parametrize("mode", CONTAINING)
def test_the_code_cannot_signal_the_worker(mode: str) -> None:
    code = (
        "import os, signal\n"
        "def kill():\n"
        "    hits = []\n"
        f"    for pid in ({os.getpid()}, os.getppid(), 1, -1):\n"
        "        try:\n"
        "            os.kill(pid, signal.SIGKILL)\n"
        "            hits.append(pid)\n"
        "        except OSError:\n"
        "            pass\n"
        f"    return {os.getpid()} in hits\n"
    )
    escape(code, "assert kill()", mode)
    # still here; and the sandbox's own pid 1 (bwrap) ignores the signal, so the run went on


def _all_gone(text: str, within: float = 3.0) -> bool:
    """The kernel tears a PID namespace down asynchronously: killed processes linger a moment."""
    deadline = time.monotonic() + within
    while _processes_with(text):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _processes_with(text: str) -> list[int]:
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if text.encode() in Path(f"/proc/{entry.name}/cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


NON_ROOT_SCRIPT = """
import json, os, sys
sys.path.insert(0, sys.argv[1])
from sandbox import SandboxLimits, containment, run_tests

limits = SandboxLimits(cpu_seconds=2, memory_mb=256, wall_seconds=5)
box = containment("auto")
good = run_tests("def add(a, b):\\n    return a + b\\n", "assert add(2, 3) == 5", limits)
passwd = run_tests("def f():\\n    return open('/etc/passwd').read()\\n", "assert f()", limits)
exit_code = "def add(a, b):\\n    return None\\nraise SystemExit(0)\\n"
exits = run_tests(exit_code, "assert add(2, 3) == 5", limits)
print(json.dumps({"uid": os.getuid(), "box": box.describe(), "good": good.outcome,
                  "passwd": [passwd.outcome, passwd.stderr_tail], "exits": exits.outcome}))
"""


@pytest.mark.skipif(
    os.geteuid() != 0 or not os.path.exists("/usr/bin/python3"), reason="needs root to become another user"
)
def test_a_non_root_worker_contains_too() -> None:
    """What k8s runs (uid 10001): bwrap started by an unprivileged worker, not by root dropping its
    rights. The sandbox module (standard library only) runs as uid 65534 with the system Python."""
    import shutil
    import subprocess
    import tempfile

    import trainer_worker.sandbox as sandbox_module

    folder = tempfile.mkdtemp(prefix="genesis-nonroot-")
    try:
        os.chmod(folder, 0o755)
        source = Path(sandbox_module.__file__).parent
        for name in ("sandbox.py", "sandbox_harness.py"):
            shutil.copy(source / name, folder)
        run = subprocess.run(
            ["/usr/bin/python3", "-I", "-c", NON_ROOT_SCRIPT, folder],
            user=65534,
            group=65534,
            extra_groups=[],
            cwd=folder,
            env={},
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["uid"] == 65534 and report["box"]["mode"] == "bwrap" and report["box"]["run_as"] is None
    assert report["good"] == "passed" and report["exits"] == "failed"
    assert report["passwd"][0] == "failed" and "FileNotFoundError" in report["passwd"][1]
