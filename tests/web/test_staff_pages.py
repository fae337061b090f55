"""The outlet page under stores.access.can_manage_outlet: staff see their own outlet only, admins every one."""

import pytest

from tests.factories import PASSWORD, make_outlet, make_user

OTHER_OUTLET_REFUSED = "Bạn chỉ xem được cửa hàng của mình."


def login(client, email):
    assert client.post("/dang-nhap", data={"email": email, "password": PASSWORD}).status_code == 302


@pytest.fixture
def outlets(session):
    return make_outlet(session, "kien-thuy"), make_outlet(session, "do-son")


def test_staff_open_their_own_outlet(client, session, outlets):
    mine, _ = outlets
    staff = make_user(session, role="staff", outlet_id=mine.id)
    session.commit()
    login(client, staff.email)
    response = client.get(f"/cua-hang/{mine.id}")
    assert response.status_code == 200
    assert mine.name in response.get_data(as_text=True) and staff.email in response.get_data(as_text=True)


def test_staff_get_403_on_another_outlet(client, session, outlets):
    mine, other = outlets
    staff = make_user(session, role="staff", outlet_id=mine.id)
    make_user(session, role="staff", outlet_id=other.id, email="staff.do-son@ocop.example")
    session.commit()
    login(client, staff.email)
    response = client.get(f"/cua-hang/{other.id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 403
    assert OTHER_OUTLET_REFUSED in page and "staff.do-son@ocop.example" not in page


def test_staff_cannot_tell_an_unknown_outlet_from_someone_elses(client, session, outlets):
    mine, _ = outlets
    staff = make_user(session, role="staff", outlet_id=mine.id)
    session.commit()
    login(client, staff.email)
    assert client.get("/cua-hang/999999").status_code == 403


def test_an_admin_opens_any_outlet(client, session, outlets):
    admin = make_user(session, role="admin")
    session.commit()
    login(client, admin.email)
    for outlet in outlets:
        response = client.get(f"/cua-hang/{outlet.id}")
        assert response.status_code == 200 and outlet.name in response.get_data(as_text=True)
    assert client.get("/cua-hang/999999").status_code == 404


@pytest.mark.parametrize("role", ["consumer", "producer"])
def test_other_roles_get_403(client, session, outlets, role):
    mine, _ = outlets
    # Even an outlet id on the account does not make a non-staff account staff.
    user = make_user(session, role=role, outlet_id=mine.id)
    session.commit()
    login(client, user.email)
    response = client.get(f"/cua-hang/{mine.id}")
    assert response.status_code == 403 and mine.name not in response.get_data(as_text=True)


def test_anonymous_visitors_go_to_the_login_page(client, session, outlets):
    mine, _ = outlets
    session.commit()
    response = client.get(f"/cua-hang/{mine.id}")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/dang-nhap")
    assert f"cua-hang%2F{mine.id}" in response.headers["Location"]  # back to the outlet after logging in
