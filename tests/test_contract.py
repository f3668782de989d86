"""The harness-child contract is written once: its variable names and event types appear as literals nowhere else."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
import typing
from pathlib import Path

import grimp

import mle_ci
from mle_ci import contract, events
from mle_ci.contract import EventType, ExitCode
from mle_ci.errors import MleCiError

PACKAGE = Path(contract.__file__).parent


def _variables() -> dict[str, str]:
    return {
        name: value
        for name, value in vars(contract).items()
        if name.isupper() and isinstance(value, str) and re.fullmatch(r"[A-Z][A-Z_]+", value)
    }


def _strings(path: Path) -> list[tuple[int, str]]:
    """The string literals of a module with their lines, its docstrings left out (prose may name a variable)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


def test_no_module_spells_a_contract_variable_itself() -> None:
    """Each variable the harness gives a child is named through ``mle_ci.contract``, never in a string of its own
    (a message included: f-strings name it through the constant)."""
    variables = _variables()
    assert {"MLE_CI_EVENTS", "MLE_CI_DEADLINE", "SUBMISSION_DIR", "MLE_CI_DATA_DIR", "MLE_CI_RUN_MARK"} <= set(
        variables.values()
    )
    names = re.compile(r"(?<![A-Z_])(" + "|".join(sorted(variables.values(), key=len, reverse=True)) + r")(?![A-Z_])")
    spelled = [
        f"{path.relative_to(PACKAGE)}:{line}: {match}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if not (path.name == "contract.py" and path.parent == PACKAGE)
        for line, text in _strings(path)
        for match in names.findall(text)
    ]
    assert spelled == []


def test_every_event_type_has_its_event_and_no_event_is_untyped() -> None:
    typed = [cls.type for cls in typing.get_args(events.Event)]
    assert sorted(typed) == sorted(EventType)
    for kind in EventType:
        event = events.event_from_dict({"type": str(kind), "ts": 1.0, **_required(kind)})
        assert event.type == kind


def _required(kind: EventType) -> dict[str, object]:
    return {
        EventType.EPOCH: {"epoch": 1},
        EventType.FOLD_START: {"fold": 1},
        EventType.FOLD: {"fold": 1, "score": 0.5},
        EventType.METRIC: {"name": "auc", "value": 0.5},
        EventType.CHECKPOINT: {"path": "x.pt"},
        EventType.EARLY_STOP: {},
        EventType.SUBMISSION: {"path": "submission.csv"},
        EventType.MESSAGE: {"text": "hello"},
        EventType.USAGE: {"model": "m", "requests": 1, "input_tokens": 10, "output_tokens": 5},
        EventType.NODE: {"id": 1, "kind": "draft", "status": "running"},
    }[kind]


def test_the_exit_codes_are_the_documented_ones() -> None:
    assert {code.name: int(code) for code in ExitCode} == {
        "OK": 0,
        "FAILED": 1,
        "USAGE": 2,
        "GPU_UNAVAILABLE": 3,
        "TIMEOUT": 124,
        "INTERRUPTED": 130,
    }


CONTROL_FLOW = {"mle_ci.agents.claude.agent.Terminated"}
"""Exceptions that are not errors: a signal unwinding the claude agent's loop (a BaseException on purpose)."""


def test_every_exception_of_the_package_is_in_the_one_error_tree() -> None:
    """Each exception class any module defines derives from ``MleCiError`` (so ``Error: ...`` and its exit code),
    and ``errors.py``'s drawing of the tree names it."""
    tree = Path(importlib.import_module("mle_ci.errors").__file__ or "").read_text(encoding="utf-8").split('"""')[1]
    outside, unnamed = [], []
    for info in pkgutil.walk_packages(mle_ci.__path__, "mle_ci."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if not (isinstance(value, type) and issubclass(value, BaseException)) or value.__module__ != info.name:
                continue
            name = f"{info.name}.{value.__name__}"
            if name in CONTROL_FLOW:
                continue
            if not issubclass(value, MleCiError):
                outside.append(name)
            if value.__name__ not in tree:
                unnamed.append(name)
    assert outside == []
    assert unnamed == []


def test_no_module_imports_itself_back_through_others() -> None:
    """The package's import graph (function-level imports included, as grimp reads them) has no cycle: each
    strongly connected group of modules is one module alone."""
    graph = grimp.build_graph("mle_ci", include_external_packages=False)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(module: str) -> None:  # Tarjan's strongly connected components
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    assert cycles == []
