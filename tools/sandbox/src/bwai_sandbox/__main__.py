"""`python -m bwai_sandbox` serves the sandbox on BWAI_SANDBOX_HOST:BWAI_SANDBOX_PORT."""

from bwai_sandbox.app import run

if __name__ == "__main__":
    run()
