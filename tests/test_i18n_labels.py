"""Labels translated at run time (`{% trans label %}`: navigation, procedure states and actions, measure kinds) are
collected by scripts/i18n_extract.py, so the i18n check sees them, and they show in English."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from django.utils.translation import override

from guardline.assistance import catalogue
from guardline.assistance import procedure as elimination
from guardline.cases import procedure as identification
from tests.support import PASSWORD

ROOT = Path(__file__).resolve().parents[1]


def extractor():
    spec = importlib.util.spec_from_file_location("i18n_extract", ROOT / "scripts" / "i18n_extract.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_label_tables_of_the_pure_modules_are_extracted():
    found = set(extractor().msgids())
    tables = (identification.STATE_LABELS, identification.ACTION_LABELS, elimination.STATE_LABELS,
              elimination.ACTION_LABELS, elimination.MODE_LABELS, catalogue.KIND_LABELS)  # fmt: skip
    missing = [v for table in tables for v in table.values() if v not in found]
    assert not missing


@pytest.mark.django_db
def test_navigation_and_states_in_english(client, cadre_a):
    from guardline.core.context_processors import navigation

    class Request:
        user = cadre_a

    found = set(extractor().msgids())
    with override("zh-hans"):
        labels = [str(label) for _, label in navigation(Request())["nav_items"]]
    assert labels and all(label in found for label in labels)
    client.login(username="cadre_a", password=PASSWORD)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    body = client.get("/cases/list/", {"state": "identified"}).content.decode()
    assert "Assistance" in body and "Visits" in body  # navigation
    assert ">Home check<" in body and ">Identified<" in body  # the state filter
