"""The bare Flask JSON endpoint bench/pages.py serves beside the shop, under the same gunicorn settings: the most
this machine's gunicorn and Flask can answer with no database, no templates and no session (the "share of bare"
column's denominator).

    gunicorn -c gunicorn.conf.py -w 4 --pythonpath bench 'bare_app:create_app()'
"""

from flask import Flask, jsonify


def create_app() -> Flask:
    app = Flask(__name__)

    @app.get("/")
    def index():
        return jsonify(status="ok")

    return app
