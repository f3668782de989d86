# syntax=docker/dockerfile:1
# The action's image: Python, the locked packages and mle-ci. VARIANT=cuda (the default) has PyPI's CUDA build of
# torch, whose CUDA libraries come as wheels (the host's NVIDIA driver is all it needs); VARIANT=cpu has torch's
# CPU wheel and no CUDA at all, for `gpus: none`. Every Python package is pinned with its hashes in
# requirements/image-<variant>.txt (`make lock`), torch at the tested version; nothing is downloaded when a
# container starts. Run it with `docker run --init` (the action's launcher does): tini reaps orphans and forwards
# signals.
FROM python:3.11.13-slim-bookworm@sha256:86adf8dbadc3d6e82ee5dd2c74bec2e1c2467cdad47886280501df722372d2e1

ARG VARIANT=cuda
# torch's CPU wheels are on PyTorch's own index, not PyPI; the lock's hashes decide which file is accepted.
ARG TORCH_CPU_INDEX=https://download.pytorch.org/whl/cpu

LABEL org.opencontainers.image.title="mle-gpu-agent" \
      org.opencontainers.image.description="Run ML-engineering agents and training jobs in CI on GPU runners" \
      org.opencontainers.image.licenses="MIT"

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HOME=/home/mleci

WORKDIR /opt/mle-gpu-agent

# The locked packages first, in a layer of their own that a change to the package's code does not rebuild.
COPY requirements/image-${VARIANT}.txt /opt/mle-gpu-agent/requirements.txt
RUN if [ "$VARIANT" = cpu ]; then export PIP_EXTRA_INDEX_URL="$TORCH_CPU_INDEX"; fi \
    && pip install --no-cache-dir --require-hashes -r /opt/mle-gpu-agent/requirements.txt

# Then the package alone: its dependencies are all in the lock (pip check fails the build otherwise), and its
# build backend too, so nothing unpinned is fetched to build it.
COPY pyproject.toml README.md LICENSE entrypoint.py ./
COPY mle_ci ./mle_ci
RUN pip install --no-cache-dir --no-deps --no-build-isolation /opt/mle-gpu-agent \
    && pip check \
    && python -c "import torch, anthropic, mle_ci.action.entrypoint; print('torch', torch.__version__)" \
    && useradd --uid 1001 --create-home --home-dir /home/mleci --shell /bin/bash mleci \
    && chmod 1777 /home/mleci

# UID 1001 is the `runner` user of GitHub-hosted runners, so a job container writes the workspace as its owner.
# The action's launcher overrides it with the runner's own UID:GID (`--user`); HOME is writable for any UID.
USER 1001
ENTRYPOINT ["python", "/opt/mle-gpu-agent/entrypoint.py"]
