"""Insights in the admin: visible, read-only."""

import pytest

from insights.models import Insight
from insights.services import insight_request

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def insight(shop_orders):
    return insight_request()


def test_insights_are_listed_in_the_admin(admin_client, insight):
    html = admin_client.get("/admin/insights/insight/").content.decode()

    assert "all time" in html
    assert "Computed from the data" in html


def test_an_insight_is_shown_read_only(admin_client, insight):
    html = admin_client.get(f"/admin/insights/insight/{insight.pk}/change/").content.decode()

    assert "Computed from the data by templates, not by AI" in html
    assert 'name="_save"' not in html
    assert 'name="markdown"' not in html


def test_insights_cannot_be_added_changed_or_deleted_in_the_admin(admin_client, insight):
    assert admin_client.get("/admin/insights/insight/add/").status_code == 403
    response = admin_client.post(f"/admin/insights/insight/{insight.pk}/change/", {"markdown": "typed in"})
    assert response.status_code == 403
    assert admin_client.post(f"/admin/insights/insight/{insight.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Insight.objects.get(pk=insight.pk).markdown == insight.markdown
