"""Every deployment value comes from the environment, read here and nowhere else.

`.env.example` lists each variable with a comment. Development gets working defaults;
`civicloop.config.production` refuses to start without the secrets.
"""

from __future__ import annotations

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
_env_file = BASE_DIR / ".env"
if _env_file.exists():
    environ.Env.read_env(str(_env_file))


class MissingSetting(RuntimeError):
    """A required environment variable is not set; the message names it."""


def require(name: str) -> str:
    """Return the variable or stop start-up with a message that names it."""
    value = env.str(name, default="")
    if not value:
        raise MissingSetting(
            f"Environment variable {name} is required in this configuration (see .env.example)."
        )
    return value
