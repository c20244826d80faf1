"""Demo staff (one per role) and buyers with their address books."""

from dataclasses import dataclass

from django.contrib.auth.models import Group

from fenxiao.customers.models import User
from fenxiao.customers.services.accounts import create_buyer
from fenxiao.customers.services.addresses import save_address
from fenxiao.customers.services.staff import FINANCE, OPERATIONS, ensure_staff_groups

# username, password, nickname, role group ("" for the superuser)
STAFF = [
    ("admin", "admin123456", "店长", ""),
    ("yunying", "yunying123456", "运营小周", OPERATIONS),
    ("caiwu", "caiwu123456", "财务老陈", FINANCE),
]

BUYER_PASSWORD = "buyer123456"
# phone, nickname, addresses as (recipient, phone, province, city, district, detail)
BUYERS = [
    (
        "13800000001",
        "爱吃橘子的猫",
        [
            ("林晓雨", "13800000001", "浙江省", "杭州市", "西湖区", "文三路478号华星时代广场A座1203室"),
            ("林晓雨", "13800000001", "浙江省", "杭州市", "余杭区", "文一西路969号（公司前台代收）"),
        ],
    ),
    (
        "13800000002",
        "周末去爬山",
        [
            ("陈浩", "13800000002", "上海市", "上海市", "浦东新区", "张江路88弄5号602室"),
        ],
    ),
    (
        "13800000003",
        "一颗柠檬",
        [
            ("张婷", "13800000003", "广东省", "深圳市", "南山区", "粤海街道科技园南区R2-B栋8楼"),
            ("张桂兰", "13912340003", "湖南省", "长沙市", "岳麓区", "枫林三路168号3栋502"),
        ],
    ),
    (
        "13800000004",
        "老王不忙",
        [
            ("王建国", "13800000004", "北京市", "北京市", "朝阳区", "望京街10号望京SOHO T2座1508"),
        ],
    ),
    (
        "13800000005",
        "奶茶续命中",
        [
            ("刘思琪", "13800000005", "四川省", "成都市", "武侯区", "天府大道中段666号希顿广场C座2106"),
            ("刘思琪", "13800000005", "四川省", "成都市", "锦江区", "红星路三段1号（丰巢快递柜）"),
        ],
    ),
]
ADDRESS_FIELDS = ("recipient", "phone", "province", "city", "district", "detail")


@dataclass(frozen=True)
class Account:
    role: str
    login: str
    password: str
    created: bool  # False: the account was already there and was left untouched


@dataclass
class People:
    admin: User
    operations: User
    finance: User
    buyers: list[User]
    accounts: list[Account]


def create_people() -> People:
    ensure_staff_groups()
    staff, accounts = {}, []
    for username, password, nickname, role in STAFF:
        staff[username], created = _staff(username, password, nickname, role)
        accounts.append(Account(role or "超级管理员", username, password, created))
    buyers = []
    for phone, nickname, addresses in BUYERS:
        buyer = User.objects.filter(phone=phone).first()
        created = buyer is None
        if created:
            buyer = create_buyer(phone=phone, password=BUYER_PASSWORD, nickname=nickname)
        if not buyer.addresses.exists():  # demo orders need somewhere to ship to
            for fields in addresses:
                save_address(buyer, dict(zip(ADDRESS_FIELDS, fields, strict=True)))
        accounts.append(Account("买家", phone, BUYER_PASSWORD, created))
        buyers.append(buyer)
    return People(staff["admin"], staff["yunying"], staff["caiwu"], buyers, accounts)


def _staff(username: str, password: str, nickname: str, role: str) -> tuple[User, bool]:
    existing = User.objects.filter(username=username).first()
    if existing is not None:
        return existing, False
    if not role:
        return User.objects.create_superuser(username, password=password, nickname=nickname), True
    user = User.objects.create_user(username, password=password, nickname=nickname, is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user, True
