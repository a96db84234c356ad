"""The two programs of a sandboxed test run: the *code* side runs the generated code, the *judge*
side runs the item's tests. sandbox.py starts each as `python -I -S -B -c <this file's source>
ROLE ...` in its own sandbox and joins them with two pipes; nothing else connects them.

Why two processes (docs/adr/0011-sandbox.md): code that shares an interpreter with the tests can
end the run (`raise SystemExit(0)`, `os._exit(0)` from an atexit hook), rewrite `AssertionError`
or builtins, return an object whose `__eq__` is always true, or read the tests and answer them.
Here the generated code never shares a process with the tests: the judge calls the code's
functions over the pipe, sends arguments and gets results back as *plain data* (None, bool, int,
float, complex, str, bytes, list, tuple, dict, set, frozenset), rebuilt by the judge's own decoder,
so whatever the code does to its own interpreter, all that reaches the judge is values. Objects
of the tests passed to the code become handles whose comparisons, len, iteration, ... run in the
judge (a fixed list of operations: no attribute access, no calls). The verdict is written by the
judge alone, after the tests ran, on a pipe to the worker, tagged with a per-run nonce; a run
without that record (an early exit of the judge, a kill) is a failure.

This file must run on any Python >= 3.10 (the sandbox may use another interpreter than the worker)
and imports nothing outside the standard library.
"""

import builtins
import json
import operator
import os
import struct
import sys
import types

MAX_FRAME = 16 << 20  # bytes of one message on the pipe
ERROR_TAIL = 1500  # characters of a traceback kept in the verdict


# --- both sides ---------------------------------------------------------------------------------


def set_limits(cpu, memory, fsize, nproc):
    """Soft = hard, so the code cannot raise them again; CPU: SIGXCPU at the limit, SIGKILL a
    second later. Set here, in the fresh interpreter, before any untrusted byte is read."""
    import resource

    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    if nproc:
        resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))


def read_all(fd):
    """The whole content of an inherited file descriptor, which is then closed."""
    chunks = []
    while True:
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(fd)
    return b"".join(chunks).decode("utf-8")


class Channel:
    """Length-prefixed JSON messages over a pair of pipes."""

    def __init__(self, read_fd, write_fd):
        self.read_fd, self.write_fd = read_fd, write_fd

    def send(self, message):
        data = json.dumps(message).encode("utf-8")
        data = struct.pack(">I", len(data)) + data
        while data:
            data = data[os.write(self.write_fd, data) :]

    def recv(self):
        """The next message, or None when the other side is gone or sent something malformed."""
        head = self._exactly(4)
        if head is None:
            return None
        (size,) = struct.unpack(">I", head)
        if size > MAX_FRAME:
            return None
        body = self._exactly(size)
        if body is None:
            return None
        try:
            message = json.loads(body.decode("utf-8"))
        except ValueError:
            return None
        return message if isinstance(message, dict) else None

    def _exactly(self, size):
        parts, left = [], size
        while left:
            try:
                chunk = os.read(self.read_fd, left)
            except OSError:
                return None
            if not chunk:
                return None
            parts.append(chunk)
            left -= len(chunk)
        return b"".join(parts)


class Unsendable(TypeError):
    pass


def encode(value, handle):
    """Plain data as tagged JSON; anything else goes through `handle` (a side's own references)."""
    kind = type(value)
    if value is None or kind in (bool, int, float, str):
        return value
    if kind is list:
        return {"list": [encode(v, handle) for v in value]}
    if kind is tuple:
        return {"tuple": [encode(v, handle) for v in value]}
    if kind is dict:
        return {"dict": [[encode(k, handle), encode(v, handle)] for k, v in value.items()]}
    if kind is set or kind is frozenset:
        return {kind.__name__: [encode(v, handle) for v in value]}
    if kind is bytes or kind is bytearray:
        return {kind.__name__: value.hex()}
    if kind is complex:
        return {"complex": [value.real, value.imag]}
    for base in (int, float, str):  # IntEnum, str subclasses, ...: their plain value
        if isinstance(value, base):
            return base.__dict__["__str__" if base is str else f"__{base.__name__}__"](value)
    return handle(value)


def decode(value, resolve):
    """The inverse of encode, building only builtin values; `resolve` maps {"obj"/"fn": ...}."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list) or not isinstance(value, dict) or len(value) != 1:
        raise ValueError("malformed value on the sandbox channel")
    ((tag, body),) = value.items()
    if tag == "list":
        return [decode(v, resolve) for v in body]
    if tag == "tuple":
        return tuple(decode(v, resolve) for v in body)
    if tag == "dict":
        return {decode(k, resolve): decode(v, resolve) for k, v in body}
    if tag == "set":
        return {decode(v, resolve) for v in body}
    if tag == "frozenset":
        return frozenset(decode(v, resolve) for v in body)
    if tag == "bytes":
        return bytes.fromhex(body)
    if tag == "bytearray":
        return bytearray.fromhex(body)
    if tag == "complex":
        return complex(float(body[0]), float(body[1]))
    if tag == "iter":
        return iter([decode(v, resolve) for v in body])
    if tag in ("obj", "fn"):
        return resolve(tag, body)
    raise ValueError(f"unknown tag {tag!r} on the sandbox channel")


def format_exc():
    import traceback  # on failures only: its import costs more than a passing run's whole harness

    return traceback.format_exc()


def exception_message(err):
    return {"kind": "raise", "type": type(err).__name__, "message": str(err)[:ERROR_TAIL]}


def serve_until_reply(channel, serve):
    """Waits for the reply to a request this side sent, answering the other side's own requests
    (a call made while an operation runs) in the meantime. None: the other side is gone."""
    while True:
        message = channel.recv()
        if message is None or message.get("kind") not in ("call", "op"):
            return message
        channel.send(serve(message))


# --- the code side ------------------------------------------------------------------------------


def code_side(argv):
    cpu, memory, fsize, nproc, source_fd, read_fd, write_fd = (int(a) for a in argv)
    set_limits(cpu, memory, fsize, nproc)
    source = read_all(source_fd)
    channel = Channel(read_fd, write_fd)
    stubs = {}  # the judge's objects, one stub each, so that identity holds
    namespace = {"__name__": "__main__", "__file__": "main.py", "__builtins__": builtins}

    def resolve(tag, body):
        if tag == "fn":
            return namespace[body]
        if body not in stubs:
            stubs[body] = Stub(body)
        return stubs[body]

    def handle(value):
        if isinstance(value, Stub):
            return {"obj": object.__getattribute__(value, "_ref")}
        if isinstance(value, (types.GeneratorType, map, filter, zip, reversed, enumerate, range)):
            return {"iter": [encode(v, handle) for v in value]}
        if isinstance(value, types.FunctionType) and namespace.get(value.__name__) is value:
            return {"fn": value.__name__}
        raise Unsendable(f"the code returned a {type(value).__name__}, which is not plain data")

    def operation(name, target, *args):
        channel.send(
            {
                "kind": "op",
                "op": name,
                "obj": object.__getattribute__(target, "_ref"),
                "args": [encode(a, handle) for a in args],
            }
        )
        reply = serve_until_reply(channel, serve)
        if reply is None:
            os._exit(3)  # the judge is gone: nothing left to answer
        if reply.get("kind") == "return":
            return decode(reply.get("value"), resolve)
        kind = getattr(builtins, str(reply.get("type")), None)
        if isinstance(kind, type) and issubclass(kind, Exception):
            raise kind(reply.get("message"))
        raise RuntimeError("{}: {}".format(reply.get("type"), reply.get("message")))

    class Stub:
        """An object of the tests: every operation on it runs in the judge."""

        __slots__ = ("_ref",)

        def __init__(self, ref):
            object.__setattr__(self, "_ref", ref)

    def forward(name):
        return lambda self, *args: operation(name, self, *args)

    for op_name in OPERATIONS:
        setattr(Stub, f"__{op_name}__", forward(op_name))

    def serve(message):
        if message.get("kind") != "call" or message.get("name") not in exported:
            return {"kind": "raise", "type": "PermissionError", "message": "not a function of the code"}
        try:
            args = [decode(a, resolve) for a in message.get("args", [])]
            kwargs = {k: decode(v, resolve) for k, v in message.get("kwargs", {}).items()}
            result = namespace[message["name"]](*args, **kwargs)
            return {
                "kind": "return",
                "value": encode(result, handle),
                "args": [encode(a, handle) for a in args],
                "kwargs": {k: encode(v, handle) for k, v in kwargs.items()},
            }
        except Unsendable as err:
            return {"kind": "unsendable", "message": str(err)}
        except BaseException as err:  # noqa: BLE001 - SystemExit from a function is its answer too
            return exception_message(err)

    try:
        exec(compile(source, "main.py", "exec"), namespace)
    except BaseException:  # noqa: BLE001 - reported to the judge, which fails the run
        channel.send({"kind": "error", "message": format_exc()[-ERROR_TAIL:]})
        sys.exit(1)
    exported = {n for n, v in namespace.items() if not n.startswith("__") and callable(v)}
    values = {}
    for name, value in namespace.items():
        if not name.startswith("__") and name not in exported and not isinstance(value, types.ModuleType):
            try:
                values[name] = encode(value, handle)
            except (Unsendable, RecursionError, ValueError):
                pass
    channel.send({"kind": "ready", "functions": sorted(exported), "values": values})
    while True:
        message = channel.recv()
        if message is None:
            os._exit(0)
        channel.send(serve(message))


# The operations that a stub of the tests' objects forwards to the judge. Deliberately no
# attribute access and no call: through those the code could walk from a test object to the
# judge's globals.
OPERATIONS = {
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
    "hash": hash,
    "len": len,
    "bool": bool,
    "contains": operator.contains,
    "getitem": operator.getitem,
    "iter": iter,
    "next": next,
    "str": str,
    "repr": repr,
    "int": int,
    "float": float,
    "index": operator.index,
}


# --- the judge side -----------------------------------------------------------------------------


class CodeFailed(BaseException):
    """The code under test died, sent something that is not plain data, or ended the run: the
    test fails. A BaseException, so a test's `except Exception:` cannot swallow it."""


class CodeRaised(Exception):
    """The code raised an exception of its own type (the judge has no such class)."""


def judge_side(argv):
    cpu, memory, fsize, nproc, tests_fd, read_fd, write_fd, result_fd = (int(a) for a in argv[:8])
    entry_point = argv[8] if len(argv) > 8 else ""
    set_limits(cpu, memory, fsize, nproc)
    nonce, _, tests = read_all(tests_fd).partition("\n")
    channel = Channel(read_fd, write_fd)
    objects, ids, calls = [], {}, [0]
    proxies = {}

    def verdict(passed, error=""):
        record = json.dumps({"nonce": nonce, "passed": passed, "calls": calls[0], "error": error})
        os.write(result_fd, record.encode("utf-8")[: 1 << 15])
        os._exit(0)

    def handle(value):
        if isinstance(value, Remote):
            return {"fn": value.__name__}
        if id(value) not in ids:
            ids[id(value)] = len(objects)
            objects.append(value)
        return {"obj": ids[id(value)]}

    def resolve(tag, body):
        if tag == "fn":
            if body not in proxies:
                raise CodeFailed(f"the code sent an unknown function {body!r}")
            return proxies[body]
        if not isinstance(body, int) or not 0 <= body < len(objects):
            raise CodeFailed("the code sent an unknown object")
        return objects[body]

    def serve(message):
        operation = OPERATIONS.get(message.get("op")) if message.get("kind") == "op" else None
        if operation is None:
            return {"kind": "raise", "type": "PermissionError", "message": "not an allowed operation"}
        try:
            target = resolve("obj", message.get("obj"))
            args = [decode(a, resolve) for a in message.get("args", [])]
            return {"kind": "return", "value": encode(operation(target, *args), handle)}
        except Exception as err:  # noqa: BLE001 - StopIteration, TypeError, ...: the code's to handle
            return exception_message(err)

    def decoded(value):
        try:
            return decode(value, resolve)
        except (ValueError, TypeError, KeyError, IndexError, RecursionError) as err:
            raise CodeFailed(f"the code sent a malformed value: {err}") from None

    class Remote:
        """A function of the code under test, called over the pipe."""

        def __init__(self, name):
            self.__name__ = self.__qualname__ = name

        def __call__(self, *args, **kwargs):
            calls[0] += 1
            channel.send(
                {
                    "kind": "call",
                    "name": self.__name__,
                    "args": [encode(a, handle) for a in args],
                    "kwargs": {k: encode(v, handle) for k, v in kwargs.items()},
                }
            )
            reply = serve_until_reply(channel, serve)
            if reply is None:
                raise CodeFailed("the code under test exited or was killed during a call")
            kind = reply.get("kind")
            if kind == "return":
                for original, after in zip(args, reply.get("args", []), strict=False):
                    copy_back(original, decoded(after))
                return decoded(reply.get("value"))
            if kind == "raise":
                name, message = str(reply.get("type")), reply.get("message")
                exception = getattr(builtins, name, None)
                if isinstance(exception, type) and issubclass(exception, Exception):
                    raise exception(message)
                if isinstance(exception, type) and issubclass(exception, BaseException):
                    raise CodeFailed(f"the code raised {name} during a call")
                raise CodeRaised(f"{name}: {message}")
            raise CodeFailed(str(reply.get("message") or "the code sent an unexpected message"))

        def __repr__(self):
            return f"<function {self.__name__}>"

    ready = channel.recv()
    if ready is None or ready.get("kind") != "ready":
        reason = (ready or {}).get("message") or "it exited before the tests could run"
        verdict(False, f"the code did not load: {str(reason)[-ERROR_TAIL:]}")
    namespace = {"__name__": "__main__", "__file__": "tests.py", "__builtins__": builtins}
    try:
        # A name of the code that shadows a builtin (`def abs(x): return 0`) would change what the
        # tests compute: the tests keep the real one (the entry point is still reachable below).
        for name in ready.get("functions", []):
            proxies[name] = Remote(str(name))
            if not hasattr(builtins, name):
                namespace[name] = proxies[name]
        for name, value in ready.get("values", {}).items():
            if not hasattr(builtins, name):
                namespace[name] = decoded(value)
        exec(compile(tests, "tests.py", "exec"), namespace)
        if entry_point:
            namespace["check"](proxies[entry_point] if entry_point in proxies else namespace[entry_point])
    except BaseException:  # noqa: BLE001 - any way out of the tests but the end is a failure
        verdict(False, format_exc()[-ERROR_TAIL:])
    verdict(True)


def copy_back(original, after):
    """A function that changes a list, dict, set or bytearray argument in place: the same change
    to the judge's object (the tests may check it)."""
    if type(original) is not type(after) or original is after:
        return
    if isinstance(original, (list, bytearray)):
        original[:] = after
    elif isinstance(original, (dict, set)):
        original.clear()
        original.update(after)


if __name__ == "__main__":
    sys.set_int_max_str_digits(0) if hasattr(sys, "set_int_max_str_digits") else None
    role, arguments = sys.argv[1], sys.argv[2:]
    sys.argv = [role]
    code_side(arguments) if role == "code" else judge_side(arguments)
