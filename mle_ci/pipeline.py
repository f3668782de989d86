"""``mle-ci run`` as its stages, in order: check, plan, supervise, judge, publish (:mod:`mle_ci.stages`).

The child starts as early as possible: only the stages before its start are imported with this module; supervision,
judging and publishing load once it runs (the supervision's warm-up), so they add little to the run's wall time.
"""

from __future__ import annotations

import contextlib
import importlib
from typing import TYPE_CHECKING, TextIO

from mle_ci.config_file import describe
from mle_ci.errors import ConfigError
from mle_ci.signaltrap import SignalTrap
from mle_ci.stages.check import check_agent_runs_here, check_request
from mle_ci.stages.outlets import open_outlets
from mle_ci.stages.plan import competition_facts, plan_launch, prepare_folder, resolve_competition
from mle_ci.stages.preflight import failed, run_preflight
from mle_ci.supervisor import RunningChild, Supervisor

if TYPE_CHECKING:
    from mle_ci.competitions.model import Competition
    from mle_ci.hardware.nvml import NvmlBackend
    from mle_ci.result import RunResult
    from mle_ci.settings import Settings
    from mle_ci.stages.plan import Launch, ResultFiles
    from mle_ci.stages.preflight import Preflight
    from mle_ci.stages.supervise import Supervision, Watched

LATER_STAGES = ("mle_ci.stages.supervise", "mle_ci.stages.judge", "mle_ci.stages.publish")
"""The stages after the child's start, imported once it runs: 0.18 s that would otherwise delay its start (best of 5,
on the development machine)."""


def execute(
    settings: Settings, *, stream: TextIO, nvml: NvmlBackend | None = None, trap: SignalTrap | None = None
) -> RunResult:
    """Run the settings' command under supervision and write every report; the result says how it ended.

    ``trap``, when given, has been recording signals since the process could: one that came during the checks
    ends the run before its command starts, with its reports. Without one the run traps signals while it lasts.
    """
    check_request(settings)  # a command that cannot start, or an agent unknown or without its key: before anything
    competition = resolve_competition(settings)
    files = prepare_folder(settings.output_dir)
    with contextlib.ExitStack() as stack:
        if trap is None:
            trap = stack.enter_context(SignalTrap())
        # The CUDA proof costs seconds: only when a GPU is required and nothing may start without one.
        preflight = run_preflight(settings, cuda_check=settings.require_gpu, nvml=nvml)
        if failed(preflight, settings) or trap.received:
            from mle_ci.stages.publish import publish_not_started  # noqa: PLC0415 - see LATER_STAGES

            return publish_not_started(settings=settings, files=files, preflight=preflight, stream=stream, trap=trap)
        check_agent_runs_here(settings, preflight)
        launch = plan_launch(settings, files, plan=preflight.plan.to_env(), competition=competition_facts(competition))
        return _run(settings, files, launch, preflight, competition, stream=stream, nvml=nvml, trap=trap)


def _run(
    settings: Settings,
    files: ResultFiles,
    launch: Launch,
    preflight: Preflight,
    competition: Competition | None,
    *,
    stream: TextIO,
    nvml: NvmlBackend | None,
    trap: SignalTrap,
) -> RunResult:
    """Start the child, supervise it, judge the run and publish it."""
    watch, outlets = None, None
    if settings.github_actions:
        # Before the child starts: what it may do to the runner's files is checked against this; the masks go out
        # and the runner's commands are off until every process of the run is gone (Supervision.watch). Outside
        # Actions there are no runner files: 10 ms of start-up saved (best of 5, on the development machine).
        from mle_ci.runnerwatch import RunnerFilesWatch  # noqa: PLC0415

        watch = RunnerFilesWatch.start(settings.env)
        outlets = open_outlets(settings, stream, pause_commands=True)
    try:
        child = _start(launch, trap)
        try:
            from mle_ci.stages.supervise import Supervision  # noqa: PLC0415 - see LATER_STAGES

            supervision = Supervision(
                settings=settings,
                files=files,
                launch=launch,
                pid=child.pid,
                outlets=outlets or open_outlets(settings, stream),
                preflight=preflight,
                competition=competition,
                nvml=nvml,
                watch=watch,
                warm_up=_load_later_stages,
            )
        except BaseException:
            child.abandon()
            raise
    except BaseException:
        if outlets is not None:
            outlets.resume_commands()  # the run never got going: the error must reach the runner as a command
        raise
    watched = supervision.watch(child)
    return _conclude(
        watched, supervision, settings=settings, files=files, launch=launch, competition=competition, trap=trap
    )


def _start(launch: Launch, trap: SignalTrap) -> RunningChild:
    try:
        return Supervisor().start(launch.spec, trap=trap)
    except OSError as exc:  # exec refused it: not a program (no #! line), a command line too long, ...
        program = describe(launch.spec.argv[0])
        raise ConfigError(f"command: {program} could not be started: {exc.strerror or exc}") from None


def _load_later_stages() -> None:
    for module in LATER_STAGES:
        importlib.import_module(module)


def _conclude(
    watched: Watched,
    supervision: Supervision,
    *,
    settings: Settings,
    files: ResultFiles,
    launch: Launch,
    competition: Competition | None,
    trap: SignalTrap,
) -> RunResult:
    """Judge the run from what was watched, then write and publish every report; a failure on the way leaves a
    result.json that agrees with the exit code."""
    from mle_ci.stages import judge, publish  # noqa: PLC0415 - loaded while the child ran (LATER_STAGES)

    outlets = supervision.outlets
    try:
        result = judge.judge_run(watched, settings, late_signal=trap.received[0] if trap.received else None)
        gate = next((g for g in result.gates if g.name == "runner-files"), None)
        if gate is not None:
            outlets.console.note(gate.message)
        if competition is not None:
            seconds = judge.check_seconds(result, settings, launch.mono_start)
            result = judge.judge_submission(result, files.submission, competition, seconds=seconds, trap=trap)
        if watched.disk_short:
            publish.secure_record(result, files, outlets)
        # The child wrote these itself: a secret it let slip is redacted before anything reads them.
        for problem in publish.scrub_files((files.events, files.transcript), outlets.redactor):
            outlets.console.note(problem)
        publish.publish(result, files, outlets)
    except Exception as exc:
        publish.record_failure(exc, supervision.base, files, outlets.redactor)
        raise
    publish.say_verdict(result, files, outlets)
    return result
