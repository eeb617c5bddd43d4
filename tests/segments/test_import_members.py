import pytest
from django.core.management import CommandError, call_command

from ledger.models import Action
from segments import services
from segments.models import Membership
from tests.factories import ContactFactory


def test_a_file_puts_known_contacts_on_a_static_list(as_marketer, tmp_path, capsys):
    # given
    ContactFactory(email="anne@example.net")
    ContactFactory(email="bert@example.net")
    guests = services.segment_create(name="Guests", kind="static")
    services.static_members_add(segment=guests, contact_ids=ContactFactory._meta.model.objects.filter(
        email="bert@example.net").values_list("pk", flat=True))  # fmt: skip
    file = tmp_path / "guests.csv"
    file.write_text(
        "Name;email\nAnne;ANNE@example.net\nBert;bert@example.net\nZoe;zoe@example.net\nX;not-an-address\n"
    )

    # when
    call_command("import_segment_members", "guests", str(file), "--as", "maya")

    # then
    out, err = capsys.readouterr()
    assert out.strip() == "added 1, already on the list 1, unknown 1, rejected 1"
    assert "no contact has these addresses: zoe@example.net" in err
    assert "line 5: email:" in err
    assert set(Membership.objects.values_list("contact__email", flat=True)) == {
        "anne@example.net",
        "bert@example.net",
    }
    assert Action.objects.filter(verb="segment.entered", actor_kind="manual").count() == 2


def test_only_a_static_list_takes_a_file(as_marketer, tmp_path):
    services.segment_create(name="French", conditions={"field": "country", "op": "eq", "value": "FR"})
    file = tmp_path / "x.csv"
    file.write_text("email\nanne@example.net\n")
    with pytest.raises(CommandError, match="only static lists take members"):
        call_command("import_segment_members", "french", str(file))
    with pytest.raises(CommandError, match="no segment has the slug 'nope'"):
        call_command("import_segment_members", "nope", str(file))
