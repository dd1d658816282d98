"""The lane editor (civicloop/firelane/lanes.py, views_lanes.py) and the 生命通道 admin
(civicloop/firelane/admin.py): what a lane's polygon must be, who may draw one, the
picture it is drawn on, and the admin pages."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from civicloop.core.accounts.models import User
from civicloop.firelane.admin import LaneForm
from civicloop.firelane.lanes import (
    LANE_POINTS_MAX,
    LaneError,
    LaneErrorCode,
    camera_scene_latest,
    check_lane_polygon,
    lane_delete,
    lane_save,
)
from civicloop.firelane.models import (
    Camera,
    Exemption,
    IntakeRefusal,
    Lane,
    Owner,
    RegistryImport,
    Sighting,
    Site,
    Stay,
    VehicleRecord,
)
from civicloop.firelane.tracking import lane_for
from tests.firelane.conftest import scene_bytes

pytestmark = pytest.mark.django_db

SQUARE = [[0.1, 0.5], [0.9, 0.5], [0.9, 0.95], [0.1, 0.95]]


def _user(username: str, *, staff: bool = False, perms: tuple[str, ...] = ()) -> User:
    user = User.objects.create_user(username=username, password="pw-test-123", is_staff=staff)
    for codename in perms:
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label="firelane", codename=codename)
        )
    return User.objects.get(pk=user.pk)  # fresh: no cached permissions


@pytest.fixture
def superuser(demo_city: None) -> User:
    return User.objects.get(username="admin")


@pytest.fixture
def camera(fl_camera: Camera) -> Camera:
    return fl_camera


@pytest.fixture
def other_camera(fl_site: Site) -> Camera:
    return fl_site.cameras.get(serial="DS-CY-002")


def _editor_url(camera: Camera) -> str:
    return reverse("firelane:lane_editor", kwargs={"serial": camera.serial})


# --------------------------------------------------------------------------- polygons


@pytest.mark.parametrize(
    ("polygon", "code"),
    [
        ([[0.1, 0.1], [0.9, 0.1]], LaneErrorCode.TOO_FEW),
        ([], LaneErrorCode.TOO_FEW),
        (
            [[i / 30, (i % 2) * 0.5 + 0.1] for i in range(LANE_POINTS_MAX + 1)],
            LaneErrorCode.TOO_MANY,
        ),
        ([[0.1, 0.1], [1.2, 0.1], [0.5, 0.9]], LaneErrorCode.OUT_OF_RANGE),
        ([[0.1, 0.1], [0.9, 0.1], [0.5, -0.01]], LaneErrorCode.OUT_OF_RANGE),
        ([[0.1, 0.1], ["0.9", 0.1], [0.5, 0.9]], LaneErrorCode.NOT_A_NUMBER),
        ([[0.1, 0.1], [True, 0.1], [0.5, 0.9]], LaneErrorCode.NOT_A_NUMBER),
        ([[0.1, 0.1], [None, 0.1], [0.5, 0.9]], LaneErrorCode.NOT_A_NUMBER),
        ([[0.1, 0.1], [float("nan"), 0.1], [0.5, 0.9]], LaneErrorCode.NOT_A_NUMBER),
        ([[0.1, 0.1], [0.9], [0.5, 0.9]], LaneErrorCode.NOT_A_POINT),
        ([[0.1, 0.1], [0.9, 0.1, 0.3], [0.5, 0.9]], LaneErrorCode.NOT_A_POINT),
        ([[0.1, 0.1], {"x": 0.9, "y": 0.1}, [0.5, 0.9]], LaneErrorCode.NOT_A_POINT),
        ({"points": SQUARE}, LaneErrorCode.NOT_A_LIST),
        ("not json", LaneErrorCode.NOT_A_LIST),
        ("[[0.1, 0.1], [NaN, 0.1], [0.5, 0.9]]", LaneErrorCode.NOT_A_NUMBER),
        ([[0.1, 0.1], [0.5, 0.5], [0.9, 0.9]], LaneErrorCode.TOO_SMALL),  # one straight line
        ([[0.1, 0.1], [0.9, 0.9], [0.9, 0.1], [0.1, 0.9]], LaneErrorCode.CROSSING),  # bow tie
    ],
)
def test_a_polygon_that_is_not_a_lane_is_refused_with_its_reason(
    polygon: object, code: LaneErrorCode
) -> None:
    with pytest.raises(LaneError) as refused:
        check_lane_polygon(polygon=polygon)
    assert refused.value.code == code
    assert refused.value.message  # a sentence the editor shows as it is


def test_a_good_polygon_is_kept_rounded_and_accepted_from_json_text() -> None:
    points = check_lane_polygon(polygon=json.dumps([[0, 0.35], [1, 0.35], [1, 1], [0.123456, 1]]))
    assert points == [[0.0, 0.35], [1.0, 0.35], [1.0, 1.0], [0.1235, 1.0]]
    assert all(isinstance(v, float) for p in points for v in p)


def test_the_error_names_the_point_counted_from_one() -> None:
    with pytest.raises(LaneError) as refused:
        check_lane_polygon(polygon=[[0.1, 0.1], [0.9, 0.1], [0.5, 7]])
    assert "第 3 个点" in refused.value.message


# --------------------------------------------------------------------------- lane_save


def test_a_new_lane_is_saved_and_recorded_in_the_admin_history(
    camera: Camera, superuser: User
) -> None:
    lane = lane_save(
        camera=camera, lane_id=None, name="  北侧  通道 ", polygon=SQUARE, actor=superuser
    )
    lane.refresh_from_db()
    assert lane.camera_id == camera.pk
    assert lane.name == "北侧 通道"
    assert lane.polygon == SQUARE
    entry = LogEntry.objects.get(object_id=str(lane.pk), content_type__model="lane")
    assert entry.action_flag == ADDITION and entry.user_id == superuser.pk
    assert json.loads(entry.change_message)["polygon"] == SQUARE


def test_a_changed_lane_is_where_tracking_looks_for_cars(camera: Camera, superuser: User) -> None:
    lane = camera.lanes.get()
    # A plate in the top-left corner is off the demo lane (the lower 65 % of the picture).
    box = [0.05, 0.05, 0.15, 0.1]
    assert lane_for(lanes=[lane], box=box) is None

    lane_save(
        camera=camera,
        lane_id=lane.pk,
        name=lane.name,
        polygon=[[0, 0], [0.5, 0], [0.5, 0.5], [0, 0.5]],
        actor=superuser,
    )

    assert lane_for(lanes=list(camera.lanes.all()), box=box) == lane
    assert LogEntry.objects.get(object_id=str(lane.pk)).action_flag == CHANGE


def test_another_cameras_lane_cannot_be_changed_through_this_camera(
    camera: Camera, other_camera: Camera, superuser: User
) -> None:
    theirs = other_camera.lanes.get()
    before = list(theirs.polygon)
    with pytest.raises(LaneError) as refused:
        lane_save(camera=camera, lane_id=theirs.pk, name="x", polygon=SQUARE, actor=superuser)
    assert refused.value.code == LaneErrorCode.NOT_FOUND
    theirs.refresh_from_db()
    assert theirs.polygon == before and theirs.camera_id == other_camera.pk


def test_names_must_be_given_short_and_not_repeat_on_one_camera(
    camera: Camera, superuser: User
) -> None:
    existing = camera.lanes.get()
    for name, code in [
        ("   ", LaneErrorCode.NAME_MISSING),
        ("长" * 101, LaneErrorCode.NAME_TOO_LONG),
        (existing.name, LaneErrorCode.NAME_TAKEN),
    ]:
        with pytest.raises(LaneError) as refused:
            lane_save(camera=camera, lane_id=None, name=name, polygon=SQUARE, actor=superuser)
        assert refused.value.code == code
    # Keeping its own name while changing the outline is fine.
    lane_save(
        camera=camera, lane_id=existing.pk, name=existing.name, polygon=SQUARE, actor=superuser
    )
    assert camera.lanes.count() == 1


def test_saving_needs_the_permission_to_change_lanes(camera: Camera, demo_city: None) -> None:
    plain_staff = _user("lane-staff", staff=True)
    with pytest.raises(LaneError) as refused:
        lane_save(camera=camera, lane_id=None, name="新通道", polygon=SQUARE, actor=plain_staff)
    assert refused.value.code == LaneErrorCode.FORBIDDEN
    allowed = _user("lane-editor", staff=True, perms=("change_lane",))
    assert lane_save(camera=camera, lane_id=None, name="新通道", polygon=SQUARE, actor=allowed).pk


def test_a_lane_with_stays_is_kept_and_one_without_is_deleted(
    camera: Camera, superuser: User, make_sighting: Callable[..., Any], t0: Any
) -> None:
    from civicloop.firelane.tracking import stay_merge

    tracked = camera.lanes.get()
    stay_merge(sighting=make_sighting("浙J12345", t0))
    assert Stay.objects.filter(lane=tracked).exists()
    with pytest.raises(LaneError) as refused:
        lane_delete(camera=camera, lane_id=tracked.pk, actor=superuser)
    assert refused.value.code == LaneErrorCode.IN_USE
    assert Lane.objects.filter(pk=tracked.pk).exists()

    spare = lane_save(camera=camera, lane_id=None, name="备用", polygon=SQUARE, actor=superuser)
    lane_delete(camera=camera, lane_id=spare.pk, actor=superuser)
    assert not Lane.objects.filter(pk=spare.pk).exists()


def test_deleting_needs_the_delete_permission_too(camera: Camera, superuser: User) -> None:
    spare = lane_save(camera=camera, lane_id=None, name="备用", polygon=SQUARE, actor=superuser)
    editor = _user("lane-editor", staff=True, perms=("change_lane",))
    with pytest.raises(LaneError) as refused:
        lane_delete(camera=camera, lane_id=spare.pk, actor=editor)
    assert refused.value.code == LaneErrorCode.FORBIDDEN
    deleter = _user("lane-deleter", staff=True, perms=("change_lane", "delete_lane"))
    lane_delete(camera=camera, lane_id=spare.pk, actor=deleter)
    assert not Lane.objects.filter(pk=spare.pk).exists()


# --------------------------------------------------------------------------- who may open the editor


def test_anonymous_users_are_sent_to_the_login(client: Client, camera: Camera) -> None:
    response = client.get(_editor_url(camera))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login"))


@pytest.mark.parametrize(
    ("staff", "perms"),
    [(False, ()), (False, ("change_lane",)), (True, ()), (True, ("view_lane", "add_lane"))],
)
def test_only_staff_with_the_lane_permission_get_in(
    client: Client, camera: Camera, staff: bool, perms: tuple[str, ...]
) -> None:
    client.force_login(_user("someone", staff=staff, perms=perms))
    assert client.get(_editor_url(camera)).status_code == 403
    assert client.post(_editor_url(camera), {"name": "x", "polygon": "[]"}).status_code == 403


def test_staff_with_the_permission_and_superusers_get_in(
    client: Client, camera: Camera, superuser: User
) -> None:
    client.force_login(_user("lane-editor", staff=True, perms=("change_lane",)))
    response = client.get(_editor_url(camera))
    assert response.status_code == 200
    assert "确认删除" not in response.content.decode()  # no delete permission, no button
    client.force_login(superuser)
    response = client.get(_editor_url(camera))
    assert response.status_code == 200
    assert "确认删除" in response.content.decode()


def test_an_unknown_camera_is_404(client: Client, superuser: User) -> None:
    client.force_login(superuser)
    url = reverse("firelane:lane_editor", kwargs={"serial": "NO-SUCH-CAM"})
    assert client.get(url).status_code == 404


# --------------------------------------------------------------------------- the page and the picture


def test_without_a_picture_the_page_shows_a_placeholder_of_the_cameras_shape(
    client: Client, camera: Camera, superuser: User
) -> None:
    Camera.objects.filter(pk=camera.pk).update(image_width=1280, image_height=720)
    client.force_login(superuser)
    page = client.get(_editor_url(camera)).content.decode()
    assert "还没有传来画面" in page
    assert "aspect-ratio: 1280 / 720" in page
    assert 'viewBox="0 0 1280 720"' in page
    assert "lanes.js" in page
    lanes = json.loads(
        page.split('id="lane-data" type="application/json">')[1].split("</script>")[0]
    )
    assert lanes == [
        {
            "id": camera.lanes.get().pk,
            "name": camera.lanes.get().name,
            "polygon": camera.lanes.get().polygon,
        }
    ]


def test_the_newest_scene_is_shown_and_served_only_to_lane_editors(
    client: Client,
    camera: Camera,
    other_camera: Camera,
    superuser: User,
    make_sighting: Callable[..., Any],
    t0: Any,
) -> None:
    old_scene, new_scene = scene_bytes(), scene_bytes() + b"\x00"
    make_sighting("浙J11111", t0, scene=old_scene)
    newest = make_sighting("浙J22222", t0 + timedelta(minutes=5), scene=new_scene)
    make_sighting("浙J33333", t0 + timedelta(minutes=9))  # no picture kept
    theirs = make_sighting(
        "浙J44444", t0 + timedelta(minutes=9), camera=other_camera, scene=old_scene
    )
    assert camera_scene_latest(camera=camera) == newest

    client.force_login(superuser)
    page = client.get(_editor_url(camera)).content.decode()
    picture_url = reverse(
        "firelane:lane_scene_image", kwargs={"serial": camera.serial, "pk": newest.pk}
    )
    assert picture_url in page and "还没有传来画面" not in page
    response = client.get(picture_url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert b"".join(response.streaming_content) == new_scene
    # Another camera's picture is not reachable through this camera.
    wrong = reverse("firelane:lane_scene_image", kwargs={"serial": camera.serial, "pk": theirs.pk})
    assert client.get(wrong).status_code == 404

    client.force_login(_user("plain-staff", staff=True))
    assert client.get(picture_url).status_code == 403
    client.logout()
    assert client.get(picture_url).status_code == 302


def test_saving_through_the_page_creates_the_lane(
    client: Client, camera: Camera, superuser: User
) -> None:
    client.force_login(superuser)
    response = client.post(
        _editor_url(camera), {"lane_id": "", "name": "西侧通道", "polygon": json.dumps(SQUARE)}
    )
    assert response.status_code == 302
    assert Lane.objects.get(camera=camera, name="西侧通道").polygon == SQUARE
    page = client.get(response["Location"]).content.decode()
    assert "已保存通道「西侧通道」" in page


def test_a_refused_drawing_comes_back_with_the_reason_and_the_points(
    client: Client, camera: Camera, superuser: User
) -> None:
    client.force_login(superuser)
    drawn = json.dumps([[0.1, 0.1], [0.9, 0.1]])
    response = client.post(_editor_url(camera), {"lane_id": "", "name": "半截", "polygon": drawn})
    assert response.status_code == 400
    page = response.content.decode()
    assert "至少要有 3 个点" in page
    draft = json.loads(
        page.split('id="lane-draft" type="application/json">')[1].split("</script>")[0]
    )
    assert draft == {"id": None, "name": "半截", "raw": drawn}
    assert not Lane.objects.filter(name="半截").exists()


def test_deleting_through_the_page(client: Client, camera: Camera, superuser: User) -> None:
    spare = lane_save(camera=camera, lane_id=None, name="备用", polygon=SQUARE, actor=superuser)
    client.force_login(superuser)
    url = reverse("firelane:lane_delete", kwargs={"serial": camera.serial, "lane_id": spare.pk})
    assert client.get(url).status_code == 405
    assert client.post(url).status_code == 302
    assert not Lane.objects.filter(pk=spare.pk).exists()


def test_the_editor_page_takes_a_bounded_number_of_queries(
    client: Client,
    camera: Camera,
    superuser: User,
    make_sighting: Callable[..., Any],
    t0: Any,
    django_assert_max_num_queries: Any,
) -> None:
    for i in range(5):
        lane_save(camera=camera, lane_id=None, name=f"通道{i}", polygon=SQUARE, actor=superuser)
        make_sighting("浙J12345", t0 + timedelta(minutes=i), scene=scene_bytes())
    client.force_login(superuser)
    with django_assert_max_num_queries(8):
        assert client.get(_editor_url(camera)).status_code == 200


# --------------------------------------------------------------------------- admin


ADMIN_MODELS = [Site, Camera, Exemption, Sighting, IntakeRefusal, RegistryImport]


def test_personal_data_is_not_in_the_admin() -> None:
    for model in (VehicleRecord, Owner):
        assert not admin.site.is_registered(model)
    # Lanes are edited on their camera (and on the picture), not as a list of their own.
    assert not admin.site.is_registered(Lane)
    for model in ADMIN_MODELS:
        assert admin.site.is_registered(model)


def test_every_changelist_loads_for_a_superuser(
    client: Client, superuser: User, make_sighting: Callable[..., Any], t0: Any
) -> None:
    make_sighting("浙J12345", t0)
    IntakeRefusal.objects.create(
        day=timezone.localdate(), source="isapi", reason="unknown_camera", serial="X1", count=3
    )
    RegistryImport.objects.create(file_sha256="a" * 64, file_name="registry.csv", file_size=10)
    client.force_login(superuser)
    for model in ADMIN_MODELS:
        url = reverse(f"admin:firelane_{model._meta.model_name}_changelist")
        response = client.get(url)
        assert response.status_code == 200, url


def test_the_camera_and_site_pages_load_with_their_inlines_and_the_editor_link(
    client: Client, camera: Camera, superuser: User
) -> None:
    client.force_login(superuser)
    editor = _editor_url(camera)
    listing = client.get(reverse("admin:firelane_camera_changelist")).content.decode()
    assert editor in listing and "画消防车通道" in listing
    change = client.get(reverse("admin:firelane_camera_change", args=[camera.pk]))
    assert change.status_code == 200 and editor in change.content.decode()
    site = client.get(reverse("admin:firelane_site_change", args=[camera.site_id]))
    assert site.status_code == 200 and camera.serial in site.content.decode()


def test_sightings_are_read_only_and_their_plates_masked(
    client: Client, superuser: User, make_sighting: Callable[..., Any], t0: Any
) -> None:
    sighting = make_sighting("浙J12345", t0)
    client.force_login(superuser)
    listing = client.get(reverse("admin:firelane_sighting_changelist")).content.decode()
    assert "浙J·1***5" in listing and "浙J12345" not in listing
    detail = client.get(reverse("admin:firelane_sighting_change", args=[sighting.pk]))
    assert detail.status_code == 200 and "浙J12345" not in detail.content.decode()
    assert client.get(reverse("admin:firelane_sighting_add")).status_code == 403
    assert (
        client.post(reverse("admin:firelane_sighting_delete", args=[sighting.pk])).status_code
        == 403
    )
    assert Sighting.objects.filter(pk=sighting.pk).exists()


def test_the_admin_lane_form_applies_the_editors_rules() -> None:
    form = LaneForm(data={"name": "x", "polygon": json.dumps([[0.1, 0.1], [1.5, 0.1], [0.5, 0.9]])})
    assert not form.is_valid()
    assert "画面之外" in str(form.errors["polygon"])
    form = LaneForm(data={"name": "x", "polygon": json.dumps(SQUARE)})
    assert form.is_valid(), form.errors
