"""How the backend names a person (`core.admin.user_text`)."""


def test_a_person_reads_with_the_brackets_of_the_page_language():
    from django.utils import translation

    from fenxiao.core.admin import user_text
    from fenxiao.customers.models import User

    member = User(username="u1", phone="13800000001", nickname="小王")
    assert user_text(member, full_phone=False) == "小王（138****0001）"
    with translation.override("en"):
        assert user_text(member, full_phone=False) == "小王 (138****0001)"
