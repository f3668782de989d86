"""``mle-ci run``: check, start the command as early as possible, then supervise and report it.

Only what is needed to start the child is imported before it starts; the monitor, the renderers and the
GitHub adapter load while it already runs, so the harness adds little to the run's wall time.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, TextIO

from mle_ci.config_file import describe
from mle_ci.errors import ConfigError
from mle_ci.preflight import failed, run_preflight
from mle_ci.runplan import CompetitionFacts, check_agent, check_command, plan_launch, prepare_folder
from mle_ci.signaltrap import SignalTrap
from mle_ci.supervisor import Supervisor

if TYPE_CHECKING:
    from mle_ci.competitions.model import Competition
    from mle_ci.hardware.nvml import NvmlBackend
    from mle_ci.result import RunResult
    from mle_ci.settings import Settings


def execute(
    settings: Settings, *, stream: TextIO, nvml: NvmlBackend | None = None, trap: SignalTrap | None = None
) -> RunResult:
    """Run the settings' command under supervision and write every report; the result says how it ended.

    ``trap``, when given, has been recording signals since the process could: one that came during the checks
    ends the run before its command starts, with its reports. Without one the run traps signals while it lasts.
    """
    if settings.command:
        check_command(settings.command, settings.env, settings.cwd)
    else:
        check_agent(settings)  # a built-in agent: refuse an unknown one, or one without its key, before anything
    competition = resolve_competition(settings)
    files = prepare_folder(settings.output_dir)
    with contextlib.ExitStack() as stack:
        if trap is None:
            trap = stack.enter_context(SignalTrap())
        # The CUDA proof costs seconds: only when a GPU is required and nothing may start without one.
        preflight = run_preflight(settings, cuda_check=settings.require_gpu, nvml=nvml)
        if failed(preflight, settings) or trap.received:
            from mle_ci.publishing import publish_not_started

            return publish_not_started(settings=settings, files=files, preflight=preflight, stream=stream, trap=trap)
        if (
            not settings.command
            and (settings.agent or "baseline") == "baseline"
            and not preflight.profile.torch_version
        ):
            raise ConfigError(
                "agent: the baseline agent trains with PyTorch, which is not installed here: "
                "pip install 'mle-gpu-agent[agents]' (or the torch build that fits your CUDA)"
            )
        facts = None
        if competition is not None:
            spec = competition.spec
            facts = CompetitionFacts(spec.id, competition.public, spec.metric, spec.higher_is_better)
        launch = plan_launch(settings, files, plan=preflight.plan.to_env(), competition=facts)
        watch, outlets = None, None
        if settings.github_actions:
            from mle_ci.publishing import open_outlets
            from mle_ci.runnerwatch import RunnerFilesWatch

            # Before the child starts: what it may do to the runner's files is checked against this; the masks go
            # out and the runner's commands are off until every process of the run is gone (RunSession.run).
            watch = RunnerFilesWatch.start(settings.env)
            outlets = open_outlets(settings, stream, pause_commands=True)
        try:
            try:
                child = Supervisor().start(launch.spec, trap=trap)
            except OSError as exc:  # exec refused it: not a program (no #! line), a command line too long, ...
                program = describe(launch.spec.argv[0])
                raise ConfigError(f"command: {program} could not be started: {exc.strerror or exc}") from None
            try:
                from mle_ci.publishing import open_outlets
                from mle_ci.session import RunSession

                session = RunSession(
                    settings=settings,
                    files=files,
                    launch=launch,
                    pid=child.pid,
                    outlets=outlets or open_outlets(settings, stream),
                    preflight=preflight,
                    competition=competition,
                    nvml=nvml,
                    watch=watch,
                )
            except BaseException:
                child.abandon()
                raise
        except BaseException:
            if outlets is not None:
                outlets.resume_commands()  # the run never got going: the error must reach the runner as a command
            raise
        return session.run(child)


def resolve_competition(settings: Settings) -> Competition | None:
    """The competition of the run: the one named, or the default demo for a built-in agent; built on first use."""
    competition_id = settings.competition
    if competition_id is None and not settings.command:
        from mle_ci.competitions.registry import DEFAULT_COMPETITION

        competition_id = DEFAULT_COMPETITION
    if competition_id is None:
        return None
    from mle_ci.competitions.registry import find_competition

    return find_competition(
        competition_id, data_dir=settings.data_dir, cache_dir=settings.cache_dir, leaderboard=settings.leaderboard
    )
