# syntax=docker/dockerfile:1
# The action's image: the CUDA PyTorch runtime plus mle-ci. torch, CUDA and cuDNN come from the base image and
# are never reinstalled; nothing is downloaded when a container starts.
# Run it with `docker run --init` (the action's launcher does): tini reaps orphans and forwards signals.
FROM pytorch/pytorch:2.8.0-cuda12.8-cudnn9-runtime@sha256:417bd75df6365104c283ea4c1651fb3530d9eb5a4c2fafa51943cff2a94e6385

LABEL org.opencontainers.image.title="mle-gpu-agent" \
      org.opencontainers.image.description="Run ML-engineering agents and training jobs in CI on GPU runners" \
      org.opencontainers.image.licenses="MIT"

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HOME=/home/mleci

WORKDIR /opt/mle-gpu-agent
COPY pyproject.toml README.md entrypoint.py ./
COPY mle_ci ./mle_ci

# The package with the claude agent's SDK; torch is only in the optional [agents] extra, so the base image's CUDA
# build stays. Then prove the install imports, and fail the build if it replaced torch.
RUN python -c "import torch; open('/tmp/torch-version', 'w').write(torch.__version__)" \
    && pip install --no-cache-dir '/opt/mle-gpu-agent[claude]' \
    && python -c "import torch, mle_ci.action.entrypoint; assert torch.__version__ == open('/tmp/torch-version').read(), 'torch was replaced'" \
    && rm /tmp/torch-version \
    && useradd --uid 1001 --create-home --home-dir /home/mleci --shell /bin/bash mleci \
    && chmod 1777 /home/mleci

# UID 1001 is the `runner` user of GitHub-hosted runners, so a job container writes the workspace as its owner.
# The action's launcher overrides it with the runner's own UID:GID (`--user`); HOME is writable for any UID.
USER 1001
ENTRYPOINT ["python", "/opt/mle-gpu-agent/entrypoint.py"]
