"""The CLI tests drive the same embedded platform fixture as the end-to-end tests."""

from tests.e2e.conftest import embedded, http

__all__ = ["embedded", "http"]
