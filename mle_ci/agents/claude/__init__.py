"""The claude agent: an Anthropic tool-use agent that engineers a solution on the given hardware within the budget.

Run as ``python -m mle_ci.agents.claude``. It reads the environment once (:mod:`.config`), tells the model the
competition, hardware and budget (:mod:`.prompt`), and runs the tool-use conversation (:mod:`.loop`) through the
one module that talks to the SDK (:mod:`.api`). Tools (:mod:`.tools`) run shell commands and background jobs
(:mod:`.jobs`) confined to the workspace (:mod:`.workspace`, walked race-free by :mod:`.confined`; pages read by
:mod:`.paging`; the submission checked by :mod:`.validation`); every result reaching the model and every exchange
appended to ``transcript.jsonl`` has its secrets redacted (:mod:`.transcript`); usage is priced (:mod:`.prices`).
When it ends without a valid submission, the baseline agent runs for the time left (:mod:`.fallback`). Like the
baseline it imports nothing of the harness but :mod:`mle_ci.progress` and the event log.
"""
