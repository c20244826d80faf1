"""The order list's search by words (names, products, notes: `order_list.word_search`) is a
union of one lookup per table, served on PostgreSQL by trigram indexes where pg_trgm can
serve the word, and finds exactly the orders the OR over every field (as it was before,
`every_field` below) found."""

import pytest
from django.core.checks import run_checks
from django.db import connection
from django.db.models import Exists, OuterRef, Q
from django.test.utils import CaptureQueriesContext

from fenxiao.distribution.tests.helpers import bound_buyer, buy, make_distributor, place
from fenxiao.orders.admin import order_list
from fenxiao.orders.models import Order, OrderLine, Parcel
from fenxiao.orders.services import lifecycle, shipments
from fenxiao.testing import make_address, make_buyer, make_product, make_staff

pytestmark = pytest.mark.django_db

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="trigram indexes: PostgreSQL")


def every_field(term: str) -> Q:
    """The search's condition for one word before the union (the reference it must match)."""
    condition = (
        Q(number=term)
        | Q(buyer__phone__contains=term)
        | Q(recipient_phone__contains=term)
        | Q(recipient__icontains=term)
        | Q(tracking_number__iexact=term)
        | Q(Exists(OrderLine.objects.filter(order=OuterRef("pk"), product_name__icontains=term)))
        | Q(attribution__level1__real_name__icontains=term)
        | Q(attribution__level1__user__nickname__icontains=term)
        | Q(attribution__level1__user__phone__contains=term)
        | Q(attribution__level1__referral_code__iexact=term)
        | Q(merchant_note__icontains=term)
    )
    return condition | Q(Exists(Parcel.objects.filter(order=OuterRef("pk"), tracking_number__iexact=term)))


def old_search(search_term: str) -> set[int]:
    queryset = Order.objects.all()
    for term in search_term.split():
        queryset = queryset.filter(every_field(term))
    return set(queryset.values_list("pk", flat=True))


def new_search(search_term: str) -> set[int]:
    return set(order_list.search(Order.objects.all(), search_term).values_list("pk", flat=True))


@pytest.fixture
def shop():
    staff = make_staff(superuser=True)
    seller = make_distributor()
    seller.real_name = "司马建国"
    seller.save(update_fields=["real_name"])
    seller.user.nickname = "Lily的小店"
    seller.user.save(update_fields=["nickname"])
    products = [
        make_product(name, price=1000 + i).skus.get()
        for i, name in enumerate(
            ["西湖龙井茶叶礼盒", "纯棉圆领T恤", "陶瓷马克杯", "iPhone15手机壳", "100%纯棉_毛巾", "A4纸"]
        )
    ]
    recipients = ["张三", "欧阳美玲", "Lily Wang", "李四", "王小二"]
    orders = []
    for i in range(12):
        buyer = bound_buyer(seller) if i % 3 == 0 else make_buyer()
        make_address(buyer, recipient=recipients[i % 5], phone=f"1365555{i:04d}")
        items = [(products[i % 6], 1)] + ([(products[(i + 2) % 6], 2)] if i % 2 else [])
        order = buy(buyer, *items) if i % 4 else place(buyer, *items)
        orders.append(order)
    Order.objects.filter(pk=orders[1].pk).update(merchant_note="加急 送小样")
    Order.objects.filter(pk=orders[2].pk).update(merchant_note="客户要求周末送达, 50%定金")
    lifecycle.ship(orders[5], staff, carrier="shunfeng", tracking_number="SF1000000077")
    two = orders[7]
    line = two.lines.first()
    shipments.ship_parcel(two, staff, carrier="yuantong", tracking_number="YT9000000077", lines={line.pk: 1})
    return {"orders": orders, "seller": seller}


WORDS = [
    "茶叶",  # 2 CJK characters: no trigram
    "龙井茶叶礼盒",
    "马克杯",
    "iphone15",  # case-blind
    "IPHONE",
    "T恤",
    "A4",  # 2 ASCII characters
    "a4纸",
    "100%",  # LIKE's wildcards are matched as typed
    "%纯棉_",
    "_",
    "张三",
    "欧阳美玲",
    "lily",  # a recipient and a distributor's nickname
    "wang",
    "司马建国",
    "建国",
    "小店",
    "加急",
    "周末送达",
    "50%定金",
    "sf1000000077",  # a waybill among other words is still any field's
    "yt9000000077",
    "5555",  # part of a phone
    "13655550003",
    "0003",
    "55",  # one or two digits: the OR over every field
    "7",
    "不存在",
    "zzz",
    "王",
    "李",
]
SEARCHES = WORDS + [
    "张三 茶叶",
    "纯棉 加急",
    "lily 马克杯",
    "王 茶叶 礼盒",
    "茶叶 不存在",
    "5555 欧阳美玲 A4",
    "7 欧阳美玲",
    "  马克杯   T恤  ",
]


def test_words_find_the_same_orders_as_the_search_over_every_field(shop):
    found_any = 0
    for term in SEARCHES:
        expected = old_search(term)
        assert new_search(term) == expected, term
        found_any += bool(expected)
    assert found_any > len(SEARCHES) // 2  # the fixture matches most words
    # The seller's code and phone, whole, as one word of several.
    seller = shop["seller"]
    for term in (
        f"{seller.referral_code.lower()} 龙井",
        f"{seller.user.phone} iphone",
        f"{shop['orders'][3].number} A4纸",
    ):
        assert new_search(term) == old_search(term) != set(), term


def test_many_matches_stay_a_subquery_with_the_same_orders(shop, monkeypatch):
    monkeypatch.setattr(order_list, "MAX_INDEXED_IDS", 2)
    monkeypatch.setattr(order_list, "MAX_LISTED_IDS", 3)
    for term in ("纯棉", "茶叶", "lily", "张三 茶叶", "王 T恤", "1365555"):
        assert new_search(term) == old_search(term), term


def test_a_word_is_looked_up_table_by_table_not_as_one_or_over_the_joins(shop):
    """One OR across orders, lines and distributors read every order with its joins: 1.3–6 s a
    page at 200,000 orders on PostgreSQL."""
    with CaptureQueriesContext(connection) as queries:
        assert new_search("马克杯")
    reads = [q["sql"] for q in queries.captured_queries]
    assert any(" UNION ALL " in sql for sql in reads)
    assert not any("EXISTS" in sql for sql in reads), reads


def plan(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql)
        return "\n".join(row[0] for row in cursor)


def union_plan(term: str) -> str:
    with CaptureQueriesContext(connection) as queries:
        order_list.word_search(term)
    return plan(next(q["sql"] for q in queries.captured_queries if " UNION ALL " in q["sql"]))


@postgres_only
@pytest.mark.parametrize("term", ["iphone15", "马克杯", "客户要求"])
def test_a_word_with_trigrams_reads_the_trigram_indexes(shop, term):
    if not term.isascii() and not order_list.trigram_letters():
        pytest.skip("LC_CTYPE is C here: pg_trgm reads no trigram from CJK text")
    shown = union_plan(term)
    assert "orderline_product_name_trgm" in shown and "order_recipient_trgm" in shown, shown
    assert "order_merchant_note_trgm" in shown, shown


@postgres_only
@pytest.mark.parametrize("term", ["茶叶", "A4", "张三"])
def test_a_word_without_trigrams_never_scans_a_whole_trigram_index(shop, term):
    """pg_trgm extracts nothing from two characters: a GIN scan would read the whole index."""
    shown = union_plan(term)
    assert "_trgm" not in shown, shown
    assert "strpos" in shown


@postgres_only
def test_the_indexes_exist_on_the_expressions_icontains_compares(shop):
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE indexname LIKE '%%_trgm'")
        indexes = dict(cursor.fetchall())
    assert "upper((product_name)::text) gin_trgm_ops" in indexes["orderline_product_name_trgm"]
    assert "upper((recipient)::text) gin_trgm_ops" in indexes["order_recipient_trgm"]
    assert not run_checks(databases=["default"], tags=["database"])


@postgres_only
def test_missing_indexes_are_warned_about(shop):
    with connection.cursor() as cursor:
        cursor.execute('DROP INDEX "order_merchant_note_trgm"')
    (warning,) = [m for m in run_checks(databases=["default"], tags=["database"]) if m.id == "fenxiao.W020"]
    assert "order_merchant_note_trgm" in warning.msg and "CREATE EXTENSION pg_trgm" in warning.hint
    # Still the same orders.
    assert new_search("周末送达") == old_search("周末送达") != set()


def test_the_page_reads_the_ids_of_a_search_once(boss, shop):
    """The list's rows and count, then the tab counts, each filter by the search: the ids the
    words find are read for the first and reused by the others."""
    from django.urls import reverse

    with CaptureQueriesContext(connection) as queries:
        body = boss.get(reverse("admin:orders_order_changelist"), {"q": "纯棉 张三"}).content.decode()
    expected = Order.objects.filter(pk__in=old_search("纯棉 张三"))
    assert expected and all(order.number in body for order in expected)
    unions = [q["sql"] for q in queries.captured_queries if " UNION ALL " in q["sql"]]
    assert len(unions) == 2, unions  # one per word


@postgres_only
def test_the_check_passes_on_a_database_not_migrated_yet(shop):
    """`migrate` runs the checks before its first migration: no migration table yet."""
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE django_migrations RENAME TO django_migrations_away")
    assert not [m for m in run_checks(databases=["default"], tags=["database"]) if m.id == "fenxiao.W020"]


@postgres_only
def test_the_indexes_can_be_built_by_hand_once_the_extension_exists(shop):
    import importlib

    migration = importlib.import_module("fenxiao.orders.migrations.0019_search_trigram_indexes")
    with connection.cursor() as cursor:
        # The fixture's deferred foreign-key checks, run now: no index is built over pending ones.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute('DROP INDEX "orderline_product_name_trgm"')
    assert [m.id for m in run_checks(databases=["default"], tags=["database"])] == ["fenxiao.W020"]
    assert migration.create_indexes() is True
    assert not run_checks(databases=["default"], tags=["database"])
