"""Production settings: everything secret or site-specific must come from the environment.

Start-up stops with a message naming the missing variable (`MissingSetting`).
"""

from civicloop.config.env import env, require
from civicloop.config.settings import *  # noqa: F403
from civicloop.config.settings import DEV_SECRET_KEY

DEBUG = False
SECRET_KEY = require("SECRET_KEY")
if SECRET_KEY == DEV_SECRET_KEY:
    raise RuntimeError("SECRET_KEY must not be the development key in production.")
FIELD_ENCRYPTION_KEYS = require("FIELD_ENCRYPTION_KEY").split(",")
ALLOWED_HOSTS = require("ALLOWED_HOSTS").split(",")
SITE_URL = require("SITE_URL").rstrip("/")

SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
