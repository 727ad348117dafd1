"""Schemathesis against the app's own OpenAPI document: no server error, no answer off its schema.

Bounded (a few examples per operation) so the suite stays within minutes; runs on SQLite and,
with CRISIS_TEST_POSTGRES_URL, on PostgreSQL. Requests carry an admin's token so they reach the
endpoints' logic rather than stopping at authentication. Each operation is driven through
Hypothesis with the operation's own strategy (schemathesis's pytest loader does not run on
this pytest), in one test with a fresh app and database.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

# Per operation; about thirty operations. Raise locally for a deeper probe.
MAX_EXAMPLES = 12
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


def _with_known_names(known: dict[str, list[str]]):
    """Half the time, put a name that exists (an incident, a step, a playbook) into the path."""

    def strategy(case_strategy):
        def substitute(pair):
            case, use_known = pair
            for name, values in known.items():
                if use_known is not None and case.path_parameters and name in case.path_parameters:
                    case.path_parameters[name] = values[use_known % len(values)]
            return case

        return st.tuples(case_strategy, st.one_of(st.none(), st.integers(0, 5))).map(substitute)

    return strategy


def test_no_server_error_and_every_answer_matches_the_document(app, synced, team, incident_factory, api_client):
    ref = incident_factory()  # a live incident for the paths to find
    known = {"ref": [ref], "key": ["viral-complaint", "holding-statement", "gather-facts"],
             "statement_id": [1]}
    known_names = _with_known_names(known)
    token = api_client(team.admin).token
    app.config["PROPAGATE_UNEXPECTED"] = False  # a server error must answer 500, for the check to see it
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 20
    for operation in operations:

        @given(case=known_names(operation.as_strategy()))
        @settings(max_examples=MAX_EXAMPLES, deadline=None, phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck), database=None)
        def check(case):
            case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)

        check()
