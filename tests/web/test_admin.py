"""The admin registrations: pages open, and the timeline cannot be edited there."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from civicloop.core.accounts.models import ApiKey, PersonalDataAccess, SmsCode, User
from civicloop.core.areas.models import Area
from civicloop.core.cases.models import Case
from civicloop.core.units.models import AreaGrant, Unit

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "model", [Area, Unit, AreaGrant, User, SmsCode, ApiKey, PersonalDataAccess, Case]
)
def test_changelist_opens(login_as, model):
    client = login_as("admin")
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    assert client.get(url).status_code == 200


@pytest.mark.needs_modules("opinions")
def test_case_change_page_has_read_only_timeline(login_as, new_opinion, rf):
    case = new_opinion(steps=("accept",))
    client = login_as("admin")
    response = client.get(reverse("admin:cases_case_change", args=[case.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "13912345678" not in html  # contact is not shown in the admin
    case_admin = admin.site._registry[Case]
    request = rf.get("/")
    request.user = User.objects.get(username="admin")
    for inline in case_admin.get_inline_instances(request, case):
        assert not inline.has_add_permission(request, case)
        assert not inline.has_change_permission(request, case)
        assert not inline.has_delete_permission(request, case)


def test_user_list_shows_masked_names(login_as):
    html = login_as("admin").get(reverse("admin:accounts_user_changelist")).content.decode()
    assert "138****0005" in html
    assert "13800000005" not in html


def test_api_keys_cannot_be_added(login_as):
    response = login_as("admin").get(reverse("admin:accounts_apikey_add"))
    assert response.status_code == 403
