"""Extensions, created unbound here and bound to the app in the factory."""

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from crisis.db.base import Base
from crisis.db.engine import ENGINE_OPTIONS

db = SQLAlchemy(model_class=Base, engine_options=ENGINE_OPTIONS)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
