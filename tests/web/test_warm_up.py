"""A new worker serves the public pages once before its first shopper (storefront.warm_up, gunicorn.conf.py)."""

import gc
import logging
import runpy
from pathlib import Path
from types import SimpleNamespace

from storefront.warm_up import PATHS
from tests.factories import make_product


def test_a_new_worker_serves_each_public_page_and_a_product_page_before_its_first_shopper(app, session):
    fish_sauce = make_product(session, "Nước mắm Cát Hải", stars=3, price_vnd=120_000)
    session.commit()
    statuses = app.warm_up()
    # A path that stopped answering 200 (renamed, or broken) would leave every new worker cold again.
    assert statuses == {**dict.fromkeys(PATHS, 200), f"/san-pham/{fish_sauce.slug}": 200}


def test_a_worker_that_cannot_warm_up_still_starts(app, session, monkeypatch):
    def unreachable(*args, **kwargs):
        raise ConnectionError("search node unreachable")

    monkeypatch.setattr(app, "test_client", lambda **kwargs: type("Client", (), {"get": unreachable})())
    assert app.warm_up() == {}


def test_a_worker_leaves_what_it_warmed_up_out_of_full_garbage_collections(app, session):
    settings = runpy.run_path(str(Path(__file__).resolve().parents[2] / "gunicorn.conf.py"))
    worker = SimpleNamespace(wsgi=app, log=logging.getLogger("test-worker"))
    gc.unfreeze()
    try:
        settings["post_worker_init"](worker)
        # What a full pass would go through again and again, frozen once (the app's templates among it).
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()
