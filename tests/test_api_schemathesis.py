"""Schemathesis against the API's own OpenAPI schema, in-process over WSGI: every operation, signed in (a county
user's session cookie for the registry endpoints, a department token for the push endpoint), must never answer with
a server error and only with the status codes and bodies the schema documents. Bounded and derandomized so CI is
stable (about 40 examples per operation)."""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application
from guardline.accounts.models import Role
from guardline.api.services import department_token_create
from guardline.regions.models import Region
from tests.support import COUNTY, PASSWORD

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def in_process_wsgi():
    """Like Django's test client: the WSGI handler must not close the test transaction's connection at the end of
    each request."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def credentials(in_process_wsgi, settings, make_user, households):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost", "testserver"]
    make_user("county_staff", Role.COUNTY_STAFF, COUNTY)
    client = Client()
    assert client.login(username="county_staff", password=PASSWORD)
    _, token = department_token_create(
        actor=None,
        name="医保局结算系统",
        department="medical_insurance",
        region=Region.objects.get(code=COUNTY),
    )
    return {"cookies": {"sessionid": client.cookies["sessionid"].value}, "token": token}


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_api_conforms_to_its_schema(case, credentials):
    if case.path.startswith("/api/v1/feeds/"):
        if case.path_parameters:
            # a random `feed` is always the documented 404; the token's own feed lets the events reach validation
            case.path_parameters["feed"] = "medical_settlement"
        case.call_and_validate(headers={"Authorization": f"Bearer {credentials['token']}"}, checks=CHECKS)
    else:
        case.call_and_validate(cookies=credentials["cookies"], checks=CHECKS)
