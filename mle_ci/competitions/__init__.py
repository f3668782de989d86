"""Competitions in MLE-bench's prepared layout: embedded demos, discovery, validation and grading.

Modules, imported one way (left ← right): ``model`` ← ``metrics``, ``csvtable``, ``png`` ← ``validate`` ←
``grade``; ``cache``, ``references`` ← ``demos`` ← ``registry``. The commands ``competitions``, ``validate`` and
``grade`` are in :mod:`mle_ci.commands`.
"""

# Nothing is imported here on purpose: mle_ci.result imports mle_ci.competitions.model on every run, and the
# demos pull in numpy and scikit-learn. Import from the submodules (``registry``, ``validate``, ``grade``...).
