"""Provider sandbox: a local stand-in for NOWPayments and Coinbase Commerce.

`create_app(settings)` builds the FastAPI app; `run()` serves it; `python -m bwai_sandbox`
does the same from the command line.
"""

from bwai_sandbox.app import create_app, run
from bwai_sandbox.settings import SandboxSettings

__all__ = ["SandboxSettings", "create_app", "run"]
