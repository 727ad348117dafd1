"""The rules in crisis.permissions on their own: system permissions and token scopes."""

from __future__ import annotations

import pytest
from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    insert,
    literal,
    select,
)

from crisis.permissions import grants, holds_permission_clause, scope_admits, token_may_call


@pytest.mark.parametrize(
    ("held", "asked", "granted"),
    [
        ({"respond"}, "respond", True),
        ({"respond"}, "approve", False),
        ({"admin"}, "publish", True),
        (set(), "view", False),
        ({"view"}, "admin", False),
    ],
)
def test_admin_holds_every_system_permission_and_nobody_else_does(held, asked, granted):
    assert grants(held, asked) is granted


@pytest.mark.parametrize(
    ("held", "asked"),
    [({"respond"}, "respond"), ({"respond"}, "approve"), ({"admin"}, "publish"), (set(), "view"), ({"view"}, "admin")],
)
def test_the_sql_rule_answers_as_the_python_one(held, asked):
    granted = Table("granted", MetaData(), Column("person_id", Integer), Column("permission", String))
    engine = create_engine("sqlite://")
    granted.metadata.create_all(engine)
    with engine.begin() as connection:
        for name in held:
            connection.execute(insert(granted).values(person_id=1, permission=name))
        connection.execute(insert(granted).values(person_id=2, permission="admin"))
        answer = connection.execute(select(holds_permission_clause(granted, literal(1), asked))).scalar_one()
    assert bool(answer) is grants(held, asked)


@pytest.mark.parametrize(
    ("token_scope", "endpoint_scope", "admitted"),
    [("api", "api", True), ("api", "alerts", True), ("alerts", "alerts", True), ("alerts", "api", False)],
)
def test_a_general_token_reaches_every_endpoint_and_a_scoped_one_only_its_own(token_scope, endpoint_scope, admitted):
    assert scope_admits(token_scope, endpoint_scope) is admitted


def test_a_token_scoped_to_its_endpoint_is_the_grant_and_a_general_one_needs_the_permission():
    assert token_may_call(token_scope="alerts", endpoint_scope="alerts", permitted=False)
    assert not token_may_call(token_scope="api", endpoint_scope="alerts", permitted=False)
    assert token_may_call(token_scope="api", endpoint_scope="alerts", permitted=True)
    assert not token_may_call(token_scope="api", endpoint_scope="api", permitted=False)
