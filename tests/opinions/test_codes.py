"""The two codes: issue, revoke, reissue, resolve, receiver; PNG/SVG drawing."""

from __future__ import annotations

import io

import pytest
import zxingcpp
from django.test import Client
from PIL import Image

from civicloop.opinions.codes import (
    code_issue,
    code_png,
    code_receiver,
    code_reissue,
    code_resolve,
    code_revoke,
    code_svg,
    code_url,
)
from civicloop.opinions.errors import OpinionError
from civicloop.opinions.models import Code, Deputy, Station

pytestmark = pytest.mark.django_db

SITE = "https://my.wenling.example.cn"


def decode_png(data: bytes) -> str:
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(data)))
    assert len(results) == 1, "exactly one QR code expected"
    assert results[0].format == zxingcpp.BarcodeFormat.QRCode
    return results[0].text


@pytest.fixture
def wang(demo_city: None) -> Deputy:
    return Deputy.objects.select_related("station__unit", "user").get(user__username="deputy_wang")


def test_code_url_uses_site_url(settings, wang: Deputy) -> None:
    settings.SITE_URL = SITE
    code = code_issue(deputy=wang)
    assert code_url(code) == f"{SITE}/q/{code.slug}/"


def test_png_decodes_to_the_code_url_with_error_correction_m_or_better(
    settings, wang: Deputy
) -> None:
    settings.SITE_URL = SITE
    code = code_issue(deputy=wang)
    assert decode_png(code_png(code)) == f"{SITE}/q/{code.slug}/"
    result = zxingcpp.read_barcodes(Image.open(io.BytesIO(code_png(code, scale=3))))[0]
    assert result.ec_level in ("M", "Q", "H")


def test_svg_is_a_standalone_svg_of_the_same_code(wang: Deputy) -> None:
    code = code_issue(deputy=wang)
    svg = code_svg(code)
    assert svg.startswith("<?xml")
    assert "<svg" in svg and "</svg>" in svg
    assert code_url(code) in svg  # in its <title>


def test_issue_is_idempotent(wang: Deputy) -> None:
    first = code_issue(deputy=wang)
    assert code_issue(deputy=wang) == first
    assert wang.codes.filter(revoked_at__isnull=True).count() == 1


def test_issue_needs_exactly_one_holder(wang: Deputy) -> None:
    with pytest.raises(ValueError):
        code_issue()
    with pytest.raises(ValueError):
        code_issue(deputy=wang, station=wang.station)


def test_active_deputy_code_leads_to_the_deputy_and_reaches_him(wang: Deputy) -> None:
    code = code_issue(deputy=wang)
    target = code_resolve(code.slug)
    assert target.deputy == wang
    assert target.path == f"/deputies/{wang.pk}/"
    unit, user = code_receiver(code.slug)
    assert unit == wang.station.unit
    assert user == wang.user


def test_revoked_deputy_code_leads_to_the_station_and_reaches_the_station(wang: Deputy) -> None:
    code = code_issue(deputy=wang)
    code_revoke(code=code, reason="代表换届")
    code.refresh_from_db()
    assert code.revoked_at is not None
    assert code.revoked_reason == "代表换届"
    target = code_resolve(code.slug)
    assert target.deputy is None
    assert target.path == f"/stations/{wang.station_id}/"
    assert code_receiver(code.slug) == (wang.station.unit, None)


def test_revoke_needs_a_reason_and_is_idempotent(wang: Deputy) -> None:
    code = code_issue(deputy=wang)
    with pytest.raises(OpinionError):
        code_revoke(code=code, reason="  ")
    code_revoke(code=code, reason="遗失")
    first = Code.objects.get(pk=code.pk).revoked_at
    code_revoke(code=code, reason="再次")
    again = Code.objects.get(pk=code.pk)
    assert again.revoked_at == first
    assert again.revoked_reason == "遗失"


def test_code_of_a_deputy_who_left_office_reaches_the_station(wang: Deputy) -> None:
    code = code_issue(deputy=wang)
    Deputy.objects.filter(pk=wang.pk).update(is_active=False)
    assert code_receiver(code.slug) == (wang.station.unit, None)
    assert code_resolve(code.slug).path == f"/stations/{wang.station_id}/"


def test_reissue_gives_a_new_slug_and_the_old_poster_still_resolves(wang: Deputy) -> None:
    old = code_issue(deputy=wang)
    new = code_reissue(code=old, reason="海报被涂改")
    assert new.slug != old.slug
    assert new.revoked_at is None and new.deputy == wang
    old.refresh_from_db()
    assert old.revoked_at is not None
    assert code_resolve(new.slug).deputy == wang
    client = Client()
    response = client.get(f"/q/{old.slug}/")
    assert response.status_code == 302
    assert response["Location"] == f"/stations/{wang.station_id}/"
    response = client.get(f"/q/{new.slug}/")
    assert response["Location"] == f"/deputies/{wang.pk}/"


def test_station_code_resolves_to_the_station_even_after_reissue(demo_city: None) -> None:
    station = Station.objects.select_related("unit").first()
    assert station is not None
    old = code_issue(station=station)
    new = code_reissue(code=old, reason="更换海报")
    for slug in (old.slug, new.slug):
        assert code_resolve(slug).path == f"/stations/{station.pk}/"
        assert code_receiver(slug) == (station.unit, None)


def test_unknown_slug_is_not_found(demo_city: None) -> None:
    with pytest.raises(Code.DoesNotExist):
        code_resolve("nosuchslug")
    with pytest.raises(Code.DoesNotExist):
        code_receiver("nosuchslug")
    client = Client()
    assert client.get("/q/nosuchslug/").status_code == 404
    assert client.get("/codes/nosuchslug.png").status_code == 404


def test_admin_lists_and_reissues_codes_without_showing_phones(admin_client, wang: Deputy) -> None:
    old = code_issue(deputy=wang)
    response = admin_client.get("/admin/opinions/deputy/")
    assert response.status_code == 200
    assert wang.name in response.content.decode()
    assert wang.phone not in response.content.decode()
    assert admin_client.get(f"/admin/opinions/deputy/{wang.pk}/change/").status_code == 200
    assert admin_client.get(f"/admin/opinions/station/{wang.station_id}/change/").status_code == 200
    assert admin_client.get("/admin/opinions/code/").status_code == 200
    response = admin_client.post(
        "/admin/opinions/code/",
        {"action": "reissue", "_selected_action": [str(old.pk)]},
        follow=True,
    )
    assert response.status_code == 200
    old.refresh_from_db()
    assert old.revoked_at is not None
    new = wang.codes.get(revoked_at__isnull=True)
    assert new.slug != old.slug
    admin_client.post(
        "/admin/opinions/code/", {"action": "revoke", "_selected_action": [str(new.pk)]}
    )
    assert not wang.codes.filter(revoked_at__isnull=True).exists()
    assert code_resolve(new.slug).deputy is None
