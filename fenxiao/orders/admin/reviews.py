"""商品评价 on the backend: every review with its stars, text, buyer and order, filtered by
rating, 隐藏, 商家回复 and date, searched by product name or order number; on a review,
隐藏 (with a reason, kept), 取消隐藏 and 回复, each through the reviews service."""

from django import forms
from django.contrib import admin, messages
from django.db.models import Q
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from unfold.admin import ModelAdmin
from unfold.decorators import action, display

from fenxiao.core.admin import ChangedByServicesOnly, DetailActionsMixin
from fenxiao.core.admin_exports import ExportMixin
from fenxiao.core.admin_forms import LocalDateRangeFilter, confirm_action, form_action, posted
from fenxiao.core.errors import DomainError

from ..models import MAX_TEXT, ProductReview
from ..services import reviews
from .common import ReasonForm, buyer_text, full_phones, label, link, with_phone_flag


class ReplyForm(forms.Form):
    reply = forms.CharField(label=gettext_lazy("商家回复"), max_length=MAX_TEXT, widget=forms.Textarea)


class HasReplyFilter(admin.SimpleListFilter):
    title = gettext_lazy("商家回复")
    parameter_name = "replied"

    def lookups(self, request, model_admin):
        return [("yes", _("已回复")), ("no", _("未回复"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.exclude(reply="")
        if self.value() == "no":
            return queryset.filter(reply="")
        return queryset


class ReviewExports(ExportMixin):
    export = reviews.EXPORT


@admin.register(ProductReview)
class ProductReviewAdmin(ReviewExports, ChangedByServicesOnly, DetailActionsMixin, ModelAdmin):
    missing_message = gettext_lazy("评价不存在")
    list_display = (
        "product_display",
        "stars_display",
        "text_short",
        "buyer_display",
        "order_link",
        "shown_label",
        "reply_short",
        "created_at",
    )
    list_filter = ("rating", "is_hidden", HasReplyFilter, ("created_at", LocalDateRangeFilter))
    list_filter_submit = True
    search_fields = ("order_line__product_name", "=order__number")
    search_help_text = gettext_lazy("按商品名称或完整订单号搜索")
    list_select_related = ("order_line", "order", "buyer")
    show_full_result_count = False
    fields = (
        "product_display",
        "spec_display",
        "stars_display",
        "text",
        "buyer_display",
        "order_link",
        "created_at",
        "shown_label",
        "hidden_reason",
        "hidden_at",
        "hidden_by",
        "reply",
        "replied_at",
        "replied_by",
    )
    readonly_fields = fields
    actions_detail = ("hide_review", "unhide_review", "reply_review")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_moderate_permission(self, request, obj=None):
        return request.user.has_perm("orders.change_productreview")

    def get_queryset(self, request):
        queryset = (
            super()
            .get_queryset(request)
            .select_related("order_line", "order", "buyer", "hidden_by", "replied_by")
        )
        return with_phone_flag(queryset, request)

    def get_search_results(self, request, queryset, search_term):
        # A product name matches anywhere in it; an order number only whole (an index read).
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(Q(order_line__product_name__icontains=term) | Q(order__number=term)), False

    @display(description=gettext_lazy("商品"), ordering="order_line__product_name")
    def product_display(self, obj):
        return obj.order_line.product_name

    @display(description=gettext_lazy("规格"))
    def spec_display(self, obj):
        return obj.order_line.spec_text or "-"

    @display(description=gettext_lazy("评分"), ordering="rating")
    def stars_display(self, obj):
        return obj.stars

    @display(description=gettext_lazy("评价内容"))
    def text_short(self, obj):
        return Truncator(obj.text).chars(40) or "-"

    @display(description=gettext_lazy("买家"))
    def buyer_display(self, obj):
        return buyer_text(obj.buyer, full_phones(obj))

    @display(description=gettext_lazy("订单"))
    def order_link(self, obj):
        return link(obj.order, obj.order.number)

    @display(description=gettext_lazy("状态"), ordering="is_hidden")
    def shown_label(self, obj):
        if obj.is_hidden:
            return label(_("已隐藏"), "danger")
        return label(_("显示中"), "success")

    @display(description=gettext_lazy("商家回复"))
    def reply_short(self, obj):
        return Truncator(obj.reply).chars(30) or "-"

    def _summary(self, review: ProductReview) -> list[tuple[str, str]]:
        return [
            (_("商品"), f"{review.order_line.product_name} {review.order_line.spec_text}".strip()),
            (_("评分"), review.stars),
            (_("评价内容"), review.text or "-"),
            (_("订单"), review.order.number),
        ]

    def detail_actions_for(self, review):
        return {"unhide_review" if review.is_hidden else "hide_review", "reply_review"}

    @action(
        description=gettext_lazy("隐藏"), url_path="hide", permissions=["moderate"], icon="visibility_off"
    )
    def hide_review(self, request, object_id):
        review = self.object_or_404(request, object_id)
        form = ReasonForm(posted(request))
        form.fields["reason"].label = _("隐藏原因")
        form.fields["reason"].help_text = _(
            "如辱骂、广告、泄露隐私；隐藏后买家看不到，也不计入评价数和好评率"
        )
        return form_action(
            self,
            request,
            review,
            form,
            lambda data: reviews.hide(review, request.user, data["reason"]),
            success=_("评价已隐藏"),
            title=_("隐藏评价"),
            summary=self._summary(review),
            submit_label=_("确认隐藏"),
            danger=True,
        )

    @action(
        description=gettext_lazy("取消隐藏"), url_path="unhide", permissions=["moderate"], icon="visibility"
    )
    def unhide_review(self, request, object_id):
        review = self.object_or_404(request, object_id)
        return confirm_action(
            self,
            request,
            review,
            lambda: self._unhide(request, review),
            title=_("取消隐藏评价"),
            summary=[*self._summary(review), (_("隐藏原因"), review.hidden_reason or "-")],
            submit_label=_("取消隐藏"),
        )

    def _unhide(self, request, review):
        try:
            reviews.unhide(review, request.user)
        except DomainError as refusal:
            messages.error(request, refusal.message)
        else:
            messages.success(request, _("评价已恢复显示"))

    @action(description=gettext_lazy("回复"), url_path="reply", permissions=["moderate"], icon="reply")
    def reply_review(self, request, object_id):
        review = self.object_or_404(request, object_id)
        form = ReplyForm(posted(request), initial={"reply": review.reply})
        return form_action(
            self,
            request,
            review,
            form,
            lambda data: reviews.reply(review, request.user, data["reply"]),
            success=_("回复已发布，显示在评价下方"),
            title=_("回复评价"),
            summary=self._summary(review),
            submit_label=_("发布回复"),
        )
