"""Production settings: everything secret or site-specific must come from the environment.

Start-up stops with a message naming the missing variable (`MissingSetting`).
"""

import os

from civicloop.config.env import env, require
from civicloop.config.settings import *  # noqa: F403
from civicloop.config.settings import DEV_SECRET_KEY, _enabled_modules
from civicloop.core.registry import UNSET

DEBUG = False
SECRET_KEY = require("SECRET_KEY")
if SECRET_KEY == DEV_SECRET_KEY:
    raise RuntimeError("SECRET_KEY must not be the development key in production.")
FIELD_ENCRYPTION_KEYS = require("FIELD_ENCRYPTION_KEY").split(",")
ALLOWED_HOSTS = require("ALLOWED_HOSTS").split(",")
SITE_URL = require("SITE_URL").rstrip("/")
# Several web processes share one cache: rate limits, sign-in locks and the version that
# tells every process an application or workflow definition changed (core.forms.sources).
# A per-process memory cache would let each process count and see on its own.
CACHES = {"default": env.cache_url_config(require("CACHE_URL"))}
if "locmem" in CACHES["default"]["BACKEND"] or "dummy" in CACHES["default"]["BACKEND"]:
    raise RuntimeError("CACHE_URL must name a shared cache (Redis) in production.")

SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True

# The enabled modules' settings: their secrets are required, their demo stand-ins are
# off, and values production does not accept stop start-up.
for _spec in _enabled_modules:
    for _setting in _spec.settings:
        if _setting.production_default is not UNSET and _setting.name not in os.environ:
            globals()[_setting.name] = _setting.production_default
        if _setting.required_in_production:
            globals()[_setting.name] = require(_setting.name)
        if _setting.production_value is not UNSET:
            globals()[_setting.name] = _setting.production_value
        if _setting.production_choices and globals()[_setting.name] not in (
            _setting.production_choices
        ):
            allowed = " or ".join(repr(v) for v in _setting.production_choices)
            raise RuntimeError(f"{_setting.name} must be {allowed} in production.")
