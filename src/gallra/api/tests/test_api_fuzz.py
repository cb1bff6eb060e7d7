"""The API against its own served schema: generated requests, valid and not, never get a 5xx,
and every answer has a documented status code and matches its documented schema."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from gallra.api.tests.conftest import EVERYTHING
from gallra.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


@pytest.fixture
def token(token_for, decisions, requests, ended_customer, escrow, entries):
    """A token that may do everything, with some of each kind of data to read.

    Requests go straight to the WSGI application, whose end-of-request signal would close
    the test's database connection (and its transaction) on PostgreSQL; Django's test
    client holds that signal back the same way."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield token_for(*EVERYTHING)
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_api_answers_as_its_schema_says(case, token):
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
