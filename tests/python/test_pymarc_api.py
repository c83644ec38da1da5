"""Every public name of pymarc 5.4 exists in rapidmarc, in the module of the same name, of the same
kind, with a signature pymarc's callers can use (issue #15).

"Public" means what a script can import from a pymarc module and that pymarc itself defines: the
classes and functions of pymarc's own modules, and the constants its source assigns at module level
(names pymarc merely imports from the standard library, such as ``typing.Union``, are not pymarc's
API). A name rapidmarc does not have is a failure; so is a class that is a function, a parameter
pymarc callers pass that rapidmarc lacks or gives another default, and a constant of another value.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import logging
import pkgutil
import re
from pathlib import Path

import pytest

rapidmarc = pytest.importorskip("rapidmarc")
pymarc = pytest.importorskip("pymarc")

PYMARC_MODULES = ["pymarc"] + sorted(f"pymarc.{m.name}" for m in pkgutil.iter_modules(pymarc.__path__))


def _assigned_constants() -> set[str]:
    """Names pymarc's source assigns at module level, in any of its modules."""
    names: set[str] = set()
    for path in Path(pymarc.__file__).parent.glob("*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            targets = (
                node.targets
                if isinstance(node, ast.Assign)
                else [node.target]
                if isinstance(node, ast.AnnAssign)
                else []
            )
            names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


CONSTANTS = _assigned_constants()


def _is_pymarcs(obj: object, name: str) -> bool:
    if inspect.ismodule(obj):
        return False
    if inspect.isclass(obj) or inspect.isfunction(obj):
        return getattr(obj, "__module__", "").split(".")[0] == "pymarc"
    return name in CONSTANTS


def public_names(module_name: str) -> list[tuple[str, object]]:
    module = importlib.import_module(module_name)
    names = getattr(module, "__all__", None) or [n for n in dir(module) if not n.startswith("_")]
    return [(n, getattr(module, n)) for n in sorted(set(names)) if _is_pymarcs(getattr(module, n), n)]


# Nothing is left out: a module listed here would be skipped, with its reason.
NOT_YET: dict[str, str] = {}
# pymarc's Record keeps its iteration position in a slot, ``pos``; rapidmarc's iterator is separate.
INTERNAL = {("Record", "pos")}

CASES = [(m, n) for m in PYMARC_MODULES for n, _ in public_names(m)]


def test_the_enumeration_finds_pymarcs_api():
    # A guard against a test that checks nothing: the names everyone uses are among the cases.
    for expected in [
        ("pymarc", "MARCReader"),
        ("pymarc.marc8", "MARC8ToUnicode"),
        ("pymarc.field", "RawField"),
        ("pymarc.constants", "LEADER_LEN"),
        ("pymarc.record", "map_marc8_record"),
        ("pymarc.marc8_mapping", "CODESETS"),
    ]:
        assert expected in CASES
    assert ("pymarc", "Union") not in CASES and ("pymarc", "make_parser") not in CASES
    assert len(CASES) > 150


def _ours(module_name: str, name: str) -> object:
    ours = importlib.import_module(module_name.replace("pymarc", "rapidmarc", 1))
    assert hasattr(ours, name), f"{ours.__name__} has no {name}"
    return getattr(ours, name)


def _parameters(obj: object) -> list[inspect.Parameter] | None:
    try:
        return list(inspect.signature(obj).parameters.values())  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _nanobind_parameters(obj: object) -> list[inspect.Parameter] | None:
    """The parameters of a nanobind function (or a nanobind class's __init__), from __nb_signature__:
    a text with placeholders \\0, \\1, ... for the default values given beside it."""
    signatures = getattr(obj, "__nb_signature__", None)
    if signatures is None and inspect.isclass(obj):
        signatures = getattr(obj.__init__, "__nb_signature__", None)
    if not signatures:
        return None
    text, _, defaults = signatures[0]
    inside = text[text.index("(") + 1 : text.rindex(")")]
    params = []
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    for part in re.split(r",\s*(?![^\[\]()]*[\])])", inside):
        part = part.strip()
        if part == "*":
            kind = inspect.Parameter.KEYWORD_ONLY
            continue
        if not part or part == "/" or part.split(":")[0].strip() == "self":
            continue
        if part.startswith("**"):
            params.append(inspect.Parameter(part[2:].split(":")[0].strip(), inspect.Parameter.VAR_KEYWORD))
            continue
        if part.startswith("*"):
            params.append(inspect.Parameter(part[1:].split(":")[0].strip(), inspect.Parameter.VAR_POSITIONAL))
            kind = inspect.Parameter.KEYWORD_ONLY
            continue
        head, _, default_text = part.partition("=")
        default = inspect.Parameter.empty
        if default_text.strip().startswith("\\"):
            default = defaults[int(default_text.strip()[1:])]
        params.append(inspect.Parameter(head.split(":")[0].strip(), kind, default=default))
    return params


def _check_signature(theirs: object, ours: object, where: str) -> None:
    their_params = _parameters(theirs)
    if their_params is None:
        return
    their_params = [p for p in their_params if p.name != "self"]
    our_params = _parameters(ours)
    if our_params is None:
        our_params = _nanobind_parameters(ours)
    assert our_params is not None, f"{where}: no signature to compare"
    our_params = [p for p in our_params if p.name != "self"]
    ours_by_name = {p.name: p for p in our_params}
    has_var_kw = any(p.kind == p.VAR_KEYWORD for p in our_params)
    has_var_pos = any(p.kind == p.VAR_POSITIONAL for p in our_params)
    positional = [p.name for p in our_params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    for i, p in enumerate(their_params):
        if p.kind == p.VAR_POSITIONAL:
            assert has_var_pos, f"{where}: no *{p.name}"
            continue
        if p.kind == p.VAR_KEYWORD:
            assert has_var_kw, f"{where}: no **{p.name}"
            continue
        if p.name not in ours_by_name:
            assert has_var_kw and p.kind != p.POSITIONAL_ONLY, f"{where}: no parameter {p.name}"
            continue
        mine = ours_by_name[p.name]
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            assert i < len(positional) and positional[i] == p.name, f"{where}: {p.name} is not positional #{i}"
        if p.default is not p.empty:
            assert mine.default is not mine.empty, f"{where}: {p.name} has no default (pymarc: {p.default!r})"
            # pymarc's Record(data='') and our Record(data=b''): the same empty input.
            same_empty = p.default in ("", b"") and mine.default in ("", b"")
            assert mine.default == p.default or same_empty, (
                f"{where}: {p.name} defaults to {mine.default!r}, pymarc's to {p.default!r}"
            )
    # Whatever we add must not be required.
    theirs_names = {p.name for p in their_params}
    for p in our_params:
        if p.name not in theirs_names and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            assert p.default is not p.empty, f"{where}: extra parameter {p.name} is required"


@pytest.mark.parametrize(("module_name", "name"), CASES, ids=[f"{m}.{n}" for m, n in CASES])
def test_pymarc_name_exists_with_the_same_kind(module_name, name):
    if module_name in NOT_YET:
        pytest.skip(NOT_YET[module_name])
    theirs = getattr(importlib.import_module(module_name), name)
    ours = _ours(module_name, name)
    where = f"{module_name}.{name}"
    if inspect.isclass(theirs):
        assert inspect.isclass(ours), f"{where} is a class in pymarc"
        if issubclass(theirs, BaseException):
            assert issubclass(ours, BaseException)
            for base in theirs.__mro__[1:]:
                if base.__module__ == "builtins" and base is not object:
                    assert issubclass(ours, base), f"{where} is not a {base.__name__}"
        for attr, value in vars(theirs).items():
            if attr.startswith("_") or attr in ("count", "index") or (theirs.__name__, attr) in INTERNAL:
                continue
            assert hasattr(ours, attr), f"{where} has no {attr}"
            if inspect.isfunction(value):
                _check_signature(value, getattr(ours, attr), f"{where}.{attr}")
        if "__init__" in vars(theirs) and inspect.isfunction(vars(theirs)["__init__"]):
            _check_signature(theirs.__init__, ours, where)
    elif inspect.isfunction(theirs):
        assert callable(ours) and not inspect.isclass(ours), f"{where} is a function in pymarc"
        _check_signature(theirs, ours, where)
    elif isinstance(theirs, logging.Logger):
        assert isinstance(ours, logging.Logger) and ours.name == theirs.name
    elif isinstance(theirs, re.Pattern):
        assert isinstance(ours, re.Pattern) and ours.pattern == theirs.pattern
    else:
        assert type(ours) is type(theirs), f"{where} is a {type(theirs).__name__} in pymarc"
        assert ours == theirs, f"{where} differs from pymarc's"
