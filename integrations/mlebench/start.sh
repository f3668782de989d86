#!/usr/bin/env bash
# MLE-bench start script: the claude agent under the mle-ci harness, with MLE-bench's folders and time limit.
#   GPU fail-fast (exit 3 before any API spend; REQUIRE_GPU=false to allow a CPU), a heartbeat line, the harness's
#   deadline a margin before TIME_LIMIT_SECS and `timeout` at TIME_LIMIT_SECS as the outer one (exit 124);
#   the data from /home/data, the graded file at /home/submission/submission.csv, the reports under /home/logs.
# Arguments (the config's kwargs, `--key value`) go to `mle-ci run`. MLE_CI_HOME replaces /home (tests).
set -uo pipefail

home="${MLE_CI_HOME:-/home}"
data_dir="${home}/data"
submission_dir="${SUBMISSION_DIR:-${home}/submission}"
logs_dir="${LOGS_DIR:-${home}/logs}"
agent_dir="${AGENT_DIR:-${home}/agent}"
mle_ci="${MLE_CI_COMMAND:-mle-ci}"

fail() {
  echo "start.sh: $*" >&2
  exit 2
}

[[ "${TIME_LIMIT_SECS:-}" =~ ^[1-9][0-9]*$ ]] || fail "TIME_LIMIT_SECS must be a whole number of seconds, got '${TIME_LIMIT_SECS:-}'"
[[ -n "${COMPETITION_ID:-}" ]] || fail "COMPETITION_ID is not set"
[[ "${COMPETITION_ID}" =~ ^[A-Za-z0-9._-]+$ ]] || fail "COMPETITION_ID '${COMPETITION_ID}' is not a competition id"
[[ -d "${data_dir}" ]] || fail "no competition data at ${data_dir}"

if command -v conda >/dev/null 2>&1 && [[ -z "${MLE_CI_NO_CONDA:-}" ]]; then
  eval "$(conda shell.bash hook)"
  conda activate agent
fi

# MLE-bench mounts one competition's public folder at /home/data; the harness reads <data-dir>/<id>/prepared/public.
# The start script runs as `nonroot`: the layout goes where it may write (AGENT_DIR, else a temporary folder).
mkdir -p "${submission_dir}" "${logs_dir}"
layout="${agent_dir}/competitions"
if ! mkdir -p "${layout}/${COMPETITION_ID}/prepared" 2>/dev/null; then
  layout="$(mktemp -d)/competitions"
  mkdir -p "${layout}/${COMPETITION_ID}/prepared"
fi
ln -sfn "${data_dir}" "${layout}/${COMPETITION_ID}/prepared/public"

# Keep a margin for the reports and the copy below: a tenth of the limit, at least 1 s, at most 5 minutes.
margin=$((TIME_LIMIT_SECS / 10))
((margin < 1)) && margin=1
((margin > 300)) && margin=300
budget=$((TIME_LIMIT_SECS - margin))
((budget < 1)) && budget=1
grace=$((margin / 2 > 1 ? margin / 2 : 1))

results="${logs_dir}/mle-ci"
args=(run --agent claude --competition "${COMPETITION_ID}" --data-dir "${layout}" --output-dir "${results}"
  --timeout "${budget}s" --grace "${grace}s" --heartbeat 60s --display plain)
[[ "${REQUIRE_GPU:-true}" == "false" ]] || args+=(--require-gpu)

echo "start.sh: ${COMPETITION_ID}: harness deadline ${budget}s, outer deadline ${TIME_LIMIT_SECS}s"
timeout --signal=TERM --kill-after=10 "${TIME_LIMIT_SECS}" "${mle_ci}" "${args[@]}" "$@"
code=$?

if [[ -f "${results}/submission.csv" ]]; then
  cp "${results}/submission.csv" "${submission_dir}/submission.csv"
  echo "start.sh: submission copied to ${submission_dir}/submission.csv"
else
  echo "start.sh: the run left no submission" >&2
fi
((code == 124)) && echo "start.sh: timed out after ${TIME_LIMIT_SECS}s"
exit "${code}"
