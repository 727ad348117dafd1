"""The data foundation: the declarative base and column types (`base`), engine settings (`engine`).

Nothing here knows Flask: the extensions module binds the base to Flask-SQLAlchemy, and the app
factory applies the engine settings.
"""
