"""The agent's run: read the settings, run the search, stop the jobs, make sure a valid submission is left.

Exit codes: 0 finished with a valid submission; 1 ended without one, or the API refused the run (auth, bad
request); 2 a missing key or a bad variable; 124 the time budget cut it short.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import traceback
from collections.abc import Callable, Mapping
from types import FrameType

from mle_ci import progress
from mle_ci.agents.claude.api import AnthropicClient, ModelClient, sdk_models
from mle_ci.agents.claude.config import AgentConfig, choose_model, load_config
from mle_ci.agents.claude.fallback import fallback_decision, run_baseline
from mle_ci.agents.claude.jobs import Jobs
from mle_ci.agents.claude.loop import API_FATAL, CRASHED, FINISHED, TIME, LoopOutcome
from mle_ci.agents.claude.nodework import node_devices
from mle_ci.agents.claude.prices import UsageTotals, price_for
from mle_ci.agents.claude.processes import hide_environment
from mle_ci.agents.claude.prompt import read_data, system_prompt
from mle_ci.agents.claude.search import PLANNED_END, Meter, Search
from mle_ci.agents.claude.transcript import Transcript
from mle_ci.agents.claude.validation import Verdict, validate
from mle_ci.agents.claude.workspace import Workspace
from mle_ci.contract import ExitCode
from mle_ci.errors import ConfigError
from mle_ci.metrics import find_metric
from mle_ci.redaction import Redactor, secret_names

OK, FAILED, CONFIG, BUDGET_EXHAUSTED = ExitCode.OK, ExitCode.FAILED, ExitCode.USAGE, ExitCode.TIMEOUT


class Terminated(BaseException):
    """SIGTERM or SIGINT reached the agent: the harness's deadline (or a cancel) is here.

    A BaseException, as KeyboardInterrupt is: no ``except Exception`` on the way (a tool's, a node's) may swallow it.
    """


def _terminate(signum: int, frame: FrameType | None) -> None:
    # Once: a second signal during the clean-up must not interrupt it.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise Terminated(signal.Signals(signum).name)


def direction(config: AgentConfig) -> bool:
    """Whether higher scores are better: as the run says, else as the metric's name says (higher when unknown)."""
    if config.higher_is_better is not None:
        return config.higher_is_better
    known = find_metric(config.metric) if config.metric else None
    return True if known is None else known.higher_is_better


def child_env(environ: Mapping[str, str]) -> dict[str, str]:
    """What the agent's commands, jobs and the fallback see: its environment less every secret-named variable."""
    hidden = set(secret_names(environ))
    env = {name: value for name, value in environ.items() if name not in hidden}
    env["PYTHONUNBUFFERED"] = "1"
    # `python` in a command is this interpreter, the one with mle_ci (its progress API) and the agent's packages.
    folder = os.path.dirname(sys.executable)
    path = env.get("PATH", os.defpath)
    if path.split(os.pathsep)[0] != folder:
        env["PATH"] = os.pathsep.join((folder, path))
    return env


class Run:
    """One run's parts, wired from the config."""

    def __init__(self, config: AgentConfig, environ: Mapping[str, str], client: ModelClient | None = None) -> None:
        self.config = config
        self.redactor = Redactor.from_env(environ, extra=(config.api_key,))
        self.transcript = Transcript(config.transcript_path, self.redactor)
        self.env = child_env(environ)
        for folder in (config.workspace, config.submission_dir, config.logs_dir):
            folder.mkdir(parents=True, exist_ok=True)
        self.workspace = Workspace(config.workspace.resolve(), config.data_dir.resolve(), config.submission_dir)
        self.jobs = Jobs(
            folder=config.logs_dir / "jobs",
            cwd=self.workspace.root,
            env=self.env,
            events=config.events,
            redact=self.redactor.text,
        )
        self.client = client or AnthropicClient(
            api_key=config.api_key,
            model=config.model,
            base_url=config.base_url,
            timeout=config.api_timeout_secs,
        )
        self.price, self.price_source = price_for(config.model, config.prices)
        self.fallback_started = False
        self.searching: Search | None = None

    def say(self, text: str) -> None:
        with contextlib.suppress(OSError, ValueError):
            print(f"[claude] {self.redactor.text(text)}", flush=True)

    def check(self, path: str | None = None) -> Verdict:
        """The submission at ``path`` (by default the run's) checked as the grader does."""
        return self.check_in(self.workspace, path)

    def check_in(self, workspace: Workspace, path: str | None = None) -> Verdict:
        """The submission at ``path`` of ``workspace`` (by default its submission folder's) checked as the grader
        does: a search node's, in its own folder."""
        return validate(workspace, path, competition=self.config.competition, env=self.env, cwd=workspace.root)

    def _usage(self, totals: UsageTotals, cost: float) -> None:
        progress.usage(
            self.config.model,
            requests=totals.requests,
            input_tokens=totals.input_tokens,
            output_tokens=totals.output_tokens,
            cache_creation_input_tokens=totals.cache_creation_input_tokens,
            cache_read_input_tokens=totals.cache_read_input_tokens,
            cost_usd=cost,
        )

    def converse(self) -> LoopOutcome:
        """The search over solution nodes, one conversation each; the best valid node's submission is handed in."""
        self.searching = self.search()
        return self.searching.run()

    def search(self) -> Search:
        """The search, wired to this run's parts."""
        c = self.config
        system = system_prompt(c, read_data(c.data_dir), remaining=c.remaining())
        devices = node_devices(c.plan, self.env)
        at_once = f", {len(devices)} nodes at once (one per GPU)" if len(devices) > 1 else ""
        self.say(
            f"model {c.model} (price: {self.price_source}), {c.max_turns} requests, "
            f"${c.max_cost_usd:.2f} at most{at_once}"
        )
        return Search(
            config=c,
            client=self.client,
            meter=Meter(self.price, self._usage),
            transcript=self.transcript,
            jobs=self.jobs,
            env=self.env,
            redact=self.redactor.text,
            say=self.say,
            check=self.check_in,
            system=system,
            devices=devices,
            higher_is_better=direction(c),
        )

    def stop_jobs(self) -> None:
        stopped = self.jobs.stop_all()
        if stopped:
            self.say(f"stopped job(s) still running: {', '.join(stopped)}")
            self.transcript.write("note", 0, text=f"stopped job(s) still running: {', '.join(stopped)}")

    def secure_submission(self) -> tuple[str | None, bool]:
        """Who produced the valid submission on disk (the baseline runs when needed), and whether time ran out."""
        path = self.config.submission_path
        verdict = self.check()
        if verdict.valid:
            progress.submission(path, rows=verdict.rows, producer="claude")
            return "claude", False
        self.say(f"no valid submission from the model: {verdict.text.splitlines()[0] if verdict.text else ''}")
        run, why = fallback_decision(remaining=self.config.remaining(), minimum=self.config.fallback_min_secs)
        self.say(why)
        self.transcript.write("note", 0, text=why)
        if not run:
            return None, False
        progress.message(why, "warning")
        self.fallback_started = True
        result = run_baseline(self.env, remaining=self.config.remaining())
        verdict = self.check()
        if not verdict.valid:
            return None, result.stopped
        progress.submission(path, rows=verdict.rows, producer="baseline")
        return "baseline", result.stopped or result.exit_code == BUDGET_EXHAUSTED


def _exit_code(outcome: LoopOutcome | None, producer: str | None, time_cut: bool) -> int:
    if outcome is not None and outcome.ended in (API_FATAL, CRASHED):
        return FAILED
    if producer is None:
        return FAILED
    if time_cut or (outcome is not None and outcome.ended == TIME):
        return BUDGET_EXHAUSTED
    return OK


def _report(parts: Run, outcome: LoopOutcome) -> None:
    level = "info" if outcome.ended in (FINISHED, PLANNED_END) else "warning"
    parts.say(f"conversation ended ({outcome.ended}): {outcome.reason}")
    progress.message(f"claude agent: {outcome.reason} after {outcome.turns} turn(s), ${outcome.cost_usd:.4f}", level)
    if outcome.summary:
        progress.message(f"claude agent summary: {parts.redactor.text(outcome.summary)}")
    if outcome.ended == API_FATAL:
        print(f"Error: the Anthropic API refused the run: {parts.redactor.text(outcome.reason)}", file=sys.stderr)


def run(config: AgentConfig, environ: Mapping[str, str], client: ModelClient | None = None) -> int:
    """The whole run; every path stops the jobs and leaves the best valid submission there is."""
    parts = Run(config, environ, client)
    outcome: LoopOutcome | None = None
    try:
        try:
            outcome = parts.converse()
        except Exception as exc:
            # A bug of the agent: shown with its traceback, and the run still ends with a submission if it can.
            traceback.print_exc()
            outcome = LoopOutcome(CRASHED, f"the agent crashed: {type(exc).__name__}: {exc}", 0, UsageTotals(), 0.0)
        finally:
            parts.client.close()
            parts.stop_jobs()
        _report(parts, outcome)
        producer, time_cut = parts.secure_submission()
    except Terminated as exc:
        # The harness's SIGTERM: no time for anything but stopping the jobs and recording a valid file.
        parts.say(f"{exc}: stopping")
        parts.transcript.write("note", 0, text=f"{exc} received: stopping")
        parts.stop_jobs()
        handed_in = False
        if parts.searching is not None:
            parts.searching.salvage()
            handed_in = parts.searching.journal.handed_in() is not None and not parts.fallback_started
        verdict = parts.check()
        # A node's hand-in has reported the file already; the fallback's (or any other) is reported here.
        if verdict.valid and not handed_in:
            producer = "baseline" if parts.fallback_started else "claude"
            progress.submission(config.submission_path, rows=verdict.rows, producer=producer)
        return BUDGET_EXHAUSTED
    parts.say(f"final submission: {producer or 'none'}")
    return _exit_code(outcome, producer, time_cut)


def main(
    environ: Mapping[str, str] | None = None,
    *,
    client_factory: Callable[[AgentConfig], ModelClient] | None = None,
) -> int:
    """Read the settings (exit 2 when the key or a variable is wrong), then run."""
    env = dict(os.environ if environ is None else environ)
    try:
        models, deprecated = sdk_models()
        config = load_config(env, default_model=choose_model(models, deprecated))
    except ConfigError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return CONFIG
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, _terminate)
    hide_environment()
    return run(config, env, client_factory(config) if client_factory else None)
