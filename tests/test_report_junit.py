"""Tests for the JUnit XML of a run."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from hypothesis import given, settings
from hypothesis import strategies as st
from junitparser import Error, Failure, JUnitXml, Skipped, TestCase, TestSuite

from mle_ci.report.junit import render_junit
from mle_ci.result import RunResult
from mle_ci.resultparts import CrashSite, FoldResult, FoldStatus, Gate, Metric, RunStatus

FIVE_FOLDS = tuple(
    FoldResult(i, FoldStatus.COMPLETED, score=s, best_epoch=3, epochs=5, seconds=60.0 + i)
    for i, s in enumerate((0.687, 0.701, 0.695, 0.672, 0.690), start=1)
)


def _suite(xml: str) -> TestSuite:
    parsed = JUnitXml.fromstring(xml)
    suites = list(parsed)
    assert len(suites) == 1
    suite = suites[0]
    assert isinstance(suite, TestSuite)
    return suite


def _cases(xml: str) -> dict[str, TestCase]:
    return {case.name: case for case in _suite(xml)}


def _counts(xml: str) -> tuple[int, int, int, int]:
    suite = _suite(xml)
    return suite.tests, suite.failures, suite.errors, suite.skipped


def test_success_has_one_passing_case_per_fold() -> None:
    """Five completed folds make five passing cases named fold-1..fold-5."""
    xml = render_junit(RunResult(status=RunStatus.SUCCESS, competition="titanic", folds=FIVE_FOLDS))
    assert _counts(xml) == (5, 0, 0, 0)
    cases = _cases(xml)
    assert list(cases) == [f"fold-{i}" for i in range(1, 6)]
    assert {c.classname for c in cases.values()} == {"mle-ci.titanic"}
    assert all(c.is_passed for c in cases.values())


def test_one_testsuite_under_testsuites() -> None:
    """The document is one ``testsuites`` root with exactly one ``testsuite`` and no nesting."""
    root = ET.fromstring(render_junit(RunResult(status=RunStatus.SUCCESS, folds=FIVE_FOLDS)))
    assert root.tag == "testsuites"
    assert [child.tag for child in root] == ["testsuite"]
    assert root.find("testsuite/testsuite") is None


def test_time_is_on_every_case_suite_and_root() -> None:
    """Every test case, the suite and the root carry ``time``, zero included."""
    folds = (*FIVE_FOLDS[:2], FoldResult(3, FoldStatus.COMPLETED, score=0.5, seconds=0.0))
    result = RunResult(status=RunStatus.SUCCESS, folds=folds, duration_s=200.5)
    root = ET.fromstring(render_junit(result))
    suite = root.find("testsuite")
    assert suite is not None
    assert root.get("time") == suite.get("time") == "200.500"
    assert [c.get("time") for c in suite.iter("testcase")] == ["61.000", "62.000", "0.000"]
    assert [c.time for c in _suite(render_junit(result))] == [61.0, 62.0, 0.0]


def test_scores_are_in_system_out_and_not_in_names() -> None:
    """Each fold's score, best epoch and epochs are in system-out; names stay stable."""
    cases = _cases(render_junit(RunResult(status=RunStatus.SUCCESS, folds=FIVE_FOLDS)))
    assert cases["fold-1"].system_out == "score=0.687 best_epoch=3 epochs=5"
    assert all("0." not in name for name in cases)


def test_a_folds_model_is_in_its_system_out() -> None:
    folds = (FoldResult(1, FoldStatus.COMPLETED, score=0.9, best_epoch=4, epochs=6, model="linear"),)
    cases = _cases(render_junit(RunResult(status=RunStatus.SUCCESS, folds=folds)))
    assert cases["fold-1"].system_out == "score=0.9 best_epoch=4 epochs=6 model=linear"


def test_suite_properties_hold_the_run_facts() -> None:
    """Status, score, CV, metric, direction, exit code and command are suite properties."""
    result = RunResult(
        status=RunStatus.SUCCESS,
        command=("python", "train.py", "--lr", "0.1"),
        folds=FIVE_FOLDS,
        metric=Metric("auc"),
    )
    suite = _suite(render_junit(result))
    props = {p.name: p.value for p in suite.properties()}
    assert props["status"] == "success"
    assert float(props["score"]) == result.score
    assert float(props["cv_mean"]) == result.cv_mean
    assert float(props["cv_std"]) == result.cv_std
    assert props["metric"] == "auc"
    assert props["direction"] == "higher is better"
    assert props["exit_code"] == "0"
    assert props["command"] == "python train.py --lr 0.1"


def test_fold_below_min_score_is_a_failure_with_the_score_in_the_message() -> None:
    """A completed fold under min-score fails with a message naming score, minimum and direction."""
    result = RunResult(status=RunStatus.FAILED, folds=FIVE_FOLDS, min_score=0.69)
    cases = _cases(render_junit(result))
    (failure,) = cases["fold-4"].result
    assert isinstance(failure, Failure)
    assert failure.message == "fold-4 score 0.672 is below min-score 0.69 (higher is better)"
    assert cases["fold-5"].is_passed  # exactly the minimum passes


def test_min_score_follows_a_lower_is_better_metric() -> None:
    """With a loss metric, a fold above the minimum fails and one below passes."""
    folds = (FoldResult(1, FoldStatus.COMPLETED, score=0.3), FoldResult(2, FoldStatus.COMPLETED, score=0.5))
    result = RunResult(
        status=RunStatus.FAILED, folds=folds, min_score=0.4, metric=Metric("rmse", higher_is_better=False)
    )
    cases = _cases(render_junit(result))
    assert cases["fold-1"].is_passed
    (failure,) = cases["fold-2"].result
    assert failure.message == "fold-2 score 0.5 is above min-score 0.4 (lower is better)"


def test_incomplete_fold_is_an_error_and_unreached_folds_are_skipped() -> None:
    """A crash mid-fold errors that fold, skips the ones after it and adds a ``run`` error."""
    folds = (
        *FIVE_FOLDS[:2],
        FoldResult(3, FoldStatus.INCOMPLETE, epochs=2),
        FoldResult(4, FoldStatus.NOT_REACHED),
        FoldResult(5, FoldStatus.NOT_REACHED),
    )
    result = RunResult(
        status=RunStatus.CRASHED,
        child_exit_code=1,
        folds=folds,
        crash=CrashSite("src/model.py", 42, "forward", "ValueError: bad shape"),
        log_tail=("Epoch 2/5", "ValueError: bad shape"),
    )
    xml = render_junit(result)
    assert _counts(xml) == (6, 0, 2, 2)
    cases = _cases(xml)
    (error,) = cases["fold-3"].result
    assert isinstance(error, Error)
    assert error.message.startswith("fold-3 did not finish (2 epochs done): the run crashed")
    assert isinstance(cases["fold-4"].result[0], Skipped)
    (run_error,) = cases["run"].result
    assert isinstance(run_error, Error)
    assert "exit code 1" in run_error.message
    assert "src/model.py:42" in run_error.message
    assert "ValueError: bad shape" in (run_error.text or "")
    assert "Epoch 2/5" in (run_error.text or "")


def test_running_fold_is_skipped() -> None:
    """A partial report while a fold runs shows that fold as skipped and no ``run`` case."""
    folds = (FIVE_FOLDS[0], FoldResult(2, FoldStatus.RUNNING, epochs=1))
    xml = render_junit(RunResult(status=RunStatus.RUNNING, folds=folds))
    assert _counts(xml) == (2, 0, 0, 1)
    assert "run" not in _cases(xml)


def test_timeout_adds_a_run_error_naming_the_budget() -> None:
    """A timed-out run gets a ``run`` error saying the budget ran out."""
    folds = (FIVE_FOLDS[0], FoldResult(2, FoldStatus.INCOMPLETE, epochs=3))
    result = RunResult(status=RunStatus.TIMEOUT, folds=folds, timeout_s=1800.0, duration_s=1802.0)
    cases = _cases(render_junit(result))
    (error,) = cases["run"].result
    assert error.type == "timeout"
    assert "time budget of 30m00s" in error.message
    assert cases["run"].time == 1802.0


def test_stalled_and_interrupted_runs_add_a_run_error() -> None:
    """Stalled and interrupted runs with folds also get a ``run`` error."""
    for status in (RunStatus.STALLED, RunStatus.INTERRUPTED):
        cases = _cases(render_junit(RunResult(status=status, folds=FIVE_FOLDS[:1])))
        assert isinstance(cases["run"].result[0], Error)


def test_failed_gate_with_folds_adds_a_run_failure() -> None:
    """A run that failed a gate other than the fold scores still shows red."""
    result = RunResult(
        status=RunStatus.FAILED,
        folds=FIVE_FOLDS,
        gates=(Gate("submission", False, "submission.csv has 3 columns, expected 2"),),
    )
    xml = render_junit(result)
    assert _counts(xml) == (6, 1, 0, 0)
    (failure,) = _cases(xml)["run"].result
    assert failure.message == "submission.csv has 3 columns, expected 2"


def test_no_folds_success_is_one_passing_run_case() -> None:
    """A run without folds is reported as one passing ``run`` case."""
    xml = render_junit(RunResult(status=RunStatus.SUCCESS, reported_score=0.8, duration_s=5.0))
    assert _counts(xml) == (1, 0, 0, 0)
    run = _cases(xml)["run"]
    assert run.classname == "mle-ci.run"
    assert run.system_out is not None
    assert "score=0.8" in run.system_out
    assert run.time == 5.0


def test_no_folds_failed_gate_is_a_failure() -> None:
    """Without folds, a failed gate makes the ``run`` case a failure with the gate's message."""
    result = RunResult(
        status=RunStatus.FAILED,
        reported_score=0.5,
        min_score=0.6,
        gates=(Gate("min-score", False, "score 0.5 is below min-score 0.6"),),
    )
    xml = render_junit(result)
    assert _counts(xml) == (1, 1, 0, 0)
    assert _cases(xml)["run"].result[0].message == "score 0.5 is below min-score 0.6"


def test_no_folds_crash_is_an_error() -> None:
    """Without folds, a crash makes the ``run`` case an error."""
    xml = render_junit(RunResult(status=RunStatus.CRASHED, child_signal="SIGKILL"))
    assert _counts(xml) == (1, 0, 1, 0)
    assert "killed by SIGKILL" in _cases(xml)["run"].result[0].message


def test_suite_name_is_configurable() -> None:
    """The suite takes the given name."""
    assert _suite(render_junit(RunResult(status=RunStatus.SUCCESS), suite_name="nightly")).name == "nightly"


_NASTY = st.sampled_from(
    ["]]>", "\x00", "\ud800", "\udfff", "\x1b[31m", "\x07", "\x0b", "\ufffe", "\uffff", "<", "&", '"', "\r", "\n"]
)
_TEXT = st.lists(
    st.one_of(_NASTY, st.text(st.characters(categories=["Cs", "Cc", "Co", "Cn", "L", "P", "S", "Z"]))),
    max_size=8,
).map("".join)


@settings(max_examples=150, deadline=None)
@given(
    message=_TEXT,
    exception=_TEXT,
    name=_TEXT,
    log_tail=st.lists(_TEXT, max_size=5),
    status=st.sampled_from(list(RunStatus)),
)
def test_any_child_text_gives_valid_parseable_xml(
    message: str, exception: str, name: str, log_tail: list[str], status: RunStatus
) -> None:
    """Whatever the child printed (NUL, ``]]>``, lone surrogates, escapes), the XML parses with junitparser."""
    result = RunResult(
        status=status,
        command=("python", name),
        competition=name,
        metric=Metric(name),
        folds=(FIVE_FOLDS[0], FoldResult(2, FoldStatus.INCOMPLETE)),
        crash=CrashSite(name or "x.py", 1, name, exception),
        errors=(message,),
        warnings=(message,),
        gates=(Gate(name, False, message),),
        log_tail=tuple(log_tail),
    )
    xml = render_junit(result, suite_name=name)
    xml.encode("utf-8")
    ET.fromstring(xml.encode("utf-8"))
    suite = _suite(xml)
    assert suite.tests == len(list(suite))
    assert [c.name for c in suite][:2] == ["fold-1", "fold-2"]
