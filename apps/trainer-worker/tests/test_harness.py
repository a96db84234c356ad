"""Honesty: generated code cannot end, fake or sway a test run; correct code still passes.

Each exploit is a wrong solution (it returns None or nothing useful) plus a trick that made a run
"pass" when passing meant exiting 0 with the code and the tests in one interpreter. All must score
0, in every mode (the two-process harness does not depend on containment); canonical solutions of
HumanEval-style problems (written inline, in the package's own form: `test` defines
`check(candidate)`, the item names its `entry_point`) must score 1.
"""

from __future__ import annotations

import pytest

from trainer_worker.sandbox import SandboxLimits, run_tests

LIMITS = SandboxLimits(cpu_seconds=2, memory_mb=256, wall_seconds=5)
MODES = ["bwrap", "external"]  # auto is bwrap here (test_sandbox.py)

# HumanEval/0-style: the problem's prompt + a completion is the program, `test` its check.
HAS_CLOSE = """from typing import List


def has_close_elements(numbers: List[float], threshold: float) -> bool:
    for idx, elem in enumerate(numbers):
        for idx2, elem2 in enumerate(numbers):
            if idx != idx2 and abs(elem - elem2) < threshold:
                return True
    return False
"""
HAS_CLOSE_TEST = """METADATA = {'author': 'jt', 'dataset': 'test'}


def check(candidate):
    assert candidate([1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.3) == True
    assert candidate([1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.05) == False
    assert candidate([1.0, 2.0, 5.9, 4.0, 5.0], 0.95) == True
    assert candidate([1.1, 2.2, 3.1, 4.1, 5.1], 1.0) == True
"""
# HumanEval/38-style: the test calls a second function of the program, not only the candidate.
CYCLIC = """def encode_cyclic(s: str):
    groups = [s[(3 * i):min((3 * i + 3), len(s))] for i in range((len(s) + 2) // 3)]
    groups = [(group[1:] + group[0]) if len(group) == 3 else group for group in groups]
    return "".join(groups)


def decode_cyclic(s: str):
    return encode_cyclic(encode_cyclic(s))
"""
CYCLIC_TEST = """def check(candidate):
    from random import randint, choice
    import string

    letters = string.ascii_lowercase
    for _ in range(100):
        str = ''.join(choice(letters) for i in range(randint(10, 20)))
        encoded_str = encode_cyclic(str)
        assert candidate(encoded_str) == str
"""
# Floats, a tuple result, an exception the tests expect, and a list sorted in place.
MIXED = """import math


def mean_and_spread(xs):
    m = sum(xs) / len(xs)
    return m, math.sqrt(sum((x - m) ** 2 for x in xs) / len(xs))


def checked_sqrt(x):
    if x < 0:
        raise ValueError("negative")
    return math.sqrt(x)


def sort_in_place(xs):
    xs.sort()


def evens(n):
    for i in range(n):
        if i % 2 == 0:
            yield i
"""
MIXED_TEST = """def check(candidate):
    m, s = candidate([2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0])
    assert abs(m - 5.0) < 1e-9 and abs(s - 2.0) < 1e-9
    try:
        checked_sqrt(-1)
        assert False, "expected ValueError"
    except ValueError:
        pass
    assert checked_sqrt(9) == 3.0
    xs = [3, 1, 2]
    sort_in_place(xs)
    assert xs == [1, 2, 3]
    assert list(evens(7)) == [0, 2, 4, 6]
"""
PROBLEMS = {
    "has_close_elements": (HAS_CLOSE, HAS_CLOSE_TEST),
    "decode_cyclic": (CYCLIC, CYCLIC_TEST),
    "mean_and_spread": (MIXED, MIXED_TEST),
}
WRONG = "def has_close_elements(numbers, threshold):\n    return None\n"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("entry_point", sorted(PROBLEMS))
def test_canonical_solutions_pass(mode: str, entry_point: str) -> None:
    code, test = PROBLEMS[entry_point]
    result = run_tests(code, test, LIMITS, mode, entry_point=entry_point)  # type: ignore[arg-type]
    assert result.passed, result.stderr_tail


@pytest.mark.parametrize("mode", MODES)
def test_a_wrong_solution_fails_and_says_where(mode: str) -> None:
    result = run_tests(WRONG, HAS_CLOSE_TEST, LIMITS, mode, entry_point="has_close_elements")  # type: ignore[arg-type]
    assert result.outcome == "failed"
    assert (
        'File "tests.py", line 5, in check' in result.stderr_tail and "AssertionError" in result.stderr_tail
    )


def test_tests_without_a_check_function_run_at_top_level() -> None:
    """The project's own items: plain asserts after the program (regression.v1)."""
    code = "def add(a, b):\n    return a + b\n"
    assert run_tests(code, "assert add(2, 3) == 5\nassert add(-1, 1) == 0", LIMITS).passed
    assert not run_tests(code, "assert add(2, 3) == 6", LIMITS).passed
    assert run_tests("z = 1", "assert z == 1", LIMITS).passed  # the program's plain values


EXPLOITS = {
    # the two reported exploits: exit before the tests, or from an atexit hook after `return None`
    "raise SystemExit(0)": WRONG + "raise SystemExit(0)\n",
    "atexit os._exit(0)": "import atexit, os\natexit.register(lambda: os._exit(0))\n" + WRONG,
    "os._exit(0) in the function": "import os\ndef has_close_elements(xs, t):\n    os._exit(0)\n",
    "sys.exit(0) in the function": "import sys\ndef has_close_elements(xs, t):\n    sys.exit(0)\n",
    "BaseException in the function": (
        "class Out(BaseException):\n    pass\ndef has_close_elements(numbers, threshold):\n    raise Out()\n"
    ),
    "KeyboardInterrupt": "def has_close_elements(numbers, threshold):\n    raise KeyboardInterrupt\n",
    "patched AssertionError": (
        "import builtins\nclass Never(Exception):\n    pass\nbuiltins.AssertionError = Never\n" + WRONG
    ),
    "patched builtins": (
        "import builtins\nbuiltins.abs = lambda x: 0\nbuiltins.len = lambda x: 0\n"
        "builtins.__import__ = None\n" + WRONG
    ),
    "always-equal object": (
        "class Yes:\n    def __eq__(self, other):\n        return True\n    __hash__ = object.__hash__\n"
        "def has_close_elements(numbers, threshold):\n    return Yes()\n"
    ),
    "always-equal str subclass": (
        "class Yes(str):\n    def __eq__(self, other):\n        return True\n    __hash__ = str.__hash__\n"
        "def has_close_elements(numbers, threshold):\n    return Yes('x')\n"
    ),
    "fake success lines": (
        "import os, sys, json\n"
        "for line in ('PASSED', json.dumps({'passed': True, 'calls': 4, 'error': ''})):\n"
        "    print(line)\n    print(line, file=sys.stderr)\n"
        "    for fd in range(3, 256):\n"
        "        try:\n            os.write(fd, line.encode())\n        except OSError:\n            pass\n"
        + WRONG
    ),
    "reads the tests": (
        "import glob\ndef has_close_elements(numbers, threshold):\n"
        "    for path in glob.glob('/**/*.py', recursive=True) + ['tests.py', '/scratch/tests.py']:\n"
        "        try:\n            if 'def check' in open(path).read():\n                return True\n"
        "        except OSError:\n            pass\n"
        "    return None\n"
    ),
    "kills everything it can": (
        "import os, signal\n"
        "def has_close_elements(numbers, threshold):\n"
        "    for pid in [-1, 1, os.getppid()] + list(range(2, 64)):\n"
        "        if pid != os.getpid():\n"
        "            try:\n                os.kill(pid, signal.SIGKILL)\n"
        "            except OSError:\n                pass\n"
        "    return None\n"
    ),
    "sends a forged reply": (
        "import os, json, struct\n"
        "def has_close_elements(numbers, threshold):\n"
        "    msg = json.dumps({'kind': 'return', 'value': True, 'args': []}).encode()\n"
        "    for fd in range(3, 16):\n"
        "        try:\n            os.write(fd, struct.pack('>I', len(msg)) + msg)\n"
        "        except OSError:\n            pass\n"
        "    return None\n"
    ),
    "shadows the builtins the tests use": (
        "def abs(x):\n    return 0\ndef len(x):\n    return 4\n"
        "def has_close_elements(numbers, threshold):\n    return 0\n"
    ),
    "hangs after returning": (
        "import threading, time\n"
        "threading.Thread(target=lambda: time.sleep(60), daemon=False).start()\n" + WRONG
    ),
}


# Uncontained, this one would signal every process of the sandbox user on the machine.
CONTAINED_ONLY = {"kills everything it can"}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("exploit", sorted(EXPLOITS))
def test_exploits_score_zero(mode: str, exploit: str) -> None:
    if mode == "external" and exploit in CONTAINED_ONLY:
        pytest.skip("external mode does not contain signals; test_sandbox.py covers it under bwrap")
    result = run_tests(EXPLOITS[exploit], HAS_CLOSE_TEST, LIMITS, mode, entry_point="has_close_elements")  # type: ignore[arg-type]
    assert not result.passed, (exploit, result)


def test_a_function_that_shadows_a_builtin_does_not_change_the_tests() -> None:
    """HumanEval/4's form: `abs(candidate(...) - x) < 1e-6`. A program that redefines abs() to
    return 0 would pass with any answer if the tests used its abs."""
    tests = "def check(candidate):\n    assert abs(candidate([1.0, 2.0, 3.0]) - 2.0 / 3.0) < 1e-6\n"
    cheat = "def abs(x):\n    return 0\ndef mad(xs):\n    return 0.0\n"
    assert not run_tests(cheat, tests, LIMITS, entry_point="mad").passed
    honest = "def mad(xs):\n    m = sum(xs) / len(xs)\n    return sum(abs(x - m) for x in xs) / len(xs)\n"
    assert run_tests(honest, tests, LIMITS, entry_point="mad").passed


@pytest.mark.parametrize("mode", MODES)
def test_a_forged_reply_is_still_only_an_answer(mode: str) -> None:
    """Writing a well-formed reply on the channel by hand gives the judge just a value: with the
    right value it is a right answer (the channel carries data, nothing else)."""
    code = (
        "import os, json, struct, sys\n"
        "def has_close_elements(numbers, threshold):\n"
        "    return any(abs(a - b) < threshold for i, a in enumerate(numbers) for b in numbers[i + 1:])\n"
    )
    assert run_tests(code, HAS_CLOSE_TEST, LIMITS, mode, entry_point="has_close_elements").passed  # type: ignore[arg-type]


def test_the_code_cannot_see_the_tests_or_the_nonce() -> None:
    """The code's sandbox holds its own source and nothing of the tests: a function that looks for
    the expected answers finds none (fd scan, files, environment)."""
    code = (
        "import os\n"
        "def look():\n"
        "    seen = []\n"
        "    for fd in range(0, 64):\n"
        "        try:\n            os.set_blocking(fd, False)\n"
        "            seen.append(os.read(fd, 1 << 16).decode('utf-8', 'replace'))\n"
        "        except OSError:\n            pass\n"
        "    return '\\n'.join(seen) + str(dict(os.environ)) + str(os.listdir('.'))\n"
    )
    tests = "SECRET = 'expected-answer-' + '42'\nassert SECRET not in look()\n"
    result = run_tests(code, tests, LIMITS)
    assert result.passed, result.stderr_tail


def test_objects_of_the_tests_are_used_in_the_judge() -> None:
    """A test object passed to the code: its comparisons run in the judge (regression-010)."""
    tests = (
        "class AlwaysEqual:\n    def __eq__(self, other):\n        return True\n\n"
        "assert is_missing(None)\nassert not is_missing(0)\nassert not is_missing(AlwaysEqual())\n"
    )
    assert run_tests("def is_missing(value):\n    return value is None", tests, LIMITS).passed
    assert not run_tests("def is_missing(value):\n    return value == None", tests, LIMITS).passed


def test_a_stub_gives_no_way_into_the_judge() -> None:
    """Attribute access and calls on a test object are not forwarded (through them the code could
    walk to the judge's globals); the listed operations are."""
    code = (
        "def call(obj):\n    return obj()\n"
        "def attribute(obj):\n    return obj.secret\n"
        "def globals_of(obj):\n    return sorted(obj.__init__.__globals__)\n"
        "def size(obj):\n    return len(obj)\n"
    )
    tests = (
        "class Thing:\n    secret = 'judge-secret'\n"
        "    def __call__(self):\n        return 1\n"
        "    def __len__(self):\n        return 3\n\n"
        "assert size(Thing()) == 3\n"
    )
    assert run_tests(code, tests, LIMITS).passed
    for escape in (
        "call(Thing()) == 1",
        "attribute(Thing()) == 'judge-secret'",
        "'verdict' in globals_of(Thing())",
    ):
        result = run_tests(code, tests + f"assert {escape}\n", LIMITS)
        assert not result.passed, escape
