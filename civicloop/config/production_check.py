"""Production settings with stand-in secrets, used only by `make test` to run
`manage.py check --deploy` against exactly the production configuration."""

import os

os.environ.setdefault("SECRET_KEY", "check-deploy-" + "x" * 50)
os.environ.setdefault("FIELD_ENCRYPTION_KEY", "q2dMUSOnWXDYr4FlSmO8ykf9g5VoE2nN7m8T8uqQYr0=")
os.environ.setdefault("ALLOWED_HOSTS", "civicloop.example.gov.cn")
os.environ.setdefault("SITE_URL", "https://civicloop.example.gov.cn")
os.environ.setdefault("ALIPAY_APP_ID", "2021000000000000")
os.environ.setdefault("ALIPAY_APP_PRIVATE_KEY", "check-deploy-stand-in")
os.environ.setdefault("ALIPAY_PUBLIC_KEY", "check-deploy-stand-in")

from civicloop.config.production import *  # noqa: F403
