"""Product photos on the web (issue 16, "Photos"): the admin's and the producer's photo pages, the API's upload
and delete, the files served with long cache headers, and the photos (or a group's drawing) on the shop."""

import io
import re
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import event, func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from catalog.models import AuditEntry, ProductPhoto
from catalog.photo_services import MAX_PHOTOS, add_photo, photo_store
from catalog.photos import MAX_BYTES
from core.db import db
from tests.factories import PASSWORD, bearer, make_product, make_user, token_for
from tests.photo_images import HTML, PDF, encoded, marked_photo, phone_photo, png_bomb, truncated


def jpeg(width=900, height=600) -> bytes:
    return encoded(marked_photo(width, height), "JPEG", quality=85)


def stored_files(app) -> list[str]:
    folder = Path(app.config["UPLOAD_FOLDER"]) / "photos"
    return sorted(path.name for path in folder.iterdir()) if folder.is_dir() else []


def login(client, user):
    assert client.post("/dang-nhap", data={"email": user.email, "password": PASSWORD}).status_code == 302


@pytest.fixture
def owner(session):
    """A product and its producer's account."""
    product = make_product(session, name="Nước mắm Cát Hải")
    user = make_user(session, role="producer", producer_id=product.producer_id)
    session.commit()
    return product, user


def multipart(fields: dict) -> dict:
    """The body built in memory: Werkzeug's test client spools a large one to a file it never closes."""
    files = {
        key: FileStorage(stream=value[0], filename=value[1]) if isinstance(value, tuple) else value
        for key, value in fields.items()
    }
    boundary, body = encode_multipart(MultiDict(files))
    return {"data": body, "content_type": f"multipart/form-data; boundary={boundary}"}


def upload(client, product, data, token, name="photo.jpg", **form):
    return client.post(
        f"/api/v1/products/{product.id}/photos",
        headers=bearer(token),
        **multipart({"file": (io.BytesIO(data), name), **form}),
    )


def photo_count(session) -> int:
    return session.scalar(select(func.count()).select_from(ProductPhoto))


# The API.


def test_the_producer_uploads_a_photo_and_gets_its_addresses(app, client, session, owner):
    product, user = owner
    response = upload(client, product, phone_photo(1600, 1200), token_for(client, user))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert set(body) == {"id", "urls", "alt"} and body["alt"] == "Nước mắm Cát Hải"
    assert set(body["urls"]) == {"320", "640", "1280"}
    photo = session.get(ProductPhoto, body["id"])
    assert body["urls"]["1280"].endswith(f"/anh/{photo.digest}-1280.jpg")
    assert body["urls"]["320"].startswith(app.config["PUBLIC_URL"].rstrip("/") + "/anh/")
    assert len(stored_files(app)) == 6
    entry = session.scalars(select(AuditEntry).where(AuditEntry.entity == "photo")).one()
    assert (entry.action, entry.product_id, entry.actor_id) == ("created", product.id, user.id)


def test_the_served_photo_has_no_exif_is_upright_and_is_cached_for_a_year(client, owner):
    product, user = owner
    urls = upload(client, product, phone_photo(1600, 1200), token_for(client, user)).get_json()["urls"]
    for url in (urls["1280"], urls["640"].replace(".jpg", ".webp")):
        response = client.get(url.split("//", 1)[1].split("/", 1)[1].join(["/", ""]))
        assert response.status_code == 200
        assert response.mimetype in {"image/jpeg", "image/webp"}
        cache = response.headers["Cache-Control"]
        assert "public" in cache and "max-age=31536000" in cache and "immutable" in cache
        image = Image.open(io.BytesIO(response.data))
        assert not image.getexif() and "exif" not in image.info and "icc_profile" not in image.info
        assert image.height > image.width  # stored landscape, EXIF orientation 6: a portrait


def test_another_producer_gets_403_and_nothing_is_written(app, client, session, owner):
    product, _ = owner
    other = make_user(session, role="producer", producer_id=make_product(session).producer_id)
    session.commit()
    response = upload(client, product, jpeg(), token_for(client, other))
    assert response.status_code == 403 and response.get_json()["error"] == "forbidden"
    assert photo_count(session) == 0 and stored_files(app) == []
    assert session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.entity == "photo")) == 0


def test_a_customer_token_is_403_and_no_token_401(client, session, owner):
    product, _ = owner
    customer = make_user(session)
    session.commit()
    assert upload(client, product, jpeg(), token_for(client, customer)).status_code == 403
    body = multipart({"file": (io.BytesIO(jpeg()), "a.jpg")})
    response = client.post(f"/api/v1/products/{product.id}/photos", **body)
    assert response.status_code == 401


@pytest.mark.parametrize(
    "data, code",
    [
        pytest.param(PDF, "not_an_image", id="a PDF renamed .jpg"),
        pytest.param(HTML, "not_an_image", id="an HTML page renamed .jpg"),
        pytest.param(truncated(jpeg()), "image_truncated", id="a truncated JPEG"),
        pytest.param(png_bomb(), "image_too_large", id="20,000 × 20,000 pixels"),
    ],
)
def test_what_is_no_acceptable_image_is_400_and_leaves_no_file(app, client, session, owner, data, code):
    product, user = owner
    response = upload(client, product, data, token_for(client, user))
    assert response.status_code == 400 and response.get_json()["error"] == code, response.get_json()
    assert photo_count(session) == 0 and stored_files(app) == []


def test_a_thirteenth_photo_and_an_alt_over_200_characters_are_400(app, client, session, owner):
    product, user = owner
    token = token_for(client, user)
    response = upload(client, product, jpeg(), token, alt="x" * 201)
    assert response.status_code == 400 and response.get_json()["error"] == "alt_too_long"
    store = photo_store(app.config["UPLOAD_FOLDER"])
    for _ in range(MAX_PHOTOS):
        add_photo(session, store, product, encoded(Image.new("RGB", (120, 90), "green"), "PNG"), actor_id=user.id)
    session.commit()
    response = upload(client, product, jpeg(), token)
    assert response.status_code == 400 and response.get_json()["error"] == "too_many_photos"
    assert photo_count(session) == MAX_PHOTOS and len(stored_files(app)) == 6


def test_a_missing_file_is_400(client, owner):
    product, user = owner
    response = client.post(
        f"/api/v1/products/{product.id}/photos", data={"alt": "x"}, headers=bearer(token_for(client, user))
    )
    assert response.status_code == 400 and response.get_json()["error"] == "file_required"


def test_fields_other_than_file_and_alt_are_400_and_nothing_is_written(app, client, session, owner):
    product, user = owner
    response = upload(client, product, jpeg(), token_for(client, user), caption="x")
    assert response.status_code == 400 and response.get_json()["error"] == "invalid"
    assert photo_count(session) == 0 and stored_files(app) == []


@pytest.mark.parametrize("size", [MAX_BYTES + 1, MAX_BYTES + 200 * 1024])
def test_an_upload_over_10_mib_is_413_and_leaves_no_file(app, client, session, owner, size):
    product, user = owner
    response = upload(client, product, b"\xff\xd8\xff" + bytes(size - 3), token_for(client, user))
    assert response.status_code == 413 and response.get_json()["error"] == "too_large"
    assert photo_count(session) == 0 and stored_files(app) == []


def test_products_carry_their_photos_cover_first_in_the_list_and_the_detail(client, session, owner):
    product, user = owner
    token = token_for(client, user)
    first = upload(client, product, jpeg(), token).get_json()
    second = upload(client, product, jpeg(700, 700), token, alt="Chai 500 ml").get_json()
    assert second["alt"] == "Chai 500 ml"
    detail = client.get(f"/api/v1/products/{product.id}").get_json()
    assert [p["id"] for p in detail["photos"]] == [first["id"], second["id"]]
    assert detail["photos"][0] == first
    (item,) = [i for i in client.get("/api/v1/products").get_json()["items"] if i["id"] == product.id]
    assert item["photos"] == detail["photos"]
    assert [i["photos"] for i in client.get("/api/v1/products").get_json()["items"] if i["id"] != product.id] in (
        [],
        [[]],
    )


def test_a_file_shared_by_two_photos_stays_until_the_last_one_is_deleted(app, client, session, owner):
    product, user = owner
    admin = make_user(session, role="admin")
    second_product = make_product(session, producer=product.producer)
    session.commit()
    token = token_for(client, user)
    data = jpeg()
    one = upload(client, product, data, token).get_json()
    two = upload(client, second_product, data, token_for(client, admin)).get_json()
    assert one["urls"] == two["urls"] and len(stored_files(app)) == 6
    assert client.delete(f"/api/v1/photos/{one['id']}", headers=bearer(token)).status_code == 204
    assert len(stored_files(app)) == 6
    assert client.get(two["urls"]["320"].replace(app.config["PUBLIC_URL"].rstrip("/"), "")).status_code == 200
    assert client.delete(f"/api/v1/photos/{two['id']}", headers=bearer(token)).status_code == 204
    assert stored_files(app) == []
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.entity == "photo")).all()
    assert sorted(actions) == ["created", "created", "deleted", "deleted"]


def test_another_producer_cannot_delete_a_photo(app, client, session, owner):
    product, user = owner
    photo_id = upload(client, product, jpeg(), token_for(client, user)).get_json()["id"]
    other = make_user(session, role="producer", producer_id=make_product(session).producer_id)
    session.commit()
    response = client.delete(f"/api/v1/photos/{photo_id}", headers=bearer(token_for(client, other)))
    assert response.status_code == 403
    assert photo_count(session) == 1 and len(stored_files(app)) == 6
    assert client.delete("/api/v1/photos/999999", headers=bearer(token_for(client, user))).status_code == 404


def test_a_rolled_back_upload_leaves_no_file(app, session, owner):
    product, user = owner
    add_photo(session, photo_store(app.config["UPLOAD_FOLDER"]), product, jpeg(), actor_id=user.id)
    assert len(stored_files(app)) == 6
    session.rollback()
    assert stored_files(app) == [] and photo_count(session) == 0


# The files.


@pytest.mark.parametrize(
    "name",
    [
        "a" * 64 + "-100.jpg",
        "a" * 64 + "-320.png",
        "A" * 64 + "-320.jpg",
        "a" * 63 + "-320.jpg",
        "a" * 64 + "-320.jpg",  # well-formed, no such file
        "..%2f..%2fetc%2fpasswd",
        ".a" * 32 + "-320.jpg",
    ],
)
def test_anything_but_an_existing_photo_file_is_404(client, name):
    assert client.get(f"/anh/{name}").status_code == 404


# The shop.


def test_the_product_page_shows_the_photos_with_srcset_and_the_card_the_cover(client, session, owner):
    product, user = owner
    token = token_for(client, user)
    upload(client, product, jpeg(1600, 1200), token)
    upload(client, product, jpeg(800, 800), token, alt="Chai nhìn từ trên")
    page = client.get(f"/san-pham/{product.slug}").get_data(as_text=True)
    photo = session.scalars(select(ProductPhoto).order_by(ProductPhoto.position)).first()
    assert f'<source type="image/webp" srcset="/anh/{photo.digest}-320.webp 320w, ' in page
    assert f"/anh/{photo.digest}-1280.jpg 1280w" in page and 'sizes="' in page
    assert 'width="640" height="480" alt="Nước mắm Cát Hải"' in page
    assert 'alt="Chai nhìn từ trên"' in page
    assert "illustrations/group-" not in page
    catalogue = client.get("/san-pham").get_data(as_text=True)
    assert f"/anh/{photo.digest}-320.jpg" in catalogue


def test_a_product_without_photos_shows_its_group_drawing_never_a_broken_image(client, session):
    product = make_product(session, group=4)
    session.commit()
    page = client.get(f"/san-pham/{product.slug}").get_data(as_text=True)
    (src,) = set(re.findall(r'<img class="illustration" src="([^"]+)"', page))
    assert re.search(r"/illustrations/group-4\.[0-9a-f]+\.svg$", src)  # content-hashed
    with client.get(src) as drawing:
        assert drawing.status_code == 200 and drawing.mimetype == "image/svg+xml"
        svg = drawing.get_data()
    assert svg.startswith(b"<svg") and b'viewBox="0 0 320 240"' in svg
    assert b"<script" not in svg and b"style" not in svg and b"href" not in svg
    assert src in client.get("/san-pham").get_data(as_text=True)


def test_lists_load_photos_in_one_query_whatever_the_number_of_products(client, session):
    def statements_for(url):
        seen = []
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert client.get(url).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return [s for s in seen if "product_photos" in s]

    for _ in range(3):
        make_product(session)
    session.commit()
    assert len(statements_for("/api/v1/products")) == 1
    for _ in range(5):
        make_product(session)
    session.commit()
    assert len(statements_for("/api/v1/products")) == 1
    assert len(statements_for("/san-pham")) == 1


# The photo pages.


def page_url(prefix, product_id):
    return f"{prefix}/san-pham/{product_id}/anh"


def test_the_producer_manages_photos_of_own_products_only(app, client, session, owner):
    product, user = owner
    other_product = make_product(session)
    session.commit()
    login(client, user)
    page = client.get(page_url("/nha-san-xuat", product.id))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in html and 'accept="image/jpeg,image/png,image/webp"' in html
    assert client.get(page_url("/nha-san-xuat", other_product.id)).status_code == 403
    body = multipart({"file": (io.BytesIO(jpeg()), "a.jpg")})
    response = client.post(page_url("/nha-san-xuat", other_product.id), **body)
    assert response.status_code == 403 and photo_count(session) == 0 and stored_files(app) == []
    assert client.get(page_url("/admin", product.id)).status_code == 403


def test_the_page_upload_shows_a_refusal_under_the_file_field_and_stores_nothing(app, client, session, owner):
    product, user = owner
    login(client, user)
    response = client.post(
        page_url("/nha-san-xuat", product.id), **multipart({"file": (io.BytesIO(PDF), "report.jpg"), "alt": ""})
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="file-errors"' in html and "không phải ảnh JPEG, PNG hoặc WebP" in html
    assert photo_count(session) == 0 and stored_files(app) == []
    english = client.post(
        page_url("/nha-san-xuat", product.id) + "?lang=en", **multipart({"file": (io.BytesIO(HTML), "page.jpg")})
    ).get_data(as_text=True)
    assert "Product photos" in english and "is not a JPEG, PNG or WebP image" in english


def test_a_page_upload_over_the_limit_is_413_and_leaves_no_file(app, client, session, owner):
    product, user = owner
    login(client, user)
    body = multipart({"file": (io.BytesIO(b"\xff\xd8\xff" + bytes(MAX_BYTES + 100 * 1024)), "big.jpg")})
    assert client.post(page_url("/nha-san-xuat", product.id), **body).status_code == 413
    assert photo_count(session) == 0 and stored_files(app) == []


def test_an_admin_uploads_orders_chooses_the_cover_describes_and_deletes(app, client, session, owner):
    product, _ = owner
    admin = make_user(session, role="admin")
    session.commit()
    login(client, admin)
    url = page_url("/admin", product.id)
    for size in ((900, 600), (600, 900), (700, 700)):
        assert client.post(url, **multipart({"file": (io.BytesIO(jpeg(*size)), "a.png")})).status_code == 302
    first, second, third = session.scalars(select(ProductPhoto).order_by(ProductPhoto.position)).all()

    def order():
        session.expire_all()
        return [p.id for p in session.scalars(select(ProductPhoto).order_by(ProductPhoto.position))]

    assert client.post(f"{url}/{third.id}/len").status_code == 302
    assert order() == [first.id, third.id, second.id]
    client.post(f"{url}/{first.id}/xuong")
    assert order() == [third.id, first.id, second.id]
    client.post(f"{url}/{second.id}/anh-bia")
    assert order() == [second.id, third.id, first.id]
    client.post(f"{url}/{second.id}/mo-ta", data={"alt": "  Hũ   mắm  "})
    assert session.get(ProductPhoto, second.id).alt == "Hũ mắm"
    client.post(f"{url}/{third.id}/mo-ta", data={"alt": "x" * 201})
    assert session.get(ProductPhoto, third.id).alt == ""
    client.post(f"{url}/{third.id}/xoa")
    assert order() == [second.id, first.id]
    assert client.post(f"{url}/{third.id}/xoa").status_code == 404
    assert client.post(f"{url}/{first.id}/khac").status_code == 404
    html = client.get(url).get_data(as_text=True)
    assert html.index(f"alt-{second.id}") < html.index(f"alt-{first.id}") and "Hũ mắm" in html
    actions = session.scalars(
        select(AuditEntry.action).where(AuditEntry.entity == "photo", AuditEntry.product_id == product.id)
    ).all()
    assert actions.count("created") == 3 and actions.count("deleted") == 1 and "updated" in actions
