"""A stored national import preview in the live app (new and changed certificates, a new producer and product, a
refused row), for the accessibility and CSP tests to visit /admin/nhap-danh-sach/<id>. Nothing is applied."""

import hashlib


def an_import_preview(live_app, today) -> int:
    from catalog.national_export import national_rows, to_csv
    from catalog.national_import import create_import
    from catalog.national_import_file import read_table
    from core.db import db
    from storefront.national_imports import district_lookup

    with live_app.app_context():
        rows = list(national_rows(db.session, today))[:5]
        first = rows[0]
        rows += [
            {**first, "stars": 5, "score": 95, "level": "national"},
            {
                **first,
                "decision": "QĐ 21/2026",
                "issued_on": today.isoformat(),
                "expires_on": "",
                "stars": 4,
                "score": 80,
                "level": "province",
                "revoked_on": None,
                "product": "Mắm rươi nhập thử",
                "producer": "HTX nhập thử",
            },
            {**first, "decision": "QĐ 22/2026", "issued_on": "2099-01-01", "expires_on": ""},
        ]
        data = to_csv(rows).encode()
        record = create_import(
            db.session,
            read_table(data),
            file_name="hoi-dong.csv",
            sha256=hashlib.sha256(data).hexdigest(),
            today=today,
            districts=district_lookup(),
            actor_id=None,
        )
        db.session.commit()
        import_id = record.id
        db.session.remove()
    return import_id
