"""The trade-fair kiosk (issue 18): a full-screen touch shop for one stand that keeps selling offline.

`/kiosk/<outlet code>` is a shell page; storefront/static/kiosk/kiosk.js draws every screen from the JSON API with
the kiosk's device token, and the service worker (`/kiosk/sw.js`, scope /kiosk/) keeps the shell, the stand's
catalogue, photos and QR codes for when the hall's network drops. Both languages' strings are in the page, so the
English toggle works offline.
"""

import io
import json
import re

import segno
from flask import Blueprint, abort, current_app, render_template, request, session, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from catalog.groups import GROUPS, SERVICE_GROUP
from catalog.models import Product
from core.db import db
from storefront import static_assets
from stores.models import Outlet

bp = Blueprint("kiosk", __name__)

#: A '/static/…' string in the service worker's source, rewritten to the file's hashed address when it is served.
STATIC_LITERAL = re.compile(r"'/static/([^']+)'")


def _outlet(code: str) -> Outlet:
    outlet = db.session.scalar(select(Outlet).where(Outlet.code == code))
    if outlet is None:
        abort(404)
    return outlet


def strings() -> dict:
    """The kiosk's words in the current locale; `{n}`, `{name}` are filled in by the script."""
    return {
        "title": _("Gian hàng OCOP"),
        "pair_title": _("Ghép kiosk với gian hàng"),
        "pair_help": _("Nhân viên gian hàng nhập mã 6 số tạo trên trang Thiết bị của cửa hàng."),
        "pair_code": _("Mã ghép (6 số)"),
        "pair_button": _("Ghép máy"),
        "pair_wrong": _("Mã không đúng hoặc đã hết hạn."),
        "pair_void": _("Nhập sai quá 5 lần nên các mã đã bị hủy. Hãy tạo mã mới."),
        "pair_offline": _("Cần có mạng để ghép máy."),
        "pair_used": _("Mã này đã được dùng. Hãy tạo mã mới."),
        "pair_wait": _("Thử quá nhiều lần. Xin chờ một lát rồi thử lại."),
        "start_title": _("Sản phẩm OCOP tại gian hàng"),
        "search_label": _("Tìm sản phẩm"),
        "search_placeholder": _("Ví dụ: nước mắm"),
        "search_clear": _("Xóa tìm kiếm"),
        "suggestions": _("Gợi ý"),
        "filter_group": _("Nhóm sản phẩm"),
        "filter_stars": _("Hạng sao"),
        "filter_all": _("Tất cả"),
        "stars_n": _("{n} sao"),
        "no_results": _("Không có sản phẩm phù hợp."),
        "catalogue_empty": _("Gian hàng chưa có hàng để bán."),
        "catalogue_unavailable": _("Chưa tải được danh mục. Kiểm tra mạng rồi thử lại."),
        "retry": _("Thử lại"),
        "back": _("Quay lại"),
        "certificate": _("Chứng nhận OCOP"),
        "issued_on": _("Cấp ngày"),
        "expires_on": _("Hết hạn ngày"),
        "scan_phone": _("Quét mã bằng điện thoại để xem sản phẩm"),
        "qr_alt": _("Mã QR trang sản phẩm {name}"),
        "producer": _("Cơ sở sản xuất"),
        "add_to_cart": _("Thêm vào giỏ"),
        "added": _("Đã thêm vào giỏ"),
        "cart": _("Giỏ hàng"),
        "cart_n": _("Giỏ hàng ({n})"),
        "cart_empty": _("Giỏ hàng trống."),
        "qty": _("Số lượng"),
        "less": _("Bớt một {name}"),
        "more": _("Thêm một {name}"),
        "remove": _("Bỏ {name} khỏi giỏ"),
        "total": _("Tổng cộng"),
        "to_checkout": _("Đặt hàng"),
        "keep_shopping": _("Mua tiếp"),
        "checkout_title": _("Thông tin người nhận"),
        "name": _("Họ tên"),
        "phone": _("Số điện thoại"),
        "pickup_here": _("Nhận hàng tại quầy của gian hàng này"),
        "payment": _("Cách thanh toán"),
        "cash": _("Tiền mặt tại quầy"),
        "vietqr": _("Chuyển khoản VietQR"),
        "vietqr_needs_network": _("VietQR cần có mạng; khi mất mạng xin trả tiền mặt tại quầy."),
        "adult": _("Tôi đủ 18 tuổi (bắt buộc khi mua rượu, bia)"),
        "place_order": _("Xác nhận đặt hàng"),
        "sending": _("Đang gửi…"),
        "name_missing": _("Vui lòng nhập họ tên."),
        "phone_missing": _("Vui lòng nhập số điện thoại."),
        "phone_wrong": _("Số điện thoại không đúng: số di động có 10 chữ số, số cố định có 11 chữ số."),
        "done_title": _("Đã đặt hàng"),
        "order_code": _("Mã đơn"),
        "temp_code": _("Mã tạm"),
        "pay_at_counter": _("Mời quý khách nhận hàng và trả tiền tại quầy."),
        "scan_vietqr": _("Quét mã VietQR bằng ứng dụng ngân hàng để thanh toán"),
        "vietqr_alt": _("Mã VietQR của đơn {code}"),
        "queued_note": _("Máy đang mất mạng: đơn đã lưu trên máy và sẽ tự gửi khi có mạng."),
        "finish": _("Xong"),
        "online": _("Đang có mạng"),
        "offline": _("Mất mạng — kiosk vẫn nhận đơn trả tiền mặt."),
        "queued_n": _("{n} đơn đang chờ gửi"),
        "failed_n": _("{n} đơn gửi không được — mời nhân viên kiểm tra."),
        "failed_title": _("Đơn gửi không được (nhân viên xử lý)"),
        "beyond_quota": _("Khi mất mạng chỉ bán được {n} “{name}” nữa (hạn mức của kiosk)."),
        "not_in_quota": _("Khi mất mạng kiosk không bán thêm “{name}” được nữa (hết hạn mức của kiosk)."),
        "error": _("Có lỗi, xin thử lại hoặc hỏi nhân viên."),
        "idle_title": _("Còn ai dùng máy không?"),
        "idle_countdown": _("Máy trở về màn hình đầu sau {n} giây."),
        "idle_stay": _("Tôi vẫn đang dùng"),
        "revoked": _("Máy này không còn được ghép với cửa hàng."),
        "revoked_queue": _("Số đơn chưa gửi vẫn giữ trên máy: {n}. Mời nhân viên xử lý."),
        "photo_missing": _("Chưa có ảnh"),
        "groups": {str(code): _(name) for code, name in GROUPS.items() if code != SERVICE_GROUP},
    }


def all_strings() -> dict:
    languages = current_app.config["LANGUAGES"]
    table = {}
    for language in languages:
        with force_locale(language):
            table[language] = strings()
    return table


def start_language() -> str:
    """Vietnamese, unless the shop's language was chosen explicitly (?lang= or the language switch): never the
    browser's own preference, so that every visitor of a stand starts in Vietnamese."""
    chosen = request.args.get("lang") or session.get("lang")
    return chosen if chosen in current_app.config["LANGUAGES"] else "vi"


@bp.get("/<code>")
def shell(code: str):
    """The kiosk of the outlet with this code (404 for an unknown one)."""
    outlet = _outlet(code)
    language = start_language()
    with force_locale(language):
        response = current_app.make_response(
            render_template(
                "kiosk/shell.html",
                language=language,
                outlet=outlet,
                idle_seconds=current_app.config["KIOSK_IDLE_SECONDS"],
                strings_json=json.dumps(all_strings(), ensure_ascii=False),
                words=strings(),
            )
        )
    # The service worker keeps its own copy for offline use; the browser's cache must not serve an old shell.
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/<code>/manifest.webmanifest")
def manifest(code: str):
    outlet = _outlet(code)
    body = {
        "name": f"OCOP Mart – {outlet.name}",
        "short_name": "OCOP Kiosk",
        "lang": "vi",
        "start_url": f"/kiosk/{outlet.code}",
        "scope": "/kiosk/",
        "display": "fullscreen",
        "background_color": "#ffffff",
        "theme_color": "#1d5b34",
        "icons": [{"src": url_for("static", filename="favicon.svg"), "sizes": "any", "type": "image/svg+xml"}],
    }
    response = current_app.response_class(json.dumps(body, ensure_ascii=False), mimetype="application/manifest+json")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/sw.js")
def service_worker():
    """Served from /kiosk/ so that its scope is the kiosk's pages, never the shop's. The files it keeps are named by
    their hashed addresses, so a changed file changes the worker too and the browser installs the new one."""
    script = static_assets.static_assets().manifest.derived("kiosk.service_worker", _service_worker_script)
    # The browser checks for a new worker on each visit: never from its HTTP cache.
    return static_assets.respond(script, "no-cache")


def _service_worker_script(manifest: static_assets.Manifest) -> static_assets.Asset:
    def hashed(match: re.Match) -> str:
        asset = manifest.by_name.get(match.group(1))
        return f"'{current_app.static_url_path}/{asset.hashed}'" if asset else match.group(0)

    source = manifest.by_name["kiosk/sw.js"].body.decode()
    return static_assets.make_asset("kiosk/sw.js", STATIC_LITERAL.sub(hashed, source).encode())


@bp.get("/<code>/qr/<int:product_id>.svg")
def product_qr(code: str, product_id: int):
    """A QR code (error correction M) of the product's public page, for the visitor's phone."""
    _outlet(code)
    product = db.session.get(Product, product_id)
    if product is None:
        abort(404)
    url = current_app.config["PUBLIC_URL"].rstrip("/") + f"/san-pham/{product.slug}"
    qr = segno.make(url, error="m", boost_error=False)
    out = io.BytesIO()
    qr.save(out, kind="svg", scale=4, border=2, xmldecl=False, title=url)
    response = current_app.response_class(out.getvalue(), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response
