from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf import CSRFProtect

login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
migrate = Migrate()
# Fixed window: login throttling refunds a successful attempt with a negative hit (storefront/auth/throttle.py),
# which only the fixed-window counters support.
limiter = Limiter(key_func=get_remote_address, default_limits=[], strategy="fixed-window")
