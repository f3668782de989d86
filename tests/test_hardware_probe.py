from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import base_env, wait_gone

from mle_ci.hardware.diagnosis import diagnose
from mle_ci.hardware.model import CudaCheck, GpuInfo, NvmlFault
from mle_ci.hardware.nvml import FakeNvml, NvmlError, fake_gpu
from mle_ci.hardware.probe import (
    cpu_count,
    device_nodes,
    installed_torch,
    memory_total,
    probe_hardware,
    shm_size,
)

CUDA_TORCH = ("2.5.1+cu124", "12.4")

# A stand-in for torch, enough for the CUDA check script; FAKE_TORCH picks how it behaves.
FAKE_TORCH = r"""
import os, subprocess, sys, time

MODE = os.environ.get("FAKE_TORCH", "ok")
print("fake torch: some start-up noise")


class _Tensor:
    def __matmul__(self, other): return self
    def sum(self): return self
    def item(self): return 0.0


def randn(*shape, device=None):
    if MODE == "hang":
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        with open(os.environ["FAKE_TORCH_PIDS"], "w") as f:
            f.write(f"{os.getpid()} {child.pid}")
        time.sleep(60)
    if MODE == "crash":
        sys.stderr.write("Segmentation fault (core dumped)\n")
        sys.stderr.flush()
        os._exit(139)
    return _Tensor()


class _Cuda:
    def is_available(self): return MODE != "old-driver"
    def init(self):
        raise RuntimeError(
            "The NVIDIA driver on your system is too old (found version 11040). Please update your GPU driver "
            "by downloading and installing a new version from the URL: http://www.nvidia.com/Download/index.aspx"
        )
    def synchronize(self): pass
    def device_count(self): return 2
    def get_device_name(self, index): return "NVIDIA H100 80GB HBM3"
    if MODE == "old-torch":
        def is_bf16_supported(self): return False
    else:
        def is_bf16_supported(self, including_emulation=True): return not including_emulation


cuda = _Cuda()
"""


@pytest.fixture
def dev(tmp_path: Path) -> Path:
    """A /dev with an NVIDIA GPU's device nodes (empty files)."""
    folder = tmp_path / "dev"
    folder.mkdir()
    for name in ("nvidia0", "nvidiactl", "nvidia-uvm", "null"):
        (folder / name).touch()
    return folder


@pytest.fixture
def empty_dev(tmp_path: Path) -> Path:
    folder = tmp_path / "empty-dev"
    folder.mkdir()
    (folder / "null").touch()
    return folder


@pytest.fixture
def torch_env(tmp_path: Path) -> dict[str, str]:
    """An environment whose Python imports the fake torch."""
    site = tmp_path / "site"
    (site / "torch").mkdir(parents=True)
    (site / "torch" / "__init__.py").write_text(FAKE_TORCH)
    return {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(site), "FAKE_TORCH_PIDS": str(tmp_path / "pids")}


class RecordingNvml(FakeNvml):
    """A fake NVML that records its calls and can fail reading one device."""

    def __init__(self, *args: object, fail_device: int | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.calls: list[str] = []
        self.fail_device = fail_device

    def init(self) -> None:
        self.calls.append("init")
        super().init()

    def shutdown(self) -> None:
        self.calls.append("shutdown")
        super().shutdown()

    def device(self, index: int) -> GpuInfo:
        if index == self.fail_device:
            raise NvmlError(NvmlFault.OTHER, "NVMLError_GpuIsLost: GPU is lost")
        return super().device(index)


def test_probe_reads_gpus_driver_and_variables(dev: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Device nodes, both variables (from the mapping given, not os.environ), NVML's GPUs and the torch build."""
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "5")
    nvml = RecordingNvml([fake_gpu(0), fake_gpu(1)], driver="560.35.03", cuda_driver=12060)
    profile = probe_hardware(
        {"NVIDIA_VISIBLE_DEVICES": "all", "CUDA_VISIBLE_DEVICES": "1"},
        nvml=nvml,
        dev=dev,
        torch_info=lambda: CUDA_TORCH,
    )
    assert profile.device_nodes == ("nvidia-uvm", "nvidia0", "nvidiactl")
    assert (profile.nvidia_visible_devices, profile.cuda_visible_devices) == ("all", "1")
    assert [g.name for g in profile.gpus] == ["NVIDIA H100 80GB HBM3"] * 2
    assert (profile.driver_version, profile.cuda_driver_version) == ("560.35.03", 12060)
    assert (profile.nvml_fault, profile.nvml_error) == (None, None)
    assert (profile.torch_version, profile.torch_cuda) == CUDA_TORCH
    assert not profile.cuda_check.ran
    assert profile.cpu_count >= 1
    assert nvml.calls == ["init", "shutdown"]
    assert probe_hardware({}, nvml=nvml, dev=dev, torch_info=lambda: CUDA_TORCH).cuda_visible_devices is None


@pytest.mark.parametrize("fault", [NvmlFault.DRIVER_NOT_LOADED, NvmlFault.VERSION_MISMATCH, NvmlFault.UNKNOWN])
def test_nvml_failure_is_recorded_not_raised(dev: Path, fault: NvmlFault) -> None:
    """An NVML error at init becomes nvml_fault and nvml_error; NVML is still shut down."""
    nvml = RecordingNvml([fake_gpu(0)], init_fault=fault)
    profile = probe_hardware({}, nvml=nvml, dev=dev, torch_info=lambda: CUDA_TORCH)
    assert profile.nvml_fault is fault
    assert profile.nvml_error is not None
    assert fault.value in profile.nvml_error
    assert profile.gpus == ()
    assert nvml.calls == ["init", "shutdown"]


def test_a_device_lost_while_reading_keeps_what_was_read(dev: Path) -> None:
    """A GPU failing mid-probe: the GPUs read before it are kept, the fault recorded."""
    nvml = RecordingNvml([fake_gpu(0), fake_gpu(1)], fail_device=1)
    profile = probe_hardware({}, nvml=nvml, dev=dev, torch_info=lambda: CUDA_TORCH)
    assert [g.index for g in profile.gpus] == [0]
    assert profile.nvml_fault is NvmlFault.OTHER
    assert profile.nvml_error == "NVMLError_GpuIsLost: GPU is lost"
    assert profile.driver_version == "550.54.15"
    assert nvml.calls == ["init", "shutdown"]


@pytest.mark.parametrize("nvd", [None, "", "void", "none"])
def test_nvml_is_skipped_when_nothing_could_lead_to_a_gpu(empty_dev: Path, nvd: str | None) -> None:
    """No device nodes and no device named: NVML is not touched at all."""
    nvml = RecordingNvml([fake_gpu(0)])
    env = {} if nvd is None else {"NVIDIA_VISIBLE_DEVICES": nvd}
    profile = probe_hardware(env, nvml=nvml, dev=empty_dev, torch_info=lambda: CUDA_TORCH)
    assert profile.nvml_fault is NvmlFault.SKIPPED
    assert profile.device_nodes == ()
    assert nvml.calls == []


def test_nvml_is_tried_on_wsl(empty_dev: Path) -> None:
    """WSL 2 exposes GPUs through /dev/dxg, without /dev/nvidia* nodes: NVML is tried."""
    (empty_dev / "dxg").touch()
    nvml = RecordingNvml([fake_gpu(0)])
    profile = probe_hardware({}, nvml=nvml, dev=empty_dev, torch_info=lambda: CUDA_TORCH)
    assert len(profile.gpus) == 1
    assert diagnose(profile, require_gpu=True).cuda_usable


def test_nvml_is_tried_when_a_device_is_named(empty_dev: Path) -> None:
    """NVIDIA_VISIBLE_DEVICES=all without device nodes (a CUDA image without `--gpus`): NVML is tried."""
    nvml = RecordingNvml(init_fault=NvmlFault.LIBRARY_NOT_FOUND)
    profile = probe_hardware({"NVIDIA_VISIBLE_DEVICES": "all"}, nvml=nvml, dev=empty_dev, torch_info=lambda: CUDA_TORCH)
    assert profile.nvml_fault is NvmlFault.LIBRARY_NOT_FOUND
    assert nvml.calls == ["init", "shutdown"]
    assert diagnose(profile, require_gpu=True).findings[0].code == "no-gpus-flag"


def test_skipped_probe_imports_neither_pynvml_nor_torch(empty_dev: Path) -> None:
    """In a fresh interpreter, the GPU-less path leaves pynvml and torch unimported."""
    code = (
        "import sys; from pathlib import Path; from mle_ci.hardware.probe import probe_hardware; "
        "p = probe_hardware({}, dev=Path(sys.argv[1])); "
        "print(p.nvml_fault.value, 'pynvml' in sys.modules, 'torch' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(empty_dev)], capture_output=True, text=True, check=True, env=base_env()
    )
    assert out.stdout.split() == ["skipped", "False", "False"]


def test_real_nvml_with_device_nodes_never_raises(dev: Path) -> None:
    """With device nodes the real NVML is tried; here (no driver) its failure is recorded, with a GPU it works."""
    profile = probe_hardware({}, dev=dev, torch_info=lambda: (None, None))
    assert profile.nvml_fault is not NvmlFault.SKIPPED
    assert profile.nvml_fault is None or profile.nvml_error


def run_check(
    dev: Path, env: dict[str, str], mode: str, *, python: str = sys.executable, cuda_timeout: float = 60.0
) -> tuple[float, CudaCheck]:
    """Probe a healthy fake GPU machine with the CUDA check on, the check's torch behaving as ``mode``."""
    started = time.monotonic()
    profile = probe_hardware(
        {**env, "FAKE_TORCH": mode},
        nvml=FakeNvml([fake_gpu(0)]),
        dev=dev,
        cuda_check=True,
        cuda_timeout=cuda_timeout,
        python=python,
        torch_info=lambda: CUDA_TORCH,
    )
    return time.monotonic() - started, profile.cuda_check


def test_cuda_check_passes(dev: Path, torch_env: dict[str, str]) -> None:
    """The check script's JSON answer (after other output) gives the device count, name and bf16."""
    _, check = run_check(dev, torch_env, "ok")
    assert check == CudaCheck(
        ran=True, ok=True, seconds=check.seconds, device_count=2, device_name="NVIDIA H100 80GB HBM3", bf16=True
    )


def test_cuda_check_on_an_older_torch(dev: Path, torch_env: dict[str, str]) -> None:
    """A torch whose is_bf16_supported takes no argument is asked without one."""
    _, check = run_check(dev, torch_env, "old-torch")
    assert check.ok
    assert check.bf16 is False


def test_cuda_check_reports_pytorchs_message(dev: Path, torch_env: dict[str, str]) -> None:
    """CUDA unavailable: the check fails with PyTorch's own reason, first line only."""
    _, check = run_check(dev, torch_env, "old-driver")
    assert check.ran and not check.ok and not check.timed_out
    assert check.error.startswith("RuntimeError: The NVIDIA driver on your system is too old (found version 11040).")


def test_cuda_check_that_crashes(dev: Path, torch_env: dict[str, str]) -> None:
    """A check that dies without answering: the last line of its error output is the error."""
    _, check = run_check(dev, torch_env, "crash")
    assert not check.ok
    assert check.error == "Segmentation fault (core dumped)"


def test_cuda_check_without_torch(dev: Path, tmp_path: Path) -> None:
    """The check's Python lacks torch: ModuleNotFoundError is the error."""
    # Whether or not this machine has torch, the child must not find one: a package that is not there.
    absent = tmp_path / "no-torch" / "torch"
    absent.mkdir(parents=True)
    (absent / "__init__.py").write_text("raise ModuleNotFoundError(\"No module named 'torch'\", name='torch')\n")
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(absent.parent)}
    _, check = run_check(dev, env, "ok")
    assert not check.ok
    assert "No module named 'torch'" in check.error


def test_cuda_check_python_missing(dev: Path, tmp_path: Path) -> None:
    """A Python that cannot be started is a failed check, not an exception."""
    _, check = run_check(dev, {}, "ok", python=str(tmp_path / "no-python"))
    assert check.ran and not check.ok
    assert check.error.startswith("cannot start")


def test_hanging_cuda_check_is_killed_with_its_children(dev: Path, torch_env: dict[str, str], tmp_path: Path) -> None:
    """A check that hangs times out after about the timeout, and its whole process group is gone."""
    took, check = run_check(dev, torch_env, "hang", cuda_timeout=1.0)
    assert check.ran and check.timed_out and not check.ok
    assert check.error == "no answer within 1 s"
    assert 1.0 <= took < 4.0
    pids = [int(pid) for pid in (tmp_path / "pids").read_text().split()]
    assert len(pids) == 2
    assert all(wait_gone(pid) for pid in pids)


def test_cuda_check_is_not_run_when_cheap_checks_fail(dev: Path, empty_dev: Path, torch_env: dict[str, str]) -> None:
    """No GPU, or a CPU wheel: the proof is not spent."""
    no_gpu = probe_hardware(torch_env, dev=empty_dev, cuda_check=True, torch_info=lambda: CUDA_TORCH)
    assert not no_gpu.cuda_check.ran
    cpu_wheel = probe_hardware(
        torch_env, nvml=FakeNvml([fake_gpu(0)]), dev=dev, cuda_check=True, torch_info=lambda: ("2.5.1+cpu", None)
    )
    assert not cpu_wheel.cuda_check.ran


def test_device_nodes_of_a_missing_folder(tmp_path: Path) -> None:
    """A /dev that cannot be read has no device nodes."""
    assert device_nodes(tmp_path / "missing") == ()


def test_cpu_count_respects_a_cgroup_quota(tmp_path: Path) -> None:
    """A cgroup v2 cpu.max quota (docker --cpus) lowers the affinity's count."""
    affinity = len(os.sched_getaffinity(0))
    (tmp_path / "cpu.max").write_text("50000 100000\n")
    assert cpu_count(tmp_path) == 1
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert cpu_count(tmp_path) == affinity
    assert cpu_count(tmp_path / "missing") == affinity


def test_memory_total_from_meminfo_and_cgroup(tmp_path: Path) -> None:
    """MemTotal, lowered by a cgroup memory.max; `max` means no limit; sysconf when meminfo is missing."""
    (tmp_path / "meminfo").write_text("MemTotal:        1000 kB\nMemFree:  10 kB\n")
    assert memory_total(tmp_path, tmp_path) == 1_024_000
    (tmp_path / "memory.max").write_text("512000\n")
    assert memory_total(tmp_path, tmp_path) == 512_000
    (tmp_path / "memory.max").write_text("max\n")
    assert memory_total(tmp_path, tmp_path) == 1_024_000
    from_sysconf = memory_total(tmp_path / "missing", tmp_path / "missing")
    assert from_sysconf is not None
    assert from_sysconf > 0


def test_shm_size(tmp_path: Path) -> None:
    """The size of the file system holding the folder; None when there is none."""
    size = shm_size(tmp_path)
    assert size is not None
    assert size > 0
    assert shm_size(tmp_path / "missing") is None


@pytest.mark.parametrize(
    ("version", "cuda_line", "cuda"),
    [("2.5.1+cu124", "cuda: Optional[str] = '12.4'", "12.4"), ("2.5.1+cpu", "cuda: Optional[str] = None", None)],
)
def test_installed_torch_is_read_without_importing_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, version: str, cuda_line: str, cuda: str | None
) -> None:
    """The version and the CUDA come from torch/version.py (its metadata agrees); torch is not imported."""
    (tmp_path / "torch").mkdir()
    (tmp_path / "torch" / "__init__.py").write_text("raise RuntimeError('torch must not be imported')\n")
    (tmp_path / "torch" / "version.py").write_text(
        "from typing import Optional\n\n__all__ = ['__version__', 'debug', 'cuda', 'git_version', 'hip']\n"
        f"__version__ = '{version}'\ndebug = False\n{cuda_line}\ngit_version = 'abc'\nhip: Optional[str] = None\n"
    )
    dist = tmp_path / f"torch-{version}.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: torch\nVersion: {version}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    # Whatever an earlier test imported: the fake package raises if the probe imports it.
    monkeypatch.delitem(sys.modules, "torch", raising=False)
    assert installed_torch() == (version, cuda)
    assert "torch" not in sys.modules


def test_no_torch_here() -> None:
    """This interpreter has no torch (the project's rule): nothing is found."""
    if importlib.util.find_spec("torch") is not None:
        pytest.skip("torch is installed")
    assert installed_torch() == (None, None)


def _gpu_here() -> bool:
    return any(Path("/dev").glob("nvidia[0-9]*"))


@pytest.mark.gpu
def test_real_probe_sees_a_gpu() -> None:
    """On a GPU machine the real probe reads at least one GPU and the driver through NVML."""
    if not _gpu_here():
        pytest.skip("no NVIDIA GPU here")
    profile = probe_hardware(os.environ)
    assert profile.nvml_fault is None, profile.nvml_error
    assert len(profile.gpus) >= 1
    assert profile.driver_version
    assert profile.cuda_driver_version is not None


@pytest.mark.gpu
def test_real_cuda_check_passes() -> None:
    """On a GPU machine with a CUDA torch the spawned check passes, with bf16 from compute capability 8.0."""
    if not _gpu_here() or installed_torch()[1] is None:
        pytest.skip("no NVIDIA GPU or no CUDA build of torch here")
    profile = probe_hardware(os.environ, cuda_check=True, cuda_timeout=180)
    check = profile.cuda_check
    assert check.ran and check.ok, check
    assert (check.device_count or 0) >= 1
    if all(g.compute_capability is not None and g.compute_capability >= (8, 0) for g in profile.gpus):
        assert check.bf16 is True
    assert diagnose(profile, require_gpu=True).cuda_usable
