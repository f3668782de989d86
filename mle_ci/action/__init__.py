"""The GitHub Action's two halves: the host-side ``docker run`` launcher and the container's entry point.

``imageref``, ``dockerrun`` and ``launch`` run on the runner host with its plain ``python3``: standard library only.
``entrypoint`` runs inside the image and is the same pipeline as ``mle-ci run``.
"""
