"""Entry point for workers: `celery -A make_celery worker` and `celery -A make_celery beat`."""

from storefront import create_app

flask_app = create_app()
celery_app = flask_app.extensions["celery"]
