"""One module per ``mle-ci`` command, each holding that command's click options and its body.

:mod:`mle_ci.cli` only wires them: it imports a command's module when that command is called, so ``mle-ci
--version`` and ``mle-ci run`` load only what they use. :mod:`.options` holds what several commands share.
"""
