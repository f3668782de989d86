"""The stages of ``mle-ci run``, one module each, run in this order by :mod:`mle_ci.pipeline`::

    check ──▶ plan ──▶ supervise ──▶ judge ──▶ publish
      │         │          │            │          │
      │         │          │            │          └ publish: result.json, summary, JUnit, GitHub (publish, record)
      │         │          │            └ judge: status, gates, the submission's verdict (judge)
      │         │          └ supervise: the child to its end; output, events, GPUs, runner files watched
      │         │            (supervise, outputwatch, clock, gpuwatch)
      │         └ plan: competition, result folder, the child's argv, environment and budget (plan)
      └ check: refuse what cannot run; the GPU preflight (check, preflight)

Where the run speaks, opened before the child starts, is :mod:`mle_ci.stages.outlets`. The renderers the stages
use live in :mod:`mle_ci.report`; the process supervision itself in :mod:`mle_ci.supervisor`.
"""
