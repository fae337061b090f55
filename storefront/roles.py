"""Role guards for browser pages: anonymous users go to the login page, wrong roles get 403."""

from functools import wraps

from flask import abort
from flask_babel import gettext as _
from flask_login import current_user, login_required


def role_required(*roles: str):
    def decorator(view):
        @wraps(view)
        @login_required
        def guarded(*args, **kwargs):
            if current_user.role not in roles:
                abort(403, _("Bạn không có quyền xem trang này."))
            return view(*args, **kwargs)

        return guarded

    return decorator
