"""The baseline agent: k-fold PyTorch training (MLP or small CNN) on an MLE-bench-layout competition folder.

Run as ``python -m mle_ci.agents.baseline``; it reads the environment once (:mod:`.options`), infers the task
(:mod:`.task`), encodes the data (:mod:`.data`), trains fold by fold (:mod:`.train`, :mod:`.models`) within the
time budget (:mod:`.deadline`) and keeps a valid ``submission.csv`` on disk all along (:mod:`.submission`). It
imports nothing of the harness but :mod:`mle_ci.progress`.
"""
