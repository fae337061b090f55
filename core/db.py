"""The Flask-SQLAlchemy handle. Imported by entrypoints only (views, CLI, tasks); domain code takes a session."""
from flask_sqlalchemy import SQLAlchemy

from core.models import Base

db = SQLAlchemy(model_class=Base)
