import json

from playwright.sync_api import expect

from segments.models import Membership, Segment
from tests.browser.conftest import ARTIFACTS, log_in
from tests.factories import ContactFactory, TouchpointFactory


def test_a_marketer_builds_a_nested_segment_sees_the_count_and_saves_it(
    page, marketer, celery_eager, django_capture_on_commit_callbacks
):
    # given French, Belgian and German contacts; one French contact clicked an e-mail
    anne = ContactFactory(email="anne@example.net", first_name="Anne", country="FR")
    ContactFactory(email="bert@example.net", first_name="Bert", country="BE")
    ContactFactory(email="dora@example.net", first_name="Dora", country="DE")
    TouchpointFactory(contact=anne, kind_id="email_click", channel="email")

    # when she starts a segment: the first rule is the country, France
    log_in(page, "maya")
    page.goto("/admin/segments/segment/add/")
    page.fill("#id_name", "Engaged Europeans")
    count = page.locator("#rb-count")
    expect(count).to_have_text("3")  # no rule yet: everyone
    page.click(".rb-add-rule")
    page.select_option(".rb-node >> nth=0 >> select[aria-label=value]", "FR")
    expect(count).to_have_text("1")

    # and widens it with a nested group: FR, or (BE and not DE)
    page.select_option("select[aria-label='combine the rules'] >> nth=0", "any")
    page.click(".rb-add-group >> nth=0")
    inner = page.locator(".rb-group .rb-group").first
    inner.locator(".rb-add-rule").click()
    inner.locator("select[aria-label=value]").select_option("BE")
    expect(count).to_have_text("2")
    expect(page.locator("#rb-explanation")).to_have_text("Country is FR or country is BE")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "rule-builder.png", full_page=True)

    # and a mistake is shown next to the rule at fault
    page.click("#rb-json-button")
    page.fill(
        "#id_conditions",
        json.dumps(
            {
                "all": [
                    {"field": "country", "op": "eq", "value": "FR"},
                    {"touchpoint": {"kind": "email_click"}, "within": "3x"},
                ]
            }
        ),
    )
    page.locator("#id_conditions").dispatch_event("change")
    expect(page.locator(".rb-error")).to_contain_text("expected a duration like '30d'")
    page.locator(".rb-node >> nth=1 >> select[aria-label=when]").select_option("ever")
    expect(count).to_have_text("1")

    # when she saves it
    with django_capture_on_commit_callbacks(execute=True):
        page.click("input[name=_continue]")

    # then the segment holds its members and lists them
    expect(page.locator("#segment-members")).to_contain_text("anne@example.net")
    segment = Segment.objects.get(name="Engaged Europeans")
    assert segment.conditions == {
        "all": [{"field": "country", "op": "eq", "value": "FR"}, {"touchpoint": {"kind": "email_click"}}]
    }
    assert list(Membership.objects.filter(segment=segment).values_list("contact__email", flat=True)) == [
        "anne@example.net"
    ]
    chart = "Chart.getChart(document.getElementById('segment-sizes-chart'))"
    sizes = page.evaluate(f"{chart}.data.datasets[0].data")
    assert sizes == [1]
    page.screenshot(path=ARTIFACTS / "rule-builder-saved.png", full_page=True)
