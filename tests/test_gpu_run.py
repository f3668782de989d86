"""GPU preflight and monitoring inside `mle-ci run`, on this GPU-less machine and with a fake NVML."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import junitparser
import pytest
from helpers import mle_ci

from mle_ci.cli import main
from mle_ci.hardware.nvml import FakeNvml, fake_gpu
from mle_ci.pipeline import execute
from mle_ci.settings import load_settings


def test_require_gpu_never_starts_the_command_here(tmp_path: Path) -> None:
    """Without a GPU, `run --require-gpu` exits 3, the command never runs, and the reports say why."""
    marker = tmp_path / "ran"
    run = mle_ci(
        ["--require-gpu", "--", sys.executable, "-c", f"open({str(marker)!r}, 'w').write('x')"], tmp_path / "out"
    )
    assert run.returncode == 3, run.stdout
    assert not marker.exists()
    result = run.result
    assert result["status"] == "gpu-unavailable"
    assert result["exit_code"] == 3
    assert result["diagnosis"]["cuda_usable"] is False
    assert any(f["severity"] == "error" for f in result["diagnosis"]["findings"])
    xml = junitparser.JUnitXml.fromfile(str(run.out / "junit.xml"))
    cases = {case.name: case for suite in xml for case in suite}
    assert "gpu-preflight" in cases
    assert cases["gpu-preflight"].result[0].type == "gpu-unavailable"
    assert "Hardware" in run.file("summary.md")
    assert "Fix:" in run.stdout


def test_require_gpu_in_github_raises_an_error_annotation(tmp_path: Path) -> None:
    """In Actions the failed preflight becomes error annotations and the outputs say gpu-unavailable."""
    output = tmp_path / "gh-output"
    output.touch()
    env = {"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(output), "MLE_CI_REQUIRE_GPU": "true"}
    run = mle_ci(["--", sys.executable, "-c", "pass"], tmp_path / "out", env=env)
    assert run.returncode == 3
    assert any(line.startswith("::error title=GPU preflight") for line in run.stdout.splitlines())
    assert "status=gpu-unavailable" in output.read_text()


def test_without_require_gpu_the_cpu_plan_reaches_the_child(tmp_path: Path) -> None:
    """Without a GPU requirement the run goes on, and the child gets the CPU plan in MLE_CI_* variables."""
    script = "import os; print({k: v for k, v in os.environ.items() if k.startswith('MLE_CI_')})"
    run = mle_ci(["--", sys.executable, "-c", script], tmp_path / "out")
    assert run.returncode == 0
    log = run.file("log.txt")
    assert "'MLE_CI_DEVICE': 'cpu'" in log
    assert "'MLE_CI_AMP': 'off'" in log
    assert "'MLE_CI_GPU_COUNT': '0'" in log
    assert run.result["plan"]["device"] == "cpu"


def test_preflight_command_here(capsys: pytest.CaptureFixture[str]) -> None:
    """`mle-ci preflight` exits 0 with a CPU plan, and 3 with --require-gpu naming the missing driver."""
    assert main(["preflight"]) == 0
    assert "cpu" in capsys.readouterr().out
    assert main(["preflight", "--require-gpu"]) == 3
    out = capsys.readouterr().out
    assert "Fix" in out or "fix" in out
    assert main(["preflight", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["plan"]["device"] == "cpu"


def test_monitor_command_here_says_so_plainly(capsys: pytest.CaptureFixture[str]) -> None:
    """`mle-ci monitor` on a machine without GPU says so and exits 0 (3 with --require-gpu)."""
    assert main(["monitor", "--duration", "1s"]) == 0
    assert "GPU" in capsys.readouterr().out
    assert main(["monitor", "--duration", "1s", "--require-gpu"]) == 3


def _fake_settings(tmp_path: Path, *args: str, **extra: str) -> object:
    env = {"PATH": "/usr/bin:/bin", "NVIDIA_VISIBLE_DEVICES": "all", **extra}
    cli: dict[str, object] = {"output_dir": str(tmp_path / "out"), "display": "plain", "heartbeat": "0.3s"}
    cli.update(dict(zip(args[::2], args[1::2], strict=True)))
    return load_settings(cli, env, tmp_path)


def test_idle_fake_gpu_is_flagged_and_can_fail_the_run(tmp_path: Path) -> None:
    """A GPU that stays at 0 % while the command runs is flagged; --fail-on-idle-gpu turns it into a gate."""
    nvml = FakeNvml([fake_gpu(0, load=lambda _ts: 0.0)])
    settings = _fake_settings(
        tmp_path,
        "command",
        (sys.executable, "-c", "import time; time.sleep(1.5)"),
        "gpu_interval",
        "0.1s",
        "idle_warmup",
        "0.2s",
        "idle_window",
        "0.5s",
        "fail_on_idle_gpu",
        True,
    )
    stream = io.StringIO()
    result = execute(settings, stream=stream, nvml=nvml)  # type: ignore[arg-type]
    assert result.gpu_idle
    assert result.status.value == "failed"
    assert any(g.name == "gpu-idle" and not g.passed for g in result.gates)
    assert "below 5 % utilization" in stream.getvalue()
    rows = (tmp_path / "out" / "gpu.csv").read_text().splitlines()
    assert rows[0].startswith("timestamp,gpu,utilization_pct")
    assert len(rows) > 5
    assert "GPU use" in (tmp_path / "out" / "summary.md").read_text()


def test_busy_fake_gpu_is_not_idle_and_joins_the_heartbeat(tmp_path: Path) -> None:
    """A busy GPU is not flagged; its use shows in the heartbeat and in the result's GPU statistics."""
    nvml = FakeNvml([fake_gpu(0, load=lambda _ts: 87.0, memory_used_bytes=5 * 1024**3)])
    settings = _fake_settings(
        tmp_path,
        "command",
        (sys.executable, "-c", "import time; time.sleep(1.2)"),
        "gpu_interval",
        "0.1s",
        "idle_warmup",
        "0.1s",
        "idle_window",
        "0.3s",
    )
    stream = io.StringIO()
    result = execute(settings, stream=stream, nvml=nvml)  # type: ignore[arg-type]
    assert not result.gpu_idle
    assert result.status.value == "success"
    (usage,) = result.gpu_usage
    assert usage.util_mean == pytest.approx(87.0)
    assert "GPU 87 %" in stream.getvalue()


def test_nvml_failing_mid_run_is_recorded_not_fatal(tmp_path: Path) -> None:
    """NVML errors while sampling become result.gpu_errors; the run itself succeeds."""
    nvml = FakeNvml([fake_gpu(0, load=lambda _ts: 50.0)], fail_samples_after=2)
    settings = _fake_settings(
        tmp_path, "command", (sys.executable, "-c", "import time; time.sleep(1)"), "gpu_interval", "0.1s"
    )
    result = execute(settings, stream=io.StringIO(), nvml=nvml)  # type: ignore[arg-type]
    assert result.status.value == "success"
    assert result.gpu_errors
