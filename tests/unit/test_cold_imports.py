"""What a handler's cold start loads: heavy libraries only where a request needs them."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def loaded_modules(handler: str) -> set[str]:
    """The modules a fresh interpreter holds after importing `handler`, as Lambda's would."""
    function = handler.removesuffix("_handler")
    path = f"{ROOT / 'layers/common'}:{ROOT / 'functions' / function}"
    listing = subprocess.run(
        [sys.executable, "-c", f"import sys, {handler}; print(*sys.modules, sep='\\n')"],
        capture_output=True, text=True, check=True,
        env={"PYTHONPATH": path, "AWS_DEFAULT_REGION": "us-east-1", "PATH": "/usr/bin:/bin"},
    ).stdout
    return set(listing.split())


@pytest.mark.parametrize("handler", ["authorize_handler", "token_handler", "admin_handler"])
def test_no_handler_loads_pydantic_at_cold_start(handler):
    # Only the admin API's writes validate with pydantic; it loads on the first of them.
    modules = loaded_modules(handler)
    assert handler in modules
    assert not {m for m in modules if m.split(".")[0] == "pydantic"}
