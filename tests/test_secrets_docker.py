"""The container boundary: whatever the action's inputs hold, the ``docker run`` line the action builds gives the
container no secret on its command line, no Docker socket, no extra privilege, and no option an input chose."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_action_dockerrun import RELAY, SECRET, runner_env

from mle_ci.action.dockerrun import plan_invocation
from mle_ci.errors import ConfigError

# What would hand the container the host: the Docker socket, privileges, the host's namespaces.
FORBIDDEN = ("docker.sock", "--privileged", "--cap-add", "--pid", "--network", "--ipc", "--security-opt", "--device")
HOSTILE = st.one_of(
    st.text(max_size=60),
    st.sampled_from(
        [
            "--privileged",
            "-v /var/run/docker.sock:/var/run/docker.sock",
            "--mount=type=bind,source=/var/run/docker.sock,target=/s",
            "all --privileged",
            "x; docker run --privileged alpine",
            "$(cat /etc/shadow)",
            "--network=host",
            SECRET,
        ]
    ),
)
INPUTS = st.sampled_from(["INPUT_COMMAND", "INPUT_COMPETITION", "INPUT_MODEL", "INPUT_TIMEOUT-MINUTES", "INPUT_AGENT"])


def _run_line(**inputs: str) -> tuple[str, ...]:
    env = runner_env(**inputs)
    return plan_invocation(
        env, action_path=env["GITHUB_ACTION_PATH"], user="1001:118", cidfile="/t/x.cid", relay=RELAY
    ).run


@settings(max_examples=300)
@given(values=st.dictionaries(INPUTS, HOSTILE, max_size=4))
def test_no_input_value_reaches_the_docker_command_line(values: dict[str, str]) -> None:
    """Inputs travel by name (``--env NAME``); no value, secret or option text of theirs is an argument."""
    argv = _run_line(**values)
    assert argv == _run_line(**{name: value and "x" for name, value in values.items()})  # values change nothing
    assert not any(SECRET in word for word in argv)
    assert not any(word.startswith(FORBIDDEN) or "docker.sock" in word for word in argv)


@settings(max_examples=200)
@given(gpus=HOSTILE)
def test_the_gpus_input_gives_a_gpus_option_or_a_usage_error(gpus: str) -> None:
    """The one input that shapes the command line: a valid value is one ``--gpus`` option, anything else exit 2."""
    try:
        argv = _run_line(INPUT_GPUS=gpus)
    except ConfigError:
        return
    assert not any(word.startswith(FORBIDDEN) for word in argv)
    without = _run_line(INPUT_GPUS="none")
    extra = set(argv[:-1]) - set(without[:-1])
    assert extra <= {"--gpus", *(w for w in argv if w == "all" or w.isdigit() or w.startswith('"device='))}
    assert argv[-1] in (without[-1], without[-1].removesuffix("-cpu"))  # the image: its CPU variant or not


@pytest.mark.parametrize("gpus", ["²", "٣", "0,٣", "１"])
def test_digits_that_are_not_ascii_are_a_usage_error(gpus: str) -> None:
    """'²' or an Arabic-Indic '٣' pass ``isdigit()`` or ``\\d`` but are no GPU docker knows: exit 2, not a crash."""
    with pytest.raises(ConfigError):
        _run_line(INPUT_GPUS=gpus)


@pytest.mark.parametrize("image", ["--privileged", "-v=/var/run/docker.sock:/s", "--network=host"])
def test_an_image_input_that_docker_would_read_as_an_option_is_refused(image: str) -> None:
    """The image is the run line's last word: one beginning with '-' would be parsed as an option."""
    with pytest.raises(ConfigError):
        _run_line(INPUT_IMAGE=image)
