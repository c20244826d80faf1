"""Distributor center API: profile (with 满足条件 progress), application, dashboard,
commission "why", team, rankings, ledger, withdrawals and missing-order claims."""

from datetime import datetime

from django.http import HttpResponse
from ninja import Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import ConfigDict, Field

from fenxiao.core.money import format_fen
from fenxiao.core.pagination import MAX_PAGE_SIZE, Pagination
from fenxiao.customers.auth import buyer_auth

from .errors import NotADistributor
from .models import OrderClaim, TouchSource, Withdrawal
from .paging import MAX_ID, KeysetPagination, page_before
from .services import (
    agreement,
    binding,
    claims,
    condition,
    config,
    dashboard,
    distributors,
    ledger,
    miniprogram_code,
    my_customers,
    payouts,
    sharing,
    withdrawals,
)

router = Router(tags=["分销中心"], auth=buyer_auth)


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class ConditionProductOut(Schema):
    id: int
    name: str
    price: int = Field(description="售价（分）")
    url: str = Field(description="商品页（H5 路径）")


class ConditionOut(Schema):
    """满足条件: what the condition is and how far the buyer is (counted after receipt)."""

    kind: str = Field(
        description="lifetime_spend 累计消费 / completed_orders 完成订单数 / bought_products 购买指定商品"
    )
    target: int = Field(description="目标：累计消费（分）、完成订单数，或 1（任一指定商品）")
    done: int = Field(description="已达到：已消费（分，扣除退款）、已完成订单数，或已购买的指定商品数")
    left: int = Field(description="还差多少（同 target 的单位）")
    percent: int = Field(description="进度 0–100")
    met: bool = Field(description="已满足条件（可直接申请）")
    headline: str = Field(description="条件说明，如“累计消费满 ¥500.00 即可成为分销商”")
    detail: str = Field(description="进度说明，如“已消费 ¥320.00，还差 ¥180.00”")
    note: str = Field(description="计入规则（确认收货后计入）")
    products: list[ConditionProductOut] = Field(description="购买指定商品：在售的几件指定商品")


class AgreementOut(Schema):
    """分销商协议: the version in force, its text, and where the H5 page shows it."""

    version: int = Field(description="当前协议版本号；申请时作为 agreed_version 提交")
    text: str = Field(description="协议全文（纯文本，空行分段）")
    url: str = Field(description="协议的 H5 页面路径")
    published_at: datetime
    required: bool = Field(description="申请时须同意协议：申请必须提交 agreed_version")


class ProfileOut(Schema):
    is_distributor: bool
    id: int | None = Field(default=None, description="分销商 ID（尚未申请时为空）")
    status: str | None = None
    status_display: str | None = None
    grade: str | None = None
    referral_code: str | None = None
    referral_link: str | None = None
    parent_name: str | None = None
    reject_reason: str = ""
    enable_mode: str
    can_apply: bool
    real_name_required: bool
    condition: ConditionOut | None = Field(
        default=None, description="满足条件模式下、可申请时：条件与当前进度；其余为空"
    )
    agreement: AgreementOut | None = Field(default=None, description="分销商协议；本店未发布协议时为空")
    agreed_version: int | None = Field(default=None, description="该分销商已同意的协议版本；未同意为空")
    agreed_at: datetime | None = Field(default=None, description="同意协议的时间")
    needs_agreement: bool = Field(
        default=False, description="尚未同意当前版本：展示协议并调用 POST /agreement（不影响佣金与提现）"
    )


class ApplyIn(Strict):
    real_name: str = Field(default="", max_length=40)
    note: str = Field(default="", max_length=200)
    agreed_version: int | None = Field(
        default=None, ge=1, le=2**31 - 1, description="已阅读并同意的协议版本（须同意协议时必填）"
    )


class AgreeIn(Strict):
    version: int = Field(ge=1, le=2**31 - 1, description="同意的协议版本（profile.agreement.version）")


class BindIn(Strict):
    code: str = Field(max_length=12)
    source: str = Field(default=TouchSource.LINK, pattern="^(link|qr|poster|store|coupon)$")


class TouchOut(Schema):
    decision: str
    decision_display: str
    rule: str
    reason: str
    distributor_code: str

    @staticmethod
    def resolve_decision_display(obj):
        return obj.get_decision_display()

    @staticmethod
    def resolve_distributor_code(obj):
        return obj.distributor.referral_code


class DashboardOut(Schema):
    bound_buyers: int
    team_direct: int
    team_indirect: int
    orders: int
    sales: int
    commission_pending: int
    commission_frozen: int
    commission_estimated: int
    commission_available: int
    commission_withdrawn: int
    commission_total: int


class CommissionOut(Schema):
    id: int
    order_number: str = Field(description="订单号；门店收银的佣金为“门店收银 <门店> 单号 <单号>”")
    offline: bool = Field(description="来自门店收银（收银系统上报的会员消费），没有线上订单")
    product_name: str
    level: int
    status: str
    status_display: str
    base: int
    discount_share: int
    rule_source: str
    rule_kind: str
    rate_bp: int
    fixed_per_unit: int
    quantity: int
    bonus_bp: int
    team_bp: int
    rule_version: int
    rule_name: str
    amount: int
    reversed_amount: int
    net_amount: int
    frozen_until: datetime | None
    under_review: bool = Field(description="风控审核中：暂不结算，商家审核放行后照常结算，作废则取消")
    created_at: datetime
    why: str

    @staticmethod
    def resolve_order_number(obj):
        # A till sale's commission has no order: the sale's label stands in for the number.
        return obj.offline_label if obj.is_offline else obj.order.number

    @staticmethod
    def resolve_product_name(obj):
        return obj.item_label

    @staticmethod
    def resolve_offline(obj):
        return obj.is_offline

    @staticmethod
    def resolve_status_display(obj):
        return obj.get_status_display()

    @staticmethod
    def resolve_discount_share(obj):
        return 0 if obj.is_offline else obj.order_line.discount_share

    @staticmethod
    def resolve_rule_name(obj):
        return dashboard.rule_name(obj)

    @staticmethod
    def resolve_why(obj):
        return dashboard.why(obj)


class MemberOut(Schema):
    id: int
    name: str
    grade: str
    joined_at: datetime | None
    sales: int
    orders: int
    members: int


class CustomerOut(Schema):
    id: int = Field(description="客户关系编号（翻页用）")
    name: str = Field(description="客户昵称，无昵称时为打码的手机号")
    source: str
    source_display: str = Field(description="绑定来源：推广链接 / 二维码 / 海报 / 门店码 / 优惠券 …")
    bound_at: datetime
    expires_at: datetime | None = Field(description="绑定失效时间（绑定有效期模式），永久绑定为空")
    orders: int = Field(description="通过您付款的订单数")
    spent: int = Field(description="这些订单的实付金额（分），已扣除退款")
    last_paid_at: datetime | None


class CustomerPageOut(Schema):
    items: list[CustomerOut]
    next: int | None = Field(None, description="下一页的 before 参数；为空表示没有更多记录")


class CustomerQuery(Schema):
    before: int | None = Field(None, ge=1, le=MAX_ID, description="上一页返回的 next（首页不传）")
    page_size: int = Field(20, ge=1, le=MAX_PAGE_SIZE)


class RankOut(Schema):
    rank: int
    distributor_id: int
    name: str
    grade: str
    value: int


class LedgerOut(Schema):
    id: int
    kind: str
    kind_display: str
    amount: int
    note: str = Field(description="说明，系统写入的按请求的语言（Accept-Language）显示")
    created_at: datetime
    balance_after: int = Field(description="记入这笔后的余额（分）")
    commission_id: int | None = Field(description="佣金结算、退款追回：所属佣金 ID")
    order_number: str | None = Field(description="佣金结算、退款追回：订单号；门店收银的佣金为收银单")
    withdrawal_number: str | None = Field(description="提现冻结、提现退回：提现单号")

    @staticmethod
    def resolve_kind_display(obj):
        return obj.get_kind_display()

    @staticmethod
    def resolve_note(obj):
        return obj.note_text

    @staticmethod
    def resolve_order_number(obj):
        commission = obj.commission
        if commission is None:
            return None
        return commission.offline_label if commission.is_offline else commission.order.number

    @staticmethod
    def resolve_withdrawal_number(obj):
        return obj.withdrawal.number if obj.withdrawal_id else None


class LedgerPageOut(Schema):
    items: list[LedgerOut]
    next: int | None = Field(None, description="下一页的 before 参数；为空表示没有更多记录")


class WithdrawalIn(Strict):
    amount: int = Field(gt=0, description="提现金额（分）")
    method: str = Field(max_length=20)
    account: dict[str, str] = Field(default_factory=dict)


class WithdrawalOut(Schema):
    number: str
    amount: int
    fee: int
    payout: int
    method: str
    status: str
    status_display: str
    reject_reason: str
    failure_reason: str = Field(description="打款失败原因，系统写入的按请求的语言（Accept-Language）显示")
    payout_status: str = Field(
        description="自动打款进度：pending 待打款 / processing 打款中 / waiting 待到账 / succeeded 已到账 / "
        "failed 打款失败；空：人工打款或不经打款通道"
    )
    confirm_package: str = Field(
        validation_alias="payout_package",
        description="微信商家转账待收款人确认时的 package：在微信中调用 requestMerchantTransfer"
        "（mchId、appId 为商户的）确认收款，之后调用 …/confirmed",
    )
    created_at: datetime
    paid_at: datetime | None

    @staticmethod
    def resolve_status_display(obj):
        return obj.get_status_display()

    @staticmethod
    def resolve_failure_reason(obj):
        return obj.failure_reason_text


class RankingQuery(Schema):
    by: str = Field(default="sales", pattern="^(sales|commission)$")
    period: str = Field(default="month", pattern="^(week|month)$")


class CommissionQuery(Schema):
    status: str | None = Field(default=None, max_length=20)
    order: str | None = Field(default=None, max_length=32, description="订单号或订单 ID")


def _me(request):
    """The signed-in distributor, to earn, share, withdraw or see the team: active only."""
    distributor = distributors.for_user(request.user) or distributors.ensure_for_everyone_mode(request.user)
    if distributor is None or not distributor.is_active:
        raise NotADistributor()
    return distributor


def _me_reading(request):
    """The signed-in distributor reading their own money: a suspended distributor still
    sees their figures, commissions, ledger, balance and withdrawals."""
    distributor = distributors.for_user(request.user) or distributors.ensure_for_everyone_mode(request.user)
    if distributor is None or not distributor.sees_own_account:
        raise NotADistributor()
    return distributor


@router.get("/profile", response=ProfileOut)
def profile(request):
    cfg = config.current()
    distributor = distributors.for_user(request.user) or distributors.ensure_for_everyone_mode(request.user)
    base = {
        "enable_mode": cfg.enable_mode,
        "real_name_required": cfg.enable_mode == "apply" and cfg.require_real_name,
        "can_apply": cfg.enable_mode in ("apply", "condition")
        and (distributor is None or distributor.status == "rejected"),
    }
    if base["can_apply"] and cfg.enable_mode == "condition":
        base["condition"] = condition.progress(request.user, cfg)
    terms = agreement.current(cfg)
    if terms is not None:
        base["agreement"] = {
            "version": terms.version,
            "text": terms.text,
            "url": agreement.PAGE,
            "published_at": terms.created_at,
            "required": cfg.agreement_required,
        }
    if distributor is None:
        return {**base, "is_distributor": False}
    return {
        **base,
        "agreed_version": distributor.agreement.version if distributor.agreement_id else None,
        "agreed_at": distributor.agreed_at,
        "needs_agreement": agreement.needs_agreement(distributor, cfg) is not None,
        "is_distributor": distributor.is_active,
        "id": distributor.pk,
        "status": distributor.status,
        "status_display": distributor.get_status_display(),
        "grade": distributor.grade.name if distributor.grade else None,
        "referral_code": distributor.referral_code,
        "referral_link": sharing.referral_url(distributor),
        "parent_name": distributor.parent.user.display_name if distributor.parent else None,
        "reject_reason": distributor.reject_reason,
    }


@router.post("/apply", response={201: ProfileOut})
def apply(request, payload: ApplyIn):
    """400 AGREEMENT_NOT_ACCEPTED without agreed_version when the shop asks for it; 409
    AGREEMENT_OUTDATED (details.current_version) when the merchant changed the terms since."""
    distributors.apply(
        request.user, real_name=payload.real_name, note=payload.note, agreed_version=payload.agreed_version
    )
    return Status(201, profile(request))


@router.post("/agreement", response=ProfileOut)
def agree(request, payload: AgreeIn):
    """A distributor agrees to the current 分销商协议 (those who joined without an application
    form). 409 AGREEMENT_OUTDATED if it changed meanwhile; 404 AGREEMENT_NOT_FOUND without one."""
    distributor = distributors.for_user(request.user)
    if distributor is None:
        raise NotADistributor()
    agreement.agree(distributor, payload.version)
    return profile(request)


@router.post("/bind", response=TouchOut)
def bind(request, payload: BindIn):
    """For apps and mini-programs: the referral code from a scanned QR code or shared card."""
    return binding.bind_by_code(request.user, payload.code, payload.source)


class MiniProgramCodeQuery(Schema):
    product_id: int | None = Field(default=None, ge=1, le=2**63 - 1, description="商品 ID；不传则为店铺首页")


@router.get(
    "/share/miniprogram-code",
    response={200: None},
    openapi_extra={
        "responses": {
            200: {
                "description": "小程序码（JPEG）",
                "content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def share_miniprogram_code(request, query: MiniProgramCodeQuery = Query(...)):
    """The distributor's 小程序码 for the shop or a listed product. Scanned, it opens the
    mini-program's share page (WECHAT_MINIPROGRAM_SHARE_PAGE) with `scene`
    `r=<referral code>[&p=<product id>]`: the mini-program sends the code to `POST /bind`
    (source `qr`) and opens the product. 400 WECHAT_MINIPROGRAM_NOT_CONFIGURED without a
    mini-program; 503 MINIPROGRAM_CODE_UNAVAILABLE when WeChat does not draw it."""
    drawn = miniprogram_code.image(_me(request), query.product_id)
    response = HttpResponse(drawn, content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=86400"
    return response


@router.get("/dashboard", response=DashboardOut)
def get_dashboard(request):
    return dashboard.figures(_me_reading(request))


@router.get("/commissions", response=list[CommissionOut])
@paginate(KeysetPagination, page_size=20)
def list_commissions(request, query: CommissionQuery = Query(...)):
    """Newest first, a page at a time: pass the reply's `next` as `before` for the next
    page (`next` is null on the last). `order` takes an order number or an order id."""
    qs = dashboard.commissions(_me_reading(request))
    if query.status:
        qs = qs.filter(status=query.status)
    if query.order:
        qs = dashboard.for_order(qs, query.order)
    return qs


@router.get("/team", response=list[MemberOut])
@paginate(Pagination, page_size=20)
def list_team(request, depth: int = Query(1, ge=1, le=2)):
    return _MemberPage(dashboard.team(_me(request), depth))


class _MemberPage:
    """Sliced by the paginator first, then decorated with stats for that page only."""

    def __init__(self, qs):
        self.qs = qs

    def count(self):
        return self.qs.count()

    def __len__(self):
        return self.count()

    def __getitem__(self, item):
        members = list(self.qs[item])
        stats = dashboard.member_stats(m.pk for m in members)
        return [
            {
                "id": m.pk,
                "name": m.user.display_name,
                "grade": m.grade.name if m.grade else "",
                "joined_at": m.activated_at,
                **stats[m.pk],
            }
            for m in members
        ]


@router.get("/customers", response=CustomerPageOut)
def list_customers(request, query: CustomerQuery = Query(...)):
    """我的客户: the buyers bound to me now, newest first, each with the orders they paid
    through me; pass the reply's `next` as `before` for the next page."""
    distributor = _me_reading(request)
    rows, cursor = page_before(my_customers.customers(distributor), query.before, query.page_size)
    return {"items": my_customers.page(distributor, rows), "next": cursor}


@router.get("/rankings", response=list[RankOut])
def rankings(request, query: RankingQuery = Query(...)):
    _me(request)
    return dashboard.ranking(query.by, query.period)


@router.get("/ledger", response=LedgerPageOut)
def list_ledger(request, query: KeysetPagination.Input = Query(...)):
    """资金明细: newest first, each entry with the balance after it; pass the reply's `next`
    as `before` for the next page."""
    distributor = _me_reading(request)
    rows, cursor = page_before(ledger.entries(distributor.pk), query.before, query.page_size or 20)
    ledger.balances(distributor.pk, rows)
    return {"items": rows, "next": cursor}


@router.get("/balance", response=dict)
def balance(request):
    available = ledger.balance(_me_reading(request).pk)
    return {"available": available, "available_display": format_fen(available)}


@router.get("/withdrawals", response=list[WithdrawalOut])
@paginate(Pagination, page_size=20)
def list_withdrawals(request):
    return Withdrawal.objects.filter(distributor=_me_reading(request)).order_by("-id")


@router.post("/withdrawals", response={201: WithdrawalOut})
def request_withdrawal(request, payload: WithdrawalIn):
    distributor = _me_reading(request)
    if not distributor.may_withdraw:  # suspended: reads, never withdraws
        raise NotADistributor()
    withdrawal = withdrawals.request(
        distributor, amount=payload.amount, method=payload.method, account=payload.account
    )
    return Status(201, withdrawal)


@router.post("/withdrawals/{number}/confirmed", response=WithdrawalOut)
def withdrawal_confirmed(request, number: str):
    """The distributor confirmed receipt in WeChat (requestMerchantTransfer answered ok):
    the transfer's outcome is asked for now rather than at the next check."""
    return payouts.confirmed_by_distributor(_me_reading(request), number)


@router.post("/payout-notify/{method}", auth=None, url_name="payout_notify", response={200: dict})
def payout_notify(request, method: str):
    """Where a payout service (WeChat 商家转账) delivers its signed notification of how a
    transfer ended. Answers SUCCESS once recorded (or already recorded), so it stops
    re-sending; a notification that does not verify is refused."""
    outcome = payouts.notified(method, {k.lower(): v for k, v in request.headers.items()}, request.body)
    return {"code": "SUCCESS", "message": "成功", "outcome": outcome}


# --- 掉单申诉 -------------------------------------------------------------------------------


class ClaimIn(Strict):
    order_number: str = Field(min_length=1, max_length=32, description="订单号")
    phone_tail: str = Field(pattern=r"^\d{4}$", description="买家或收货人手机号后四位")
    reason: str = Field(min_length=1, max_length=200, description="客户是如何通过你下单的")


class ClaimOut(Schema):
    id: int
    order_number: str = Field(validation_alias="order.number")
    reason: str
    status: str = Field(description="open 待处理 / approved 已改判 / rejected 已驳回")
    status_display: str
    note: str = Field(description="处理说明（驳回原因）；系统写入的按请求的语言（Accept-Language）显示")
    created_at: datetime
    decided_at: datetime | None

    @staticmethod
    def resolve_status_display(obj):
        return obj.get_status_display()

    @staticmethod
    def resolve_note(obj):
        return obj.note_text


@router.get("/claims", response=list[ClaimOut])
@paginate(Pagination, page_size=20)
def list_claims(request):
    """The distributor's missing-order claims, newest first."""
    return OrderClaim.objects.filter(distributor=_me_reading(request)).select_related("order").order_by("-id")


@router.post("/claims", response={201: ClaimOut})
def file_claim(request, payload: ClaimIn):
    """掉单申诉: an order the buyer placed through you that did not count for you. Staff
    review it; if they agree, the order and its commission move to you."""
    claim = claims.file(
        _me(request), order_number=payload.order_number, phone_tail=payload.phone_tail, reason=payload.reason
    )
    return Status(201, claim)
