"""``mle-ci run``: check, start the command as early as possible, then supervise and report it.

Only what is needed to start the child is imported before it starts; the monitor, the renderers and the
GitHub adapter load while it already runs, so the harness adds little to the run's wall time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

from mle_ci.preflight import failed, run_preflight
from mle_ci.runplan import check_command, plan_launch, prepare_folder
from mle_ci.supervisor import SignalTrap, Supervisor

if TYPE_CHECKING:
    from mle_ci.hardware.nvml import NvmlBackend
    from mle_ci.result import RunResult
    from mle_ci.settings import Settings


def execute(settings: Settings, *, stream: TextIO, nvml: NvmlBackend | None = None) -> RunResult:
    """Run the settings' command under supervision and write every report; the result says how it ended."""
    check_command(settings.command, settings.env, settings.cwd)
    files = prepare_folder(settings.output_dir)
    with SignalTrap() as trap:
        # The CUDA proof costs seconds: only when a GPU is required and nothing may start without one.
        preflight = run_preflight(settings, cuda_check=settings.require_gpu, nvml=nvml)
        if failed(preflight, settings) or trap.received:
            from mle_ci.publishing import publish_not_started

            return publish_not_started(settings=settings, files=files, preflight=preflight, stream=stream, trap=trap)
        launch = plan_launch(settings, files, plan=preflight.plan.to_env())
        child = Supervisor().start(launch.spec, trap=trap)
        try:
            from mle_ci.session import RunSession

            session = RunSession(
                settings=settings,
                files=files,
                launch=launch,
                pid=child.pid,
                stream=stream,
                preflight=preflight,
                nvml=nvml,
            )
        except BaseException:
            child.abandon()
            raise
        return session.run(child)
