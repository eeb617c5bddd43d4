from django.contrib.auth.models import Group


def codenames(group_name: str) -> set[str]:
    return set(Group.objects.get(name=group_name).permissions.values_list("codename", flat=True))


def test_viewers_only_read(db):
    viewer = codenames("Viewer")
    assert {"view_contact", "view_account", "view_touchpoint", "view_action"} <= viewer
    assert not [code for code in viewer if not code.startswith("view_")]


def test_marketers_edit_contacts_but_not_configuration_or_the_ledger(db):
    marketer = codenames("Marketer")
    assert {"change_contact", "add_contact", "delete_contact", "add_touchpoint", "change_tag"} <= marketer
    assert "change_touchpointkind" not in marketer
    assert "change_action" not in marketer
    assert "add_user" not in marketer


def test_admins_manage_users_and_configuration(db):
    admin = codenames("Admin")
    assert {"add_user", "change_group", "change_touchpointkind", "change_contact"} <= admin
