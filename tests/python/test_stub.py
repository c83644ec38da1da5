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


_OPERATORS = {"str()": "__str__", "repr()": "__repr__", "[]": "__getitem__", "[]=": "__setitem__", "in": "__contains__"}
_ITERATION = "__iter__"


def _documented_names(doc: str, kind: str) -> list[str]:
    """The ``names`` of the "* native" or "* Python" bullet of a module docstring."""
    bullet = re.search(rf"^\* {kind}.*?(?=^\* |^\S|\Z)", doc, re.M | re.S)
    assert bullet, f"no '* {kind}' bullet"
    text = bullet.group(0)
    names = [_OPERATORS.get(n, n) for n in re.findall(r"``([^`]+)``", text)]
    names = [n for part in names for n in part.split("/")]  # as_marc/as_marc21
    if "iteration" in text:
        names.append(_ITERATION)
    if "pickling" in text:
        names.append("__reduce__")
    if "constructor" in text:
        names.append("__init__")
    return [n for n in names if n.isidentifier()]


@pytest.mark.parametrize("module_name", ["record", "field"])
def test_the_map_of_native_and_python_methods_is_true(module_name):
    """record.py and field.py say at the top which methods are native and which are Python."""
    import importlib
    import types

    module = importlib.import_module(f"rapidmarc.{module_name}")
    cls = getattr(module, module_name.capitalize())
    doc = module.__doc__ or ""

    def python_defined(name: str) -> bool:
        attr = next((k.__dict__[name] for k in type.mro(cls) if name in k.__dict__), None)
        assert attr is not None, f"{cls.__name__}.{name} does not exist"
        if isinstance(attr, property):
            attr = attr.fget
        if isinstance(attr, classmethod | staticmethod):
            attr = attr.__func__
        return isinstance(attr, types.FunctionType)

    native = _documented_names(doc, "native")
    python = _documented_names(doc, "Python")
    assert len(native) > 10 and len(python) > 5
    for name in native:
        assert not python_defined(name), f"{cls.__name__}.{name} is documented native but written in Python"
    for name in python:
        assert python_defined(name), f"{cls.__name__}.{name} is documented as Python but is native"
