"""The sandbox that runs generated code against an item's tests: limits hold, nothing leaks out."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from trainer_worker.sandbox import SandboxLimits, network_namespace_available, run_python

LIMITS = SandboxLimits(cpu_seconds=1, memory_mb=256, wall_seconds=5)
# Both ways of cutting the network: the namespace where this host allows it, the prelude everywhere.
NETWORKS = ["prelude"] + (["namespace"] if network_namespace_available() else [])


def test_passing_code_passes() -> None:
    result = run_python("def add(a, b):\n    return a + b\n\nassert add(2, 3) == 5\n", LIMITS)
    assert (result.outcome, result.exit_code, result.stderr_tail) == ("passed", 0, "")
    assert result.duration_seconds < 5


def test_a_failing_assert_fails_with_its_traceback() -> None:
    result = run_python("def add(a, b):\n    return a - b\n\nassert add(2, 3) == 5, 'add is wrong'\n", LIMITS)
    assert result.outcome == "failed" and result.exit_code == 1
    assert 'File "main.py", line 4' in result.stderr_tail  # the program's own line numbers
    assert "AssertionError: add is wrong" in result.stderr_tail


def test_a_syntax_error_fails() -> None:
    assert run_python("def f(:\n", LIMITS).outcome == "failed"


@pytest.mark.parametrize("network", NETWORKS)
def test_an_infinite_loop_is_killed_at_the_cpu_limit(network: str) -> None:
    started = time.monotonic()
    result = run_python("while True:\n    pass\n", LIMITS, network=network)
    assert result.outcome == "timeout"
    assert time.monotonic() - started < 4  # 1 CPU second (+1 s grace at most), not the 5 s wall limit


def test_ignoring_sigxcpu_does_not_escape_the_cpu_limit() -> None:
    code = "import signal\nsignal.signal(signal.SIGXCPU, signal.SIG_IGN)\nwhile True:\n    pass\n"
    result = run_python(code, LIMITS)
    assert result.outcome == "timeout" and result.duration_seconds < 4


def test_a_sleeping_program_is_killed_at_the_wall_clock_limit() -> None:
    limits = SandboxLimits(cpu_seconds=5, memory_mb=256, wall_seconds=0.5)
    started = time.monotonic()
    result = run_python("import time\ntime.sleep(60)\n", limits)
    assert result.outcome == "timeout" and time.monotonic() - started < 3


@pytest.mark.parametrize(
    "code", ["x = bytearray(2 * 1024**3)\n", "x = [0] * (10**9)\n"], ids=["bytes", "list"]
)
def test_a_memory_bomb_is_refused(code: str) -> None:
    result = run_python(code, LIMITS)
    assert result.outcome == "memory" and "MemoryError" in result.stderr_tail


@pytest.mark.parametrize("network", NETWORKS)
def test_no_network(network: str) -> None:
    """A connection to a server that is listening on the host's loopback must fail."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        server.settimeout(0.2)
        port = server.getsockname()[1]
        code = f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
        result = run_python(code, LIMITS, network=network)
        assert result.outcome == "failed" and "OSError" in result.stderr_tail
        with pytest.raises(TimeoutError):
            server.accept()  # nothing reached the server


def test_the_low_level_socket_module_is_blocked_by_the_prelude() -> None:
    result = run_python("import _socket\n_socket.socket()\n", LIMITS, network="prelude")
    assert result.outcome == "failed"


def test_the_program_sees_an_empty_environment_in_a_scratch_folder_that_is_removed() -> None:
    code = (
        "import os, sys\n"
        "assert set(os.environ) <= {'PATH', 'LANG', 'LC_CTYPE'}, sorted(os.environ)\n"
        "assert os.path.basename(os.getcwd()).startswith('genesis-sandbox-')\n"
        "assert not any('site-packages' in p for p in sys.path), sys.path\n"
        "assert sys.stdin is None or sys.stdin.read() == ''\n"
        "print(os.getcwd(), file=sys.stderr)\n"
        "open('scratch.txt', 'w').write('x')\n"
    )
    result = run_python(code, LIMITS)
    assert result.outcome == "passed", result.stderr_tail
    assert not Path(result.stderr_tail.strip()).exists()


def test_the_worker_environment_is_not_importable() -> None:
    """No site-packages: the code cannot import torch, nats or the worker itself."""
    result = run_python("import trainer_worker\n", LIMITS)
    assert result.outcome == "failed" and "ModuleNotFoundError" in result.stderr_tail


def test_big_files_are_cut_by_the_file_size_limit() -> None:
    limits = SandboxLimits(cpu_seconds=2, memory_mb=256, wall_seconds=5, file_size_mb=1)
    result = run_python("open('big', 'wb').write(b'0' * (4 * 1024 * 1024))\n", limits)
    assert result.outcome == "failed" and "File too large" in result.stderr_tail


@pytest.mark.parametrize("network", NETWORKS)
def test_processes_left_behind_are_killed(network: str, tmp_path: Path) -> None:
    """A background child that outlives the program dies with it (process group / PID namespace)."""
    marker = tmp_path / "still-alive"
    child = f"import time; time.sleep(0.5); open({str(marker)!r}, 'w').write('x')"
    code = f"import subprocess, sys\nsubprocess.Popen([sys.executable, '-c', {child!r}])\n"
    result = run_python(code, LIMITS, network=network)
    assert result.outcome == "passed", result.stderr_tail
    time.sleep(1.5)
    assert not marker.exists()
