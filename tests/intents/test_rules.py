import pytest

from intents.rules import BehaviourRuleSpec, TextRuleSpec, parse_conditions


def pricing_rule(**overrides):
    spec = {
        "rule_id": 1,
        "name": "Pricing pages",
        "intent_key": "compare",
        "kind": "page_view",
        "conditions": tuple(
            parse_conditions([{"property": "path", "operator": "starts_with", "value": "/pricing"}])
        ),
        "confidence": 0.8,
    }
    return BehaviourRuleSpec(**{**spec, **overrides})


def test_a_page_under_pricing_means_compare():
    match = pricing_rule().match(kind="page_view", properties={"path": "/pricing/enterprise"})
    assert match.intent_key == "compare"
    assert match.confidence == 0.8
    assert "path starts with '/pricing'" in match.explanation
    assert "Pricing pages" in match.explanation


@pytest.mark.parametrize(
    ("kind", "properties"),
    [("page_view", {"path": "/blog/pricing"}), ("form_submit", {"path": "/pricing"}), ("page_view", {})],
)
def test_a_behaviour_rule_needs_its_kind_and_every_condition(kind, properties):
    assert pricing_rule().match(kind=kind, properties=properties) is None


def test_a_rule_without_kind_matches_any_kind_and_the_operators_work():
    rule = pricing_rule(
        kind=None,
        conditions=tuple(
            parse_conditions(
                [
                    {"property": "plan", "operator": "in", "value": ["Pro", "Enterprise"]},
                    {"property": "utm_campaign", "operator": "contains", "value": "switch"},
                    {"property": "referrer", "operator": "exists"},
                    {"property": "country", "operator": "equals", "value": "fr"},
                ]
            )
        ),
    )
    facts = {"plan": "pro", "utm_campaign": "Q3-SWITCH-ads", "referrer": "g.co", "country": "FR"}
    assert rule.match(kind="ad_click", properties=facts) is not None
    assert rule.match(kind="ad_click", properties={**facts, "referrer": ""}) is None


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"property": "path"}, "conditions must be a list"),
        (["path"], r"conditions\[0\]: must be an object"),
        ([{"property": "", "value": 1}], r"conditions\[0\].property"),
        ([{"property": "path", "operator": "matches", "value": "x"}], "'matches' is not one of"),
        ([{"property": "plan", "operator": "in", "value": "pro"}], "needs a list"),
        ([{"property": "path", "operator": "equals"}], "needs a single value"),
        ([{"property": "path", "value": "/", "colour": "red"}], "unknown key 'colour'"),
    ],
)
def test_bad_conditions_are_refused_with_their_place(raw, message):
    with pytest.raises(ValueError, match=message):
        parse_conditions(raw)


def sick_rule(confirm="", veto=""):
    return TextRuleSpec.build(
        rule_id=7,
        name="Sick means great",
        intent_key="thrill_me",
        phrases="sick\nso good",
        confirm_words=confirm,
        veto_words=veto,
        window=4,
        confidence=0.7,
    )


def test_a_text_rule_matches_its_phrase_whatever_the_case_and_accents():
    match = sick_rule().match("That new flavour is SICK!!")
    assert match.intent_key == "thrill_me"
    assert "“sick”" in match.explanation
    assert sick_rule().match("so goodness gracious") is None  # a phrase is whole words
    assert sick_rule().match("Là, c'est SÓ GOOD") is not None
    assert (
        TextRuleSpec.build(
            rule_id=1,
            name="Café",
            intent_key="x",
            phrases="café crème",
            confirm_words="",
            veto_words="",
            window=3,
            confidence=1,
        ).match("Un CAFE Crème svp")
        is not None
    )


def test_a_veto_word_near_the_phrase_cancels_it():
    rule = sick_rule(veto="hospital\ndoctor")
    assert rule.match("my kid is sick, at the hospital") is None
    assert rule.vetoes("my kid is sick, at the hospital") == ["hospital"]
    # far enough away (outside the window of 4 words), the veto word does not count
    assert rule.match("sick drink, I told everyone at work and then the doctor called") is not None


def test_with_confirm_words_one_must_be_near():
    rule = sick_rule(confirm="drink\nflavour")
    assert rule.match("I feel sick today") is None
    match = rule.match("this drink is sick")
    assert "confirmed by “drink”" in match.explanation
