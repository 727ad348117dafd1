"""Extensions, created unbound here and bound to the app in the factory."""

import orjson
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from crisis.database import Base


def _json_column_dumps(value: object) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


# JSON columns (timeline data, playbook definitions, triage answers) are encoded and decoded by
# orjson, as JSON responses are: declaring writes several timeline events' data every time.
db = SQLAlchemy(
    model_class=Base, engine_options={"json_serializer": _json_column_dumps, "json_deserializer": orjson.loads}
)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
