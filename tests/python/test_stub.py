"""_core.pyi against the built extension, for what mypy.stubtest (make lint) cannot see: nanobind's
functions and methods are nb_func objects, whose signatures stubtest skips. nanobind records each
one's signature (__nb_signature__); every native function and method must have the parameters
the stub declares, with defaults in the same places."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.rapidmarc_only

STUB = Path(__file__).resolve().parents[2] / "python" / "rapidmarc" / "_core.pyi"


def _params(args: ast.arguments) -> list[tuple[str, bool]]:
    """(name, has a default) of every parameter but self, *args and **kwargs."""
    positional = args.posonlyargs + args.args
    defaults = [False] * (len(positional) - len(args.defaults)) + [True] * len(args.defaults)
    out = [(a.arg, d) for a, d in zip(positional, defaults, strict=True)]
    out += [(a.arg, d is not None) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True)]
    return [p for p in out if p[0] != "self"]


def _native_signature(obj: object) -> list[tuple[str, bool]] | None:
    sigs = getattr(obj, "__nb_signature__", None)
    if not sigs:
        return None
    (text, *_), *overloads = sigs
    assert not overloads, f"{obj!r} is overloaded natively; the stub declares one signature"
    # nanobind writes a default as "\\N", an index into the rest of the signature tuple.
    tree = ast.parse(re.sub(r"\\\d+", "...", text.replace("def ", "def _", 1)) + ": ...")
    func = tree.body[0]
    assert isinstance(func, ast.FunctionDef)
    return _params(func.args)


def _stub_functions() -> list[tuple[str, str | None, ast.FunctionDef]]:
    tree = ast.parse(STUB.read_text())
    found: list[tuple[str, str | None, ast.FunctionDef]] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            found.append((node.name, None, node))
        elif isinstance(node, ast.ClassDef):
            found += [(item.name, node.name, item) for item in node.body if isinstance(item, ast.FunctionDef)]
    return found


def test_every_native_function_matches_the_stub():
    from rapidmarc import _core

    checked = 0
    for name, cls, func in _stub_functions():
        owner = _core if cls is None else getattr(_core, cls)
        runtime = getattr(owner, name, None)
        assert runtime is not None, f"{cls or '_core'}.{name} is in the stub but not in the extension"
        native = _native_signature(runtime)
        if native is None:  # a Python method attached by rapidmarc, or a C-API slot: stubtest's job
            continue
        if any(isinstance(d, ast.Name) and d.id == "property" for d in func.decorator_list):
            continue
        assert native == _params(func.args), f"{cls or '_core'}.{name}: native {native} != stub {_params(func.args)}"
        checked += 1
    assert checked >= 20  # the bulk functions, Record's and Reader's native methods


def test_every_native_function_is_in_the_stub():
    from rapidmarc import _core

    stubbed = {(cls, name) for name, cls, _ in _stub_functions()}
    for name in dir(_core):
        obj = getattr(_core, name)
        if _native_signature(obj) is not None:
            assert (None, name) in stubbed, f"_core.{name} is missing from the stub"
        elif isinstance(obj, type):
            for attr, member in vars(obj).items():
                if _native_signature(member) is not None and not attr.startswith("__"):
                    assert (name, attr) in stubbed, f"_core.{name}.{attr} is missing from the stub"
