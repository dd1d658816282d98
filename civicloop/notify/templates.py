"""Our SMS templates: name -> (Aliyun template code, Chinese text with ${param} placeholders).

Every template text here must match, character for character, the text approved in the
Aliyun console under the template code, because Aliyun renders the text itself from the code
and the TemplateParam JSON; we render locally only for the console backend, for logs and to
check lengths before paying for a send.

Limits we enforce (see `check`):

* Each variable value is at most 35 characters, Aliyun's limit for ordinary variables.
  Exception: `summary` may be up to 100 characters: it is the closing remark of a case,
  declared as an "其他" variable when the template is filed with Aliyun, which is what
  allows the longer value; keep any new long variable in `LONG_PARAMS` only after it has
  been filed that way.
* Links: Aliyun accepts a link in a template only with a fixed prefix filed with the
  template (our own domain). A text holds it as `{link_prefix}`, replaced by the
  deployment's `SMS_LINK_PREFIX` (its approved template carries its own domain), and the
  variable part is only the token after it. A text may also hold `{site}`, replaced by the
  deployment's SITE_URL (filed with the template as its fixed link domain), followed by a
  fixed path and a token variable: `{site}/studios/t/${token}/`.
* The whole text as the phone shows it, 【sign】 included, is at most 500 characters.
* Texts over 70 characters are delivered and billed as several parts of 67 characters
  (`sms_parts`); that is allowed, but it costs money, so keep templates short.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

PARAM_LIMIT = 35
LONG_PARAM_LIMIT = 100
LONG_PARAMS = frozenset({"summary"})
TOTAL_LIMIT = 500
SINGLE_PART_LIMIT = 70
MULTI_PART_SIZE = 67

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
# `{site}` (the deployment's SITE_URL), not the `${site}` variable some templates have.
_SITE = re.compile(r"(?<!\$)\{site\}")


@dataclass(frozen=True)
class SmsTemplate:
    """One approved template: the Aliyun code and the exact approved text; `sign_setting`
    names the setting that holds the SMS sign it is filed under, when that is not the
    deployment's own (ALIYUN_SMS_SIGN_NAME): a module's messages go out under its
    service's sign (e.g. the fire service's for 生命通道)."""

    code: str
    text: str
    sign_setting: str = ""

    @property
    def params(self) -> frozenset[str]:
        """The placeholder names the text uses."""
        return frozenset(_PLACEHOLDER.findall(self.text))


# The codes are the ones Aliyun assigns when a template is approved; replace a code here when a
# template is re-filed (a changed text always gets a new code). These are the generic loop's;
# a module adds its own in its ModuleSpec (`sms_templates`), registered with
# `template_register`.
TEMPLATES: dict[str, SmsTemplate] = {
    "verify_code": SmsTemplate(
        code="SMS_490001001",
        text="您的验证码为${code}，5分钟内有效，请勿泄露。",
    ),
    "case_received": SmsTemplate(
        code="SMS_490001002",
        text="您反映的问题已受理，编号${number}，可凭编号和手机号查询进度。",
    ),
    "case_dispatched": SmsTemplate(
        code="SMS_490001003",
        text="您反映的问题（编号${number}）已转交${department}办理，请耐心等待。",
    ),
    "case_result": SmsTemplate(
        code="SMS_490001004",
        text="您反映的问题（编号${number}）已办结：${summary}",
    ),
}


def template_register(name: str, template: SmsTemplate) -> None:
    """Add a module's template; the same name with another template is refused."""
    existing = TEMPLATES.get(name)
    if existing is not None and existing != template:
        raise ValueError(f"SMS template {name!r} registered twice with different texts")
    TEMPLATES[name] = template


def get_template(name: str) -> SmsTemplate:
    """Return the template registered under `name`, with this deployment's link prefix;
    ValueError if there is none."""
    try:
        template = TEMPLATES[name]
    except KeyError:
        raise ValueError(f"unknown SMS template {name!r}") from None
    if "{link_prefix}" in template.text or _SITE.search(template.text):
        from django.conf import settings

        text = template.text.replace("{link_prefix}", getattr(settings, "SMS_LINK_PREFIX", ""))
        text = _SITE.sub(lambda _match: getattr(settings, "SITE_URL", ""), text)
        return dataclasses.replace(template, text=text)
    return template


def param_limit(param: str) -> int:
    """The maximum length, in characters, of the value of variable `param`."""
    return LONG_PARAM_LIMIT if param in LONG_PARAMS else PARAM_LIMIT


def normalize_params(name: str, params: Mapping[str, Any]) -> dict[str, str]:
    """Return the params as strings, exactly the set the template needs.

    Raises ValueError when a param is missing, unexpected, empty, or too long. Aliyun wants
    every TemplateParam value as a string, so numbers are converted here once.
    """
    template = get_template(name)
    given = set(params)
    missing = template.params - given
    if missing:
        raise ValueError(f"SMS template {name!r} is missing params: {sorted(missing)}")
    extra = given - template.params
    if extra:
        # An unused param is almost always a typo for a missing one; refuse it loudly.
        raise ValueError(f"SMS template {name!r} does not use params: {sorted(extra)}")
    values: dict[str, str] = {}
    for key in sorted(template.params):
        value = params[key]
        if value is None or isinstance(value, (dict, list, tuple, set)):
            raise ValueError(f"SMS param {key!r} must be a string or a number")
        text = str(value)
        if not text.strip():
            raise ValueError(f"SMS param {key!r} is empty")
        if len(text) > param_limit(key):
            raise ValueError(
                f"SMS param {key!r} is {len(text)} characters, over the {param_limit(key)} limit"
            )
        values[key] = text
    return values


def render(name: str, params: Mapping[str, Any]) -> str:
    """Render template `name` with `params`, without the 【sign】.

    Guarantees the result is what Aliyun will show after the sign: the params are checked
    by `normalize_params` (ValueError on a missing, extra or too long param).
    """
    template = get_template(name)
    values = normalize_params(name, params)
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], template.text)


def with_sign(text: str, sign_name: str) -> str:
    """The text as the phone shows it: 【sign】 followed by the body."""
    return f"【{sign_name}】{text}"


def sms_parts(text: str) -> int:
    """How many billed parts Aliyun splits `text` (sign included) into.

    Up to 70 characters is one part; longer texts are sent as a long SMS whose parts carry
    67 characters each, every part billed as one message.
    """
    if len(text) <= SINGLE_PART_LIMIT:
        return 1
    return math.ceil(len(text) / MULTI_PART_SIZE)


def check(name: str, params: Mapping[str, Any], sign_name: str) -> str:
    """Render and check `name` fully; return the text with its sign.

    Raises ValueError when a param is missing or too long, or when the signed text is over
    the 500-character limit. Guarantees a returned text is one Aliyun will accept by length.
    """
    full = with_sign(render(name, params), sign_name)
    if len(full) > TOTAL_LIMIT:
        raise ValueError(
            f"SMS {name!r} is {len(full)} characters with its sign, over the {TOTAL_LIMIT} limit"
        )
    return full
