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

# Payments: the real provider only; its keys come from the environment.
PAYMENT_PROVIDER = env.str("PAYMENT_PROVIDER", default="alipay")
if PAYMENT_PROVIDER != "alipay":
    raise RuntimeError("PAYMENT_PROVIDER must be 'alipay' in production.")
ALIPAY_APP_ID = require("ALIPAY_APP_ID")
ALIPAY_APP_PRIVATE_KEY = require("ALIPAY_APP_PRIVATE_KEY")
ALIPAY_PUBLIC_KEY = require("ALIPAY_PUBLIC_KEY")
# The demo's stand-ins never run in production.
FIRELANE_SIMULATOR = False
PAYMENT_FAKE_SERVE = False
