"""Production settings with stand-in secrets, used only by `make test` to run
`manage.py check --deploy` against exactly the production configuration (with every
module CIVICLOOP_MODULES enables, and the stand-ins each of them requires)."""

import os

from civicloop.config import modules
from civicloop.config.env import env

os.environ.setdefault("SECRET_KEY", "check-deploy-" + "x" * 50)
os.environ.setdefault("FIELD_ENCRYPTION_KEY", "q2dMUSOnWXDYr4FlSmO8ykf9g5VoE2nN7m8T8uqQYr0=")
os.environ.setdefault("ALLOWED_HOSTS", "civicloop.example.gov.cn")
os.environ.setdefault("SITE_URL", "https://civicloop.example.gov.cn")
os.environ.setdefault("CACHE_URL", "redis://127.0.0.1:6379/1")
for _spec in modules.enabled_specs(env.list("CIVICLOOP_MODULES", default=[])):
    for _setting in _spec.settings:
        if _setting.required_in_production:
            os.environ.setdefault(_setting.name, "check-deploy-stand-in")

from civicloop.config.production import *  # noqa: E402, F403
