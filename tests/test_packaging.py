"""The package as PyPI gets it: its metadata, the extras each optional library comes with, the error that names a
missing one, and the wheel installed alone in a fresh venv running the harness without torch."""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import json
import os
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from helpers import ROOT, base_env

from mle_ci import __version__
from mle_ci.errors import ConfigError
from mle_ci.extras import OPTIONAL, extra_for, install_line
from mle_ci.settings import load_settings
from mle_ci.stages.check import check_agent_runs_here

PROJECT: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
NAME = PROJECT["name"]
HEAVY = ("torch", "sklearn", "pandas", "numpy", "scipy", "PIL")
"""What the harness alone must not bring."""


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].lower()


def extra_requirements(extra: str) -> set[str]:
    """The distributions an extra installs, the extras it includes (``mle-gpu-agent[grading]``) expanded."""
    names: set[str] = set()
    for requirement in PROJECT["optional-dependencies"][extra]:
        included = re.fullmatch(rf"{NAME}\[([\w,]+)\]", requirement)
        if included:
            for other in included.group(1).split(","):
                names |= extra_requirements(other)
        else:
            names.add(_name(requirement))
    return names


def third_party_imports() -> set[str]:
    """The top-level names of every library the package imports, anywhere, outside the standard library."""
    names: set[str] = set()
    for path in (ROOT / "mle_ci").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {alias.name.partition(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.partition(".")[0])
    return {name for name in names if name not in sys.stdlib_module_names and name != "mle_ci"}


def test_the_version_is_written_once() -> None:
    """pyproject.toml reads the version from the package, which `mle-ci --version` prints."""
    assert "version" not in PROJECT and "version" in PROJECT["dynamic"]
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    assert setuptools["dynamic"]["version"] == {"attr": "mle_ci.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__)


def test_the_metadata_is_pep_639_with_the_tested_pythons() -> None:
    """An SPDX license with its file, no license classifier beside it, and one classifier per Python CI tests."""
    assert PROJECT["license"] == "MIT" and PROJECT["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
    assert not [c for c in PROJECT["classifiers"] if c.startswith("License ::")]
    assert "Operating System :: POSIX :: Linux" in PROJECT["classifiers"]
    ci = (ROOT / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8")
    tested = set(re.findall(r'"(3\.\d+)"', ci))
    assert tested and {f"Programming Language :: Python :: {v}" for v in tested} <= set(PROJECT["classifiers"])
    assert PROJECT["requires-python"] == f">={min(tested, key=lambda v: int(v.split('.')[1]))}"
    assert (ROOT / "mle_ci" / "py.typed").exists()


def test_every_library_the_package_imports_is_a_dependency_or_names_its_extra() -> None:
    """A library imported anywhere is either a dependency of the harness or in the extras table, which names the
    distribution that installs it and an extra of pyproject.toml that lists it."""
    core = {_name(requirement) for requirement in PROJECT["dependencies"]}
    installed = importlib.metadata.packages_distributions()
    for module in third_party_imports():
        distribution = installed[module][0].lower()
        if distribution in core:
            assert module not in OPTIONAL, module
        else:
            assert module in OPTIONAL, f"{module} ({distribution}) is neither a dependency nor in mle_ci/extras.py"
    for module, optional in OPTIONAL.items():
        assert optional.distribution == installed[module][0].lower(), module
        assert optional.distribution in extra_requirements(optional.extra), module
        assert optional.distribution not in core, module


def test_the_harness_needs_none_of_the_heavy_libraries() -> None:
    """`pip install mle-gpu-agent` brings neither torch nor the grading libraries; the agents' extra brings both."""
    core = {_name(requirement) for requirement in PROJECT["dependencies"]}
    assert not core & {"torch", "scikit-learn", "scipy", "pandas", "numpy", "pillow", "anthropic"}
    assert {"numpy", "pandas", "scikit-learn"} <= extra_requirements("grading")
    assert {"torch", "pillow"} | extra_requirements("grading") <= extra_requirements("agents")
    assert extra_requirements("agents") | extra_requirements("claude") <= extra_requirements("dev")


def test_a_missing_optional_library_names_its_extra_and_any_other_is_left_alone() -> None:
    """The error says what needs it and the pip line; a module no extra brings is not turned into one."""
    error = extra_for(ModuleNotFoundError("No module named 'sklearn.metrics'", name="sklearn.metrics"), "mle-ci grade")
    assert isinstance(error, ConfigError)
    assert str(error) == (
        "mle-ci grade needs scikit-learn (the 'grading' extra), which is not installed here: "
        "pip install 'mle-gpu-agent[grading]'"
    )
    assert extra_for(ModuleNotFoundError("No module named 'mle_ci.gone'", name="mle_ci.gone"), "x") is None
    assert extra_for(ModuleNotFoundError("No module named 'nosuch'", name="nosuch"), "x") is None


def test_the_baseline_agent_without_torch_names_the_agents_extra(tmp_path: Path) -> None:
    """The run refuses the baseline agent where torch is not installed, with the line that installs it."""
    settings = load_settings({}, {"HOME": str(tmp_path)}, tmp_path)
    preflight: Any = SimpleNamespace(profile=SimpleNamespace(torch_version=None))
    with pytest.raises(ConfigError, match=re.escape(install_line("torch"))) as raised:
        check_agent_runs_here(settings, preflight)
    assert raised.value.exit_code == 2 and "agents" in str(raised.value)


REFUSING = """
import importlib.abc, sys
class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.partition(".")[0] == sys.argv[1]:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, Refuse())
from mle_ci.cli import main
raise SystemExit(main(sys.argv[2:]))
"""
"""``mle-ci ARGS`` as if the library named first were not installed."""


@pytest.mark.parametrize(
    ("missing", "args", "needed_by"),
    [
        ("pandas", ["competitions"], "mle-ci competitions"),
        ("numpy", ["grade", "--help"], "mle-ci grade"),
        ("pandas", ["validate", "--help"], "mle-ci validate"),
        ("numpy", ["run"], "mle-ci run on a competition"),  # the baseline agent on the default demo
    ],
)
def test_a_command_without_its_extra_exits_2_naming_it(
    missing: str, args: list[str], needed_by: str, tmp_path: Path
) -> None:
    """The command loader and a run's competition turn the missing library into one line and exit 2."""
    if args == ["run"]:
        args = ["run", "--output-dir", str(tmp_path / "out")]
    proc = subprocess.run(
        [sys.executable, "-c", REFUSING, missing, *args],
        env=base_env({"HOME": str(tmp_path)}),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"Error: {needed_by} needs {OPTIONAL[missing].distribution} (the 'grading' extra), which is not installed "
        f"here: pip install 'mle-gpu-agent[grading]'"
    ]


# The wheel as a user installs it: built, checked as PyPI checks it, installed alone in a fresh venv.

TOOLS = ("build", "twine")
packaging = pytest.mark.skipif(
    any(importlib.util.find_spec(tool) is None for tool in TOOLS),
    reason="building and checking the wheel needs build and twine (pip install -e '.[dev]')",
)


def _run(argv: list[str], *, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, f"{argv} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist and the wheel, built from the repository as the release workflow builds them."""
    out = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "build", "--sdist", "--wheel", "--outdir", str(out), str(ROOT)], cwd=out)
    return out


@pytest.fixture(scope="module")
def user_venv(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A fresh venv with the wheel installed without extras; its dependencies from the configured index. Returns its
    bin folder and an environment in which nothing points back at the repository."""
    venv = tmp_path_factory.mktemp("venv")
    _run([sys.executable, "-m", "venv", str(venv)], cwd=venv)
    env = {k: v for k, v in base_env().items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env["HOME"] = str(venv)
    wheel = next(dist.glob("*.whl"))
    pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", "install", "--quiet"]
    _run([*pip, str(wheel)], cwd=venv, env=env)
    return venv / "bin", env


@packaging
@pytest.mark.packaging
def test_the_sdist_and_wheel_pass_twine_and_ship_the_license_and_py_typed(dist: Path) -> None:
    """`twine check --strict` passes both; the wheel holds py.typed, the license and a PEP 639 expression."""
    files = sorted(dist.iterdir(), key=lambda f: f.suffix)
    assert [f.name for f in files] == [
        f"mle_gpu_agent-{__version__}.tar.gz",
        f"mle_gpu_agent-{__version__}-py3-none-any.whl",
    ]
    _run([sys.executable, "-m", "twine", "check", "--strict", *map(str, files)], cwd=dist)
    with zipfile.ZipFile(files[1]) as wheel:
        names = wheel.namelist()
        metadata = wheel.read(f"mle_gpu_agent-{__version__}.dist-info/METADATA").decode()
    assert "mle_ci/py.typed" in names
    assert f"mle_gpu_agent-{__version__}.dist-info/licenses/LICENSE" in names
    assert "License-Expression: MIT\n" in metadata and f"Version: {__version__}\n" in metadata


@packaging
@pytest.mark.packaging
def test_the_wheel_alone_runs_the_harness_without_torch(user_venv: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    """In a fresh venv with no extras: `mle-ci --version` and a supervised command that reports a fold both work,
    and none of the heavy libraries was installed."""
    bin_dir, env = user_venv
    python = str(bin_dir / "python")
    found = _run(
        [python, "-c", f"import importlib.util as u; print([m for m in {HEAVY!r} if u.find_spec(m)])"],
        cwd=tmp_path,
        env=env,
    )
    assert found.stdout.strip() == "[]"
    where = _run([python, "-c", "import mle_ci; print(mle_ci.__file__)"], cwd=tmp_path, env=env)
    assert Path(where.stdout.strip()).is_relative_to(bin_dir.parent)
    version = _run([str(bin_dir / "mle-ci"), "--version"], cwd=tmp_path, env=env)
    assert version.stdout.strip() == f"mle-ci, version {__version__}"
    out = tmp_path / "out"
    command = [python, "-c", "print('Fold 1/1 complete: Score=0.9')"]
    _run([str(bin_dir / "mle-ci"), "run", "--output-dir", str(out), "--", *command], cwd=tmp_path, env=env)
    result = json.loads((out / "result.json").read_text(encoding="utf-8"))
    assert result["status"] == "success"


@packaging
@pytest.mark.packaging
@pytest.mark.parametrize(
    ("args", "needed"),
    [
        (["grade", "--help"], "mle-ci grade needs numpy (the 'grading' extra)"),
        (["run", "--agent", "claude"], "agent: the claude agent needs anthropic (the 'claude' extra)"),
        (["run"], "mle-ci run on a competition needs numpy (the 'grading' extra)"),
    ],
)
def test_the_wheel_alone_names_the_extra_a_command_needs(
    user_venv: tuple[Path, dict[str, str]], args: list[str], needed: str, tmp_path: Path
) -> None:
    """Where the extras really are missing, each command that needs one exits 2 with the line to install it."""
    bin_dir, env = user_venv
    argv = [str(bin_dir / "mle-ci"), *args]
    if args[0] == "run":
        argv[2:2] = ["--output-dir", str(tmp_path / "out")]
    proc = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith(f"Error: {needed}, which is not installed here: pip install"), proc.stderr
    assert os.linesep.join(proc.stderr.splitlines()[1:]) == ""


def test_a_release_publishes_the_checked_dist_to_pypi_by_trusted_publishing() -> None:
    """release.yml builds and twine-checks the sdist and wheel, then uploads them with an OIDC token from the pypi
    environment: no password or API token anywhere."""
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "release.yml").read_text(encoding="utf-8"))
    jobs = workflow["jobs"]
    built = "\n".join(step.get("run", "") for step in jobs["dist"]["steps"])
    assert "python -m build --sdist --wheel" in built and "twine check --strict" in built
    publish = jobs["pypi"]
    assert publish["needs"] == "dist" and publish["environment"]["name"] == "pypi"
    assert publish["permissions"] == {"id-token": "write"}
    uses = [step["uses"].partition("@")[0] for step in publish["steps"]]
    assert uses == ["actions/download-artifact", "pypa/gh-action-pypi-publish"]
    assert set(publish["steps"][-1]["with"]) == {"packages-dir"}  # no password: the token is the OIDC one
