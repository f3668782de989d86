"""The command line through main(argv): exit codes and messages for each way a user can get it wrong."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from helpers import base_env, child

import mle_ci.cli as cli_module
from mle_ci.cli import COMMANDS, cli, main, summary_line


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_unknown_program_is_a_usage_error(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A program that is not on PATH is reported before anything starts."""
    assert main(["run", "--", "no-such-program-xyz"]) == 2
    assert "'no-such-program-xyz' was not found on PATH" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--timeout", "-5m"], "--timeout"),
        (["--timeout", "soon"], "--timeout"),
        (["--folds", "zero"], "--folds"),
        (["--min-score", "high"], "--min-score"),
        (["--direction", "up"], "--direction"),
    ],
)
def test_bad_flags_exit_2_naming_the_flag(
    in_tmp: Path, capsys: pytest.CaptureFixture[str], args: list[str], fragment: str
) -> None:
    """A bad value exits 2 with the flag named and no traceback."""
    assert main(["run", *args, "--", sys.executable, "-c", "pass"]) == 2
    err = capsys.readouterr().err
    assert fragment in err
    assert "Traceback" not in err


def test_bad_config_file_names_the_line(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown key in mle-ci.yml exits 2 naming the key, its line and a suggestion."""
    (in_tmp / "mle-ci.yml").write_text("folds: 5\ntimout: 30m\n")
    assert main(["run", "--", sys.executable, "-c", "pass"]) == 2
    err = capsys.readouterr().err
    assert "line 2" in err
    assert "timout" in err
    assert "timeout" in err


def test_unknown_option_is_a_usage_error(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """click's own usage errors exit 2."""
    assert main(["run", "--no-such-flag"]) == 2


def test_the_claude_agent_without_a_key_is_refused(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Asking for the claude agent without an API key exits 2, says how to give one, and runs nothing."""
    (in_tmp / "mle-ci.yml").write_text("agent: claude\n")
    assert main(["run"]) == 2
    assert "the claude agent needs an Anthropic API key" in capsys.readouterr().err
    assert not (in_tmp / "mle-ci-results" / "result.json").exists()


def test_an_unknown_competition_is_a_usage_error(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A competition that is neither embedded nor under --data-dir exits 2 before anything runs."""
    assert main(["run", "--competition", "no-such-competition", "--data-dir", str(in_tmp)]) == 2
    assert "no-such-competition" in capsys.readouterr().err


def test_exit_code_follows_the_command(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A command failing with any code makes the run exit 1 (status crashed); success exits 0."""
    assert main(["run", "--heartbeat", "0", "--", sys.executable, "-c", "raise SystemExit(7)"]) == 1
    assert json.loads((in_tmp / "mle-ci-results" / "result.json").read_text())["child"]["exit_code"] == 7
    assert main(["run", "--", sys.executable, "-c", "print('Fold 1/1 complete: Score=0.9')"]) == 0


def test_min_score_gate_fails_the_run(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A score below --min-score fails the run (exit 1) with the gate recorded."""
    script = "print('Fold 1/2 complete: Score=0.6'); print('Fold 2/2 complete: Score=0.7')"
    assert main(["run", "--min-score", "0.8", "--", sys.executable, "-c", script]) == 1
    result = json.loads((in_tmp / "mle-ci-results" / "result.json").read_text())
    assert result["status"] == "failed"
    assert result["gates"][0]["passed"] is False
    assert "failed · CV 0.65 ± 0.05 over 2 folds" in capsys.readouterr().out
    assert main(["run", "--min-score", "0.7", "--direction", "min", "--", sys.executable, "-c", script]) == 0


def test_timeout_exits_124(in_tmp: Path) -> None:
    """The time limit ends the run with 124, as GNU timeout does."""
    assert main(["run", "--timeout", "0.5s", "--grace", "0.5s", "--", *child("sleeper", "30")]) == 124


def test_report_rerenders_from_disk(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`mle-ci report DIR` writes summary.md and junit.xml again from result.json."""
    assert main(["run", "--", sys.executable, "-c", "print('Fold 1/1 complete: Score=0.9')"]) == 0
    out = in_tmp / "mle-ci-results"
    (out / "summary.md").unlink()
    (out / "junit.xml").unlink()
    assert main(["report", str(out)]) == 0
    assert (out / "summary.md").read_text().startswith("## ")
    assert "fold-1" in (out / "junit.xml").read_text()


def test_report_exits_0_when_it_rendered_a_timed_out_run(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Re-rendering a run that timed out (124) succeeds: exit 0, the run's own code in the line printed."""
    assert main(["run", "--timeout", "0.5s", "--grace", "0.5s", "--", *child("sleeper", "30")]) == 124
    capsys.readouterr()
    assert main(["report", "mle-ci-results"]) == 0
    assert "mle-ci-results: timeout (the run exited 124); wrote summary.md and junit.xml" in capsys.readouterr().out


def test_report_on_a_folder_without_result_exits_2(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A folder without result.json is a usage error."""
    assert main(["report", str(in_tmp)]) == 2
    assert "holds no result.json" in capsys.readouterr().err


def test_report_refuses_a_corrupt_result(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A result.json of another schema version is refused with exit 2."""
    (in_tmp / "result.json").write_text(json.dumps({"schema_version": 99}))
    assert main(["report", str(in_tmp)]) == 2
    assert "schema version" in capsys.readouterr().err


def test_unwritable_output_dir_is_a_usage_error(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An output folder that cannot be created exits 2 before anything runs."""
    (in_tmp / "file").write_text("")
    assert main(["run", "--output-dir", "file/sub", "--", sys.executable, "-c", "pass"]) == 2
    assert "output-dir" in capsys.readouterr().err


def test_command_runs_in_the_current_folder_not_the_workspace(in_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With `working-directory:` below the workspace, the command runs where the step runs."""
    sub = in_tmp / "ml"
    sub.mkdir()
    monkeypatch.chdir(sub)
    monkeypatch.setenv("GITHUB_WORKSPACE", str(in_tmp))
    assert main(["run", "--", sys.executable, "-c", "import os; print('cwd=' + os.getcwd())"]) == 0
    assert f"cwd={sub}" in (sub / "mle-ci-results" / "log.txt").read_text()


def test_a_leaderboard_given_to_run_decides_the_medal(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`run --leaderboard FILE` grades the submission against that leaderboard, not "medals unknown"."""
    from competitions_toy import make_competition, write_rows

    make_competition(in_tmp / "data", config={"metric": "accuracy"})
    write_rows(in_tmp / "board.csv", ["teamName", "score"], [[f"t{i}", 0.9 - 0.1 * i] for i in range(10)])
    script = (
        "import os, pathlib; pathlib.Path(os.environ['SUBMISSION_DIR'], 'submission.csv')"
        ".write_text('id,label\\n1,a\\n2,b\\n3,a\\n4,c\\n')"
    )
    argv = ["run", "--competition", "toy", "--data-dir", "data", "--leaderboard", "board.csv"]
    assert main([*argv, "--", sys.executable, "-c", script]) == 0
    grade = json.loads((in_tmp / "mle-ci-results" / "result.json").read_text())["grade"]
    assert grade["score"] == 1.0 and grade["gold_medal"] is True
    assert grade["leaderboard"] == str(in_tmp / "board.csv")
    assert main([*argv[:-2], "--", sys.executable, "-c", script]) == 0
    alone = json.loads((in_tmp / "mle-ci-results" / "result.json").read_text())["grade"]
    assert alone["leaderboard"] is None and alone["gold_threshold"] is None and not alone["any_medal"]
    assert "medals unknown: no leaderboard" in " ".join(alone["warnings"])


@pytest.mark.parametrize("where", ["flag", "file"])
def test_json_nested_past_the_parser_is_a_usage_error_not_a_traceback(
    in_tmp: Path, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    if where == "flag":
        argv = ["run", "--prices", deep, "--", sys.executable, "-c", "pass"]
    else:
        (in_tmp / "base.json").write_text(deep)
        argv = ["run", "--baseline-result", "base.json", "--", sys.executable, "-c", "pass"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "nested too deeply" in err and "Traceback" not in err


def test_a_fifo_named_as_a_file_is_refused_not_waited_on(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    os.mkfifo(in_tmp / "base.json")
    assert main(["run", "--baseline-result", "base.json", "--", sys.executable, "-c", "pass"]) == 2
    assert "not a regular file" in capsys.readouterr().err


@pytest.mark.parametrize("score", ['"high"', "1" + "0" * 400, "true"])
def test_a_result_whose_numbers_are_not_numbers_is_refused_with_exit_2(
    in_tmp: Path, capsys: pytest.CaptureFixture[str], score: str
) -> None:
    (in_tmp / "base.json").write_text(f'{{"schema_version": 1, "status": "success", "reported_score": {score}}}')
    assert main(["run", "--baseline-result", "base.json", "--", sys.executable, "-c", "pass"]) == 2
    err = capsys.readouterr().err
    assert "not a usable mle-ci result" in err and "Traceback" not in err


def test_a_secret_given_by_mistake_is_not_quoted_back(
    in_tmp: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MY_SERVICE_TOKEN", "tok-secret-value-123")
    assert main(["run", "--folds", "tok-secret-value-123", "--", sys.executable, "-c", "pass"]) == 2
    assert main(["run", "--folds", "sk-ant-api03-abcdefghijklmnop", "--", sys.executable, "-c", "pass"]) == 2
    err = capsys.readouterr().err
    assert "--folds" in err and "tok-secret-value-123" not in err and "abcdefghijklmnop" not in err


@pytest.mark.parametrize(
    ("error", "code"),
    [(click.UsageError("no such option"), 2), (click.FileError("x.yml", "cannot open"), 1), (click.Abort(), 130)],
)
def test_clicks_own_exit_codes_are_kept(monkeypatch: pytest.MonkeyPatch, error: Exception, code: int) -> None:
    """A usage mistake exits 2, a file click could not open 1 (click's codes), Ctrl-C at a prompt 130."""

    def fail(**_: object) -> None:
        raise error

    monkeypatch.setattr(cli_module.cli, "main", fail)
    assert cli_module.main(["run"]) == code


def test_every_command_name_leads_to_its_own_click_command() -> None:
    """The group lists every command of the wiring table, and each name loads the click command of that name."""
    ctx = click.Context(cli)
    assert cli.list_commands(ctx) == sorted(COMMANDS)
    for name in COMMANDS:
        command = cli.get_command(ctx, name)
        assert isinstance(command, click.Command)
        assert command.name == name


@pytest.mark.parametrize("limit", [45, 1000])
def test_the_help_lists_each_command_with_its_own_short_help(limit: int) -> None:
    """The summary ``mle-ci --help`` shows without importing a command is the one click makes from its help."""
    ctx = click.Context(cli)
    for name, wiring in COMMANDS.items():
        command = cli.get_command(ctx, name)
        assert command is not None
        assert summary_line(name, wiring, limit) == command.get_short_help_str(limit)


def test_an_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """A command name not in the wiring table exits 2 naming it, as click does."""
    assert main(["no-such-command"]) == 2
    assert "No such command 'no-such-command'" in capsys.readouterr().err


def _command_modules_loaded(tmp_path: Path, argv: list[str]) -> tuple[int, list[str]]:
    """The exit code of ``mle-ci ARGV`` in a fresh interpreter, and the command modules it imported."""
    script = (
        "import sys\n"
        "from mle_ci.cli import main\n"
        f"code = main({argv!r})\n"
        "print(repr((code, sorted(m for m in sys.modules if m.startswith('mle_ci.commands.')))))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        env=base_env(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    code, modules = ast.literal_eval(proc.stdout.splitlines()[-1])
    return code, modules


@pytest.mark.parametrize("argv", [["--version"], ["--help"]])
def test_version_and_help_load_no_command(tmp_path: Path, argv: list[str]) -> None:
    """``mle-ci --version`` and ``mle-ci --help`` import no command's module."""
    assert _command_modules_loaded(tmp_path, argv) == (0, [])


def test_a_run_loads_only_the_run_command(tmp_path: Path) -> None:
    """``mle-ci run`` imports the run's command module and no other command's (``options`` is what they share)."""
    argv = ["run", "--output-dir", str(tmp_path / "out"), "--", sys.executable, "-c", "pass"]
    assert _command_modules_loaded(tmp_path, argv) == (0, ["mle_ci.commands.options", "mle_ci.commands.run"])
