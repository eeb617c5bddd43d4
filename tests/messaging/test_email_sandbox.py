"""A marketer's template reads the contact, the account and the campaign, nothing else, and
is told at save time what is wrong and on which line."""

import pytest

from messaging.channels.email import CompiledTemplate, html_to_text, template_data
from messaging.email.rendering import RenderError, render, template_check
from messaging.services import EmailTemplateError, email_template_create
from tests.factories import ContactFactory


def problems(source: str) -> list[str]:
    return [str(problem) for problem in template_check(source)]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{ settings.SECRET_KEY }}", "line 1: {{ settings.SECRET_KEY }}: “settings” cannot be read here"),
        ("Hi\n{{ contact.account.owner.password }}", "line 2: {{ contact.account.owner.password }}: "
         "the contact has no field “account”"),
        ("{{ contact.tags.all }}", "the contact has no field “tags”"),
        ("{{ contact.first_name.upper }}", "“contact.first_name” has no fields"),
        ("{{ contact.__class__ }}", "line 1: names beginning with an underscore cannot be read"),
        ("{{ contact._meta.db_table }}", "line 1: names beginning with an underscore cannot be read"),
        ("{% load static %}", "line 1: {% load %} is not available in e-mail templates"),
        ("a\nb\n{% include 'admin/base.html' %}", "line 3: {% include %} is not available"),
        ("{% extends 'admin/base.html' %}", "{% extends %} is not available"),
        ("{% debug %}", "{% debug %} is not available"),
        ("{{ contact|pprint }}", "there is no filter “pprint”"),
        ("{{ contact.first_name|safe }}", "there is no filter “safe”"),
        ("{{ contact.first_name|ljust:'99999999' }}", "there is no filter “ljust”"),
        ("{% if contact.first_name %}Hi", "line 1: {% if %} is never closed; add {% endif %}"),
        ("{{ contact.first_name|default:request.user }}", "“request” cannot be read here"),
        ("{% if user.is_superuser %}x{% endif %}", "“user” cannot be read here"),
        ("{% for c in contact.email %}{% for d in contact.email %}{% for e in contact.email %}x"
         "{% endfor %}{% endfor %}{% endfor %}", "line 1: the loops repeat more than 5,000 times in all"),
    ],
)  # fmt: skip
def test_what_a_template_may_not_do_is_refused_with_its_line(source, expected):
    found = problems(source)
    assert found and expected in found[0], found


def test_personalisation_reads_contact_account_and_campaign_fields_with_defaults():
    source = (
        '{{ contact.first_name|default:"there" }} at {{ account.name|default:"your company" }} '
        "({{ campaign.name }}, {{ contact.attributes.plan|upper }}) {% for l in 'ab' %}{{ l }}{% endfor %}"
    )
    assert problems(source) == []
    data = template_data(
        contact={
            "id": 1,
            "email": "x@example.org",
            "first_name": "",
            "attributes": {"plan": "pro", "n": [1]},
        },
        account=None,
        campaign_name="Spring",
    )
    assert render(source, data, autoescape=True) == "there at your company (Spring, PRO) ab"


def test_contact_values_are_escaped_in_html_and_a_model_instance_is_never_reachable():
    data = template_data(
        contact={"id": 1, "first_name": "<script>x</script>"}, account=None, campaign_name=""
    )
    assert render("{{ contact.first_name }}", data, autoescape=True) == "&lt;script&gt;x&lt;/script&gt;"
    assert all(isinstance(value, (str, int, dict, type(None))) for value in data["contact"].values())


@pytest.mark.django_db
def test_a_loop_that_runs_away_at_send_time_stops_with_an_error_instead_of_the_worker():
    contact = {"id": 1, "email": "x" * 200 + "@example.org"}
    compiled = CompiledTemplate(
        subject="Hi", text="{% for a in contact.email %}{% for b in contact.email %}.{% endfor %}{% endfor %}"
    )
    with pytest.raises(RenderError, match="the loops repeat more than 5,000 times"):
        compiled.render(template_data(contact=contact, account=None, campaign_name=""))


def test_the_plain_text_part_is_made_from_the_html():
    html = (
        "<html><head><style>p{color:red}</style></head><body>"
        '<div style="display:none">preheader</div><h1>Welcome&nbsp;Ada</h1><p>Line one<br>line two</p>'
        "<ul><li>First</li><li>Second</li></ul>"
        '<p><a href="https://example.com/x">Read more</a></p></body></html>'
    )
    assert html_to_text(html) == (
        "Welcome Ada\n\nLine one\nline two\n\n- First\n- Second\n\nRead more (https://example.com/x)\n"
    )


@pytest.mark.django_db
def test_saving_a_template_reports_each_problem_at_its_field_and_line(as_marketer):
    with pytest.raises(EmailTemplateError) as error:
        email_template_create(
            name="Broken",
            subject="Hi {{ contact.nme }}",
            html="<p>ok</p>\n<p>{{ contact.first_name|shout }}</p>",
        )
    assert error.value.errors[0][0] == "subject"
    assert "line 1: {{ contact.nme }}: the contact has no field “nme”" in error.value.errors[0][1]
    assert error.value.errors[1][0] == "html"
    assert error.value.errors[1][1].startswith("line 2: there is no filter “shout”")


@pytest.mark.django_db
def test_a_template_renders_for_a_real_contact_without_touching_its_model(
    as_marketer, django_assert_num_queries
):
    from messaging.services import email_template_preview

    template = email_template_create(
        name="Hello", subject="Hi {{ contact.first_name }}", html="<p>{{ account.name|default:'-' }}</p>"
    )
    contact = ContactFactory(first_name="Zoe")
    with django_assert_num_queries(1):  # the contact and its account, as plain values, in one query
        rendered = email_template_preview(template=template, contact=contact)
    assert rendered.subject == "Hi Zoe" and "<p>-</p>" in rendered.html


def test_the_parts_of_one_e_mail_share_nothing_a_part_sets_and_fixed_text_stays_as_written():
    compiled = CompiledTemplate(
        subject="{% firstof contact.first_name 'friend' as name %}Hi {{ name }}",
        preheader="  Thursday,   4 pm ",
        html="<p>[{{ name }}]</p>",
        layout="<html><body>{{ content }}<i>{{ preheader }}</i></body></html>",
    )
    data = template_data(contact={"id": 1, "first_name": "Ada"}, account=None, campaign_name="")

    rendered = compiled.render(data)

    assert (rendered.subject, rendered.preheader) == ("Hi Ada", "Thursday, 4 pm")
    assert rendered.html == "<html><body><p>[]</p><i>Thursday, 4 pm</i></body></html>"
    assert "[]" in rendered.text and "Ada" not in rendered.text


def test_a_template_is_compiled_once_for_the_same_sources_and_again_when_edited():
    from messaging.channels.email import compiled_for_sources

    first = compiled_for_sources("Hi {{ contact.first_name }}", "", "<p>One</p>", "", "")
    again = compiled_for_sources("Hi {{ contact.first_name }}", "", "<p>One</p>", "", "")
    edited = compiled_for_sources("Hi {{ contact.first_name }}", "", "<p>Two</p>", "", "")

    data = template_data(contact={"id": 1, "first_name": "Ada"}, account=None, campaign_name="")
    assert again is first and edited is not first
    assert "Two" in edited.render(data).html and "One" in first.render(data).html
