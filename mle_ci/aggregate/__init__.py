"""``mle-ci aggregate``: matrix runs (competitions × seeds) merged into one leaderboard, JUnit and JSON.

:mod:`.model` computes (pure), :mod:`.render` writes text (pure), :mod:`.collect` finds and reads result
folders; :mod:`mle_ci.commands.aggregate` ties them together and publishes to GitHub.
"""
