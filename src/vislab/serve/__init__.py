"""`vislab serve`: the course's models in a small local web lab (FastAPI + uvicorn).

Routes call the task packages' functions; this package holds only the web side: bounded work
(`jobs`), checked uploads (`uploads`), what the runs folder holds (`catalog`), pictures for
the page (`pictures`) and the page itself (`static/`).
"""

from vislab.serve.app import create_app
from vislab.serve.lab import Lab
from vislab.serve.server import serve

__all__ = ["Lab", "create_app", "serve"]
