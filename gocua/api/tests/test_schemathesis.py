"""Schemathesis against /api/v1/openapi.json, in-process through the WSGI app.

For each role, every operation of the OpenAPI document (routes other engineers mount later are
included automatically) is called with generated valid and invalid data and a valid bearer
token; no answer may be a 5xx, use an undocumented status or content type, or break its
documented schema. Bounded: a few examples per operation, no shrinking, no example database.
"""

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from gocua.wsgi import application

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Kept small so the whole run stays well under a minute as routes are added: positive data for
# every role (scoping changes the answers), invalid data once (validation is the same for all
# roles: authentication runs first).
EXAMPLES = {GenerationMode.POSITIVE: 8, GenerationMode.NEGATIVE: 6}
ROLES = ["alice", "dan", "bob", "vy", "olivia"]


@pytest.fixture(autouse=True)
def _keep_the_test_transaction():
    """Calling the WSGI app directly fires request_started/finished, whose
    close_old_connections would close the connection holding the test's transaction (on
    PostgreSQL); Django's test client disconnects it the same way."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def population(tree, resident_factory):
    for unit, stage in (
        (tree.kp1, "activated"),
        (tree.kp2, "none"),
        (tree.b_kp1, "used"),
        (tree.xa_c, "registered"),
    ):
        resident_factory(unit, stage=stage)


def run_operation(operation, strategy, headers_for, examples):
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def check(case):
        case.call_and_validate(headers=headers_for(operation), checks=CHECKS)

    check()


@pytest.mark.parametrize("persona", ROLES)
def test_it_finds_no_server_error_and_no_schema_violation(persona, request, token_for, population):
    user = request.getfixturevalue(persona)
    token = token_for(user)

    def headers_for(operation):
        # Revoking must not kill the token the other operations use.
        key = token_for(user) if operation.path.endswith("/auth/revoke") else token
        return {"Authorization": f"Bearer {key}"}

    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 4
    for operation in operations:
        if not operation.definition.raw.get("security") and persona != ROLES[0]:
            continue  # the same for every role (e.g. POST /auth/token): once is enough
        modes = [GenerationMode.POSITIVE]
        if persona == ROLES[0]:
            modes.append(GenerationMode.NEGATIVE)
        for mode in modes:
            strategy = operation.as_strategy(generation_mode=mode)
            run_operation(operation, strategy, headers_for, EXAMPLES[mode])
        names = {p.name for p in operation.path_parameters}
        if "code" in names:
            # Random codes only ever meet 404: also walk the user's own unit, which answers 200.
            own = operation.as_strategy(path_parameters={"code": user.unit.code})
            run_operation(operation, own, headers_for, EXAMPLES[GenerationMode.POSITIVE])
