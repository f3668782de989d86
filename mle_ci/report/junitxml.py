"""The one JUnit XML writer, for a run's report and for the aggregate of many runs.

A small writer of our own on ElementTree rather than the junit-xml package: junit-xml drops a zero ``time`` and has
no way to set one on the document or to put a ready suite into a larger document, so its output had to be parsed
back and patched, and the aggregate wrote its own suites beside it. Here a suite is plain data
(:class:`Suite`, :class:`Case`), :func:`suite_element` builds it the way junit-xml laid it out (the reports
read by dorny/test-reporter, mikepenz/action-junit-report and GitLab are unchanged), and :func:`document` writes
any root. Text is escaped by ElementTree; callers clean it of characters XML cannot hold.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

OutcomeKind = Literal["failure", "error", "skipped"]


@dataclass(frozen=True)
class Outcome:
    """What went wrong in a case (none: it passed): a failure, an error or a skip, its type, message and body."""

    kind: OutcomeKind
    message: str
    type: str = "skipped"
    output: str | None = None


@dataclass(frozen=True)
class Case:
    """One test case."""

    name: str
    classname: str
    seconds: float = 0.0
    stdout: str | None = None
    outcome: Outcome | None = None


@dataclass(frozen=True)
class Suite:
    """One test suite: its cases, properties (in order) and times."""

    name: str
    cases: tuple[Case, ...]
    seconds: float = 0.0
    timestamp: str | None = None
    properties: tuple[tuple[str, str], ...] = ()


def time_text(seconds: float) -> str:
    return f"{seconds:.3f}"


def counts(cases: Iterable[Case]) -> dict[str, int]:
    """How many cases, failures, errors and skips."""
    kinds = [case.outcome.kind if case.outcome is not None else None for case in cases]
    return {
        "tests": len(kinds),
        "failures": kinds.count("failure"),
        "errors": kinds.count("error"),
        "skipped": kinds.count("skipped"),
    }


def suite_element(suite: Suite) -> ET.Element:
    """The ``testsuite`` element of ``suite``."""
    tally = counts(suite.cases)
    element = ET.Element("testsuite", disabled="0", errors=str(tally["errors"]), failures=str(tally["failures"]))
    element.set("name", suite.name)
    element.set("skipped", str(tally["skipped"]))
    element.set("tests", str(tally["tests"]))
    element.set("time", time_text(suite.seconds))
    if suite.timestamp is not None:
        element.set("timestamp", suite.timestamp)
    if suite.properties:
        properties = ET.SubElement(element, "properties")
        for name, value in suite.properties:
            ET.SubElement(properties, "property", name=name, value=value)
    for case in suite.cases:
        element.append(case_element(case))
    return element


def case_element(case: Case) -> ET.Element:
    """The ``testcase`` element of ``case``: its outcome, then what it printed."""
    element = ET.Element("testcase", name=case.name, classname=case.classname, time=time_text(case.seconds))
    outcome = case.outcome
    if outcome is not None:
        detail = ET.SubElement(element, outcome.kind, type=outcome.type, message=outcome.message)
        if outcome.output:
            detail.text = outcome.output
    if case.stdout is not None:
        ET.SubElement(element, "system-out").text = case.stdout
    return element


def suites_element(suites: Sequence[ET.Element], **attributes: str) -> ET.Element:
    """A ``testsuites`` root over ready suite elements, its counts and time the sums of theirs."""
    root = ET.Element("testsuites")
    for key, value in attributes.items():
        root.set(key, value)
    for suite in suites:
        root.append(suite)
    for key in ("errors", "failures", "tests"):
        root.set(key, str(sum(int(s.get(key, "0")) for s in suites)))
    root.set("time", time_text(sum(float(s.get("time", "0")) for s in suites)))
    root.set("skipped", str(sum(int(s.get("skipped", "0")) for s in suites)))
    return root


def document(root: ET.Element) -> str:
    """The XML document of ``root``, indented, with its declaration."""
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
