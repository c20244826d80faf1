"""Demo store QR and 导购: the stores' settings, a 店长 and a 导购 per store (with their
personal store QR), a store-level 导购 rate and a few store members. Uses the demo stores
the pickup part adds, and creates two when there are none."""

from fenxiao.customers.models import User
from fenxiao.customers.services.accounts import create_buyer
from fenxiao.stores.models import BindTarget, MemberMode, MemberSource, Store
from fenxiao.stores.services import membership
from fenxiao.stores.services import staff as staff_service

from .people import BUYER_PASSWORD, Account, People

STORES = [
    (
        "西湖旗舰店",
        "浙江省",
        "杭州市",
        "西湖区",
        "北山街88号",
        "30.259",
        "120.148",
        "09:00-21:30",
        "0571-87000001",
    ),
    (
        "滨江天街店",
        "浙江省",
        "杭州市",
        "滨江区",
        "江汉路1515号天街B1层",
        "30.209",
        "120.212",
        "10:00-22:00",
        "0571-87000002",
    ),
]
# (phone, nickname) of each store's 店长 and 导购, in the order of the stores.
STAFF = [
    (("13800000101", "西湖店长阿梅"), ("13800000102", "导购小林")),
    (("13800000103", "滨江店长老孙"), ("13800000104", "导购小贝")),
]


def _user(phone: str, nickname: str, people: People) -> User:
    user = User.objects.filter(phone=phone).first()
    created = user is None
    if created:
        user = create_buyer(phone=phone, password=BUYER_PASSWORD, nickname=nickname)
    people.accounts.append(Account("门店员工", phone, BUYER_PASSWORD, created))
    return user


def setup_store_guides(people: People) -> list[Store]:
    cfg = membership.settings()
    cfg.member_mode, cfg.bind_target, cfg.override_binding = MemberMode.FIRST, BindTarget.STAFF, False
    cfg.save()
    stores = list(Store.objects.order_by("sort_order", "id")[: len(STAFF)])
    if not stores:
        for name, province, city, district, detail, lat, lng, hours, phone in STORES:
            stores.append(
                Store.objects.create(
                    name=name,
                    province=province,
                    city=city,
                    district=district,
                    address_detail=detail,
                    latitude=lat,
                    longitude=lng,
                    hours=hours,
                    phone=phone,
                )
            )
    for store, ((m_phone, m_name), (g_phone, g_name)) in zip(stores, STAFF, strict=False):
        manager = _user(m_phone, m_name, people)
        if store.manager_id is None:
            Store.objects.filter(pk=store.pk).update(manager=manager)
            store.manager = manager
        staff_service.add(store, m_phone, "manager")
        _user(g_phone, g_name, people)
        staff_service.add(store, g_phone, "guide", make_distributor=True)
        membership.store_distributor(store)
    Store.objects.filter(pk=stores[0].pk).update(guide_level1_bp=1200)  # 12% for 西湖's 导购
    first_guide = stores[0].staff.filter(role="guide").first()
    for buyer in people.buyers[:2]:
        membership.join(stores[0], buyer, MemberSource.STAFF_QR, first_guide)
    return stores
