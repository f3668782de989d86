"""The MLE-bench agent folder: start.sh run by bash on a fake /home, its config in MLE-bench's format."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import ROOT

AGENT = ROOT / "integrations" / "mlebench"
START = AGENT / "start.sh"

FAKE_MLE_CI = """\
#!{python}
# Records how start.sh called the harness, then behaves as told by FAKE_* variables.
import json, os, sys, time
argv = sys.argv[1:]
out = argv[argv.index("--output-dir") + 1]
data = argv[argv.index("--data-dir") + 1]
competition = argv[argv.index("--competition") + 1]
public = os.path.join(data, competition, "prepared", "public")
with open(os.environ["FAKE_RECORD"], "w") as f:
    json.dump({{"argv": argv, "public": os.path.realpath(public), "key": os.environ.get("ANTHROPIC_API_KEY")}}, f)
os.makedirs(out, exist_ok=True)
if os.environ.get("FAKE_SUBMISSION"):
    with open(os.path.join(out, "submission.csv"), "w") as f:
        f.write("id,target\\n1,0\\n")
time.sleep(float(os.environ.get("FAKE_SLEEP", "0")))
sys.exit(int(os.environ.get("FAKE_RC", "0")))
"""


@pytest.fixture
def home(tmp_path: Path) -> dict[str, str]:
    """A fake /home as MLE-bench lays it out, and a fake mle-ci that records its arguments."""
    root = tmp_path / "home"
    (root / "data").mkdir(parents=True)
    (root / "data" / "description.md").write_text("# a competition\n")
    fake = tmp_path / "mle-ci"
    fake.write_text(FAKE_MLE_CI.format(python=sys.executable))
    fake.chmod(0o755)
    return {
        "PATH": os.environ["PATH"],
        "MLE_CI_HOME": str(root),
        "MLE_CI_COMMAND": str(fake),
        "MLE_CI_NO_CONDA": "1",
        "FAKE_RECORD": str(tmp_path / "record.json"),
        "COMPETITION_ID": "spaceship-titanic",
        "TIME_LIMIT_SECS": "3600",
        "ANTHROPIC_API_KEY": "sk-ant-test-key-value",
        "SUBMISSION_DIR": str(root / "submission"),
        "LOGS_DIR": str(root / "logs"),
        "AGENT_DIR": str(root / "agent"),
    }


def start(env: dict[str, str], *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    bash = shutil.which("bash")
    assert bash is not None
    return subprocess.run(
        [bash, str(START), *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def recorded(env: dict[str, str]) -> dict[str, Any]:
    return json.loads(Path(env["FAKE_RECORD"]).read_text())


def option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def test_start_runs_the_claude_agent_under_the_harness_with_mlebench_folders(home: dict[str, str]) -> None:
    """claude agent, GPU fail-fast, heartbeat, deadline before the limit, /home/data seen as prepared/public."""
    proc = start(home, "--max-cost", "5")
    assert proc.returncode == 0, proc.stderr
    record = recorded(home)
    argv = record["argv"]
    assert argv[0] == "run"
    assert option(argv, "--agent") == "claude"
    assert option(argv, "--competition") == "spaceship-titanic"
    assert "--require-gpu" in argv
    assert option(argv, "--heartbeat") == "60s"
    assert option(argv, "--timeout") == "3300s"  # 3600 s less a 300 s margin for the reports
    assert option(argv, "--output-dir") == str(Path(home["LOGS_DIR"]) / "mle-ci")
    assert argv[-2:] == ["--max-cost", "5"]  # the config's kwargs
    assert record["public"] == os.path.realpath(Path(home["MLE_CI_HOME"]) / "data")
    assert record["key"] == home["ANTHROPIC_API_KEY"]


def test_the_submission_lands_where_mlebench_grades_it(home: dict[str, str]) -> None:
    """The harness's submission.csv is copied to SUBMISSION_DIR/submission.csv, the only file graded."""
    home["FAKE_SUBMISSION"] = "1"
    proc = start(home)
    assert proc.returncode == 0, proc.stderr
    graded = Path(home["SUBMISSION_DIR"]) / "submission.csv"
    assert graded.read_text() == "id,target\n1,0\n"


def test_the_harness_exit_code_is_kept_and_a_submission_still_copied(home: dict[str, str]) -> None:
    """A harness timeout (124) stays 124, with the best submission so far copied."""
    home.update(FAKE_RC="124", FAKE_SUBMISSION="1")
    proc = start(home)
    assert proc.returncode == 124
    assert "timed out after 3600s" in proc.stdout
    assert (Path(home["SUBMISSION_DIR"]) / "submission.csv").is_file()


def test_gpu_exit_3_passes_through(home: dict[str, str]) -> None:
    """No GPU where one is required: the harness's exit 3 is the script's, before any API spend."""
    home["FAKE_RC"] = "3"
    assert start(home).returncode == 3


def test_a_cpu_run_can_be_allowed(home: dict[str, str]) -> None:
    """REQUIRE_GPU=false drops --require-gpu."""
    home["REQUIRE_GPU"] = "false"
    assert start(home).returncode == 0
    assert "--require-gpu" not in recorded(home)["argv"]


def test_the_outer_deadline_stops_a_harness_that_overruns(home: dict[str, str]) -> None:
    """`timeout` at TIME_LIMIT_SECS ends even a harness that ignores its own deadline: exit 124."""
    home.update(TIME_LIMIT_SECS="2", FAKE_SLEEP="60")
    proc = start(home, timeout=30)
    assert proc.returncode == 124
    assert option(recorded(home)["argv"], "--timeout") == "1s"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("TIME_LIMIT_SECS", "1h", "TIME_LIMIT_SECS must be a whole number"),
        ("TIME_LIMIT_SECS", "", "TIME_LIMIT_SECS must be a whole number"),
        ("COMPETITION_ID", "", "COMPETITION_ID is not set"),
        ("COMPETITION_ID", "../etc", "is not a competition id"),
    ],
)
def test_bad_environment_is_exit_2_before_anything_runs(
    home: dict[str, str], name: str, value: str, message: str
) -> None:
    """A missing or malformed limit or id: exit 2 with the reason, the harness never started."""
    home[name] = value
    proc = start(home)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert not Path(home["FAKE_RECORD"]).exists()


def test_config_is_in_mlebench_format() -> None:
    """Each agent id has start, dockerfile, argparse kwargs and env_vars with the key as a secret and the limit."""
    config = yaml.safe_load((AGENT / "config.yaml").read_text())
    agents = {name: spec for name, spec in config.items() if name.startswith("mle-gpu-agent")}
    assert set(agents) == {"mle-gpu-agent", "mle-gpu-agent/dev"}
    for spec in agents.values():
        assert spec["start"] == "mle-gpu-agent/start.sh"
        assert spec["dockerfile"] == "mle-gpu-agent/Dockerfile"
        assert spec["kwargs_type"] == "argparse"
        assert spec["env_vars"]["ANTHROPIC_API_KEY"] == "${{ secrets.ANTHROPIC_API_KEY }}"
        assert int(spec["env_vars"]["TIME_LIMIT_SECS"]) > 0
        assert all(isinstance(key, str) for key in spec["kwargs"])


def test_container_config_passes_the_gpus_without_sysbox() -> None:
    """docker-py's gpus=-1 requests every GPU; sysbox cannot pass GPUs, so no runtime is named."""
    config = json.loads((AGENT / "container_configs" / "gpu.json").read_text())
    assert config["gpus"] == -1
    assert "runtime" not in config


def test_agent_dockerfile_builds_on_mlebench_env_and_installs_the_wheel() -> None:
    """FROM mlebench-env, the package from the folder's wheel, the start script where config.yaml names it."""
    text = (AGENT / "Dockerfile").read_text()
    assert "\nFROM mlebench-env\n" in text
    assert "wheel=$(ls /tmp/mle-gpu-agent-dist/mle_gpu_agent-*.whl)" in text
    assert 'pip install --no-cache-dir "${wheel}[claude]"' in text
    assert "COPY start.sh ${AGENT_DIR}/start.sh" in text
    assert os.access(START, os.X_OK)


def test_a_read_only_agent_dir_puts_the_layout_in_a_temporary_folder(home: dict[str, str], tmp_path: Path) -> None:
    """start.sh runs as `nonroot`; when AGENT_DIR is not writable the competition layout goes to a temp folder."""
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    home["AGENT_DIR"] = str(locked / "agent")
    home["TMPDIR"] = str(tmp_path)
    try:
        proc = start(home)
    finally:
        locked.chmod(0o700)
    if os.geteuid() == 0 and proc.returncode == 0 and (locked / "agent").exists():
        pytest.skip("root writes into a read-only folder anyway")
    assert proc.returncode == 0, proc.stderr
    record = recorded(home)
    assert option(record["argv"], "--data-dir").startswith(str(tmp_path))
    assert record["public"] == os.path.realpath(Path(home["MLE_CI_HOME"]) / "data")
