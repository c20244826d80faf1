"""The forms behind the order page's actions (改价, 修改地址, 取消, 商家退款, 备注): they only
parse and check what staff typed; the services decide."""

from urllib.parse import urlencode

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fenxiao.core.admin_forms import MoneyField
from fenxiao.core.money import format_fen

from ..models import AfterSaleKind


class AdjustPriceForm(forms.Form):
    discount_amount = MoneyField(
        label=gettext_lazy("优惠金额（元）"),
        allow_negative=True,
        help_text=gettext_lazy("正数为优惠，负数为加价；按商品金额比例分摊到每件商品"),
    )
    shipping_fee = MoneyField(label=gettext_lazy("运费（元）"))
    reason = forms.CharField(label=gettext_lazy("改价原因"), max_length=100, required=False)


class AddressForm(forms.Form):
    recipient = forms.CharField(label=gettext_lazy("收货人"), max_length=40)
    phone = forms.CharField(label=gettext_lazy("联系电话"), max_length=11)
    province = forms.CharField(label=gettext_lazy("省"), max_length=20)
    city = forms.CharField(label=gettext_lazy("市"), max_length=20)
    district = forms.CharField(label=gettext_lazy("区/县"), max_length=20, required=False)
    detail = forms.CharField(label=gettext_lazy("详细地址"), max_length=200)


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("取消原因"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("已付款的订单取消后全额原路退款，并退回库存"),
    )


class MerchantNoteForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("商家备注"),
        max_length=200,
        required=False,
        widget=forms.Textarea(
            attrs={"rows": 3, "placeholder": gettext_lazy("如：加急发货、送小样、客户要求周五送达")}
        ),
        help_text=gettext_lazy("仅商家可见，显示在订单列表和发货单上；清空即删除备注"),
    )


RESTOCK_CHOICES = [
    ("", gettext_lazy("默认（未发货或退货退款时退回库存）")),
    ("yes", gettext_lazy("退回库存")),
    ("no", gettext_lazy("不退回库存")),
]


class StaffRefundForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("售后类型"), choices=AfterSaleKind.choices, initial=AfterSaleKind.REFUND_ONLY
    )
    reason = forms.CharField(label=gettext_lazy("退款原因"), max_length=200)
    restock = forms.ChoiceField(label=gettext_lazy("库存"), choices=RESTOCK_CHOICES, required=False)
    shipping = MoneyField(label=gettext_lazy("退运费（元）"), required=False, min_fen=0)

    def __init__(self, *args, lines, held=None, **kwargs):
        """`held`: {order line id: number} of the open after-sales holding lines (a buyer's
        request waiting for an answer): such a line is shown with its request, not offered."""
        super().__init__(*args, **kwargs)
        self.lines = lines
        self.held = held or {}
        for line in lines:
            if line.pk in self.held:
                continue
            remaining = line.quantity - line.refunded_quantity
            self.fields[f"line_{line.pk}_selected"] = forms.BooleanField(label=_("退款"), required=False)
            self.fields[f"line_{line.pk}_quantity"] = forms.IntegerField(
                label=_("数量"),
                required=False,
                min_value=0,
                max_value=remaining,
                widget=forms.NumberInput(attrs={"placeholder": str(remaining)}),
            )
            self.fields[f"line_{line.pk}_amount"] = MoneyField(
                label=_("金额（元）"), required=False, min_fen=1
            )
            self.fields[f"line_{line.pk}_amount"].widget.attrs["placeholder"] = format_fen(
                line.refundable_amount
            ).lstrip("¥")

    @property
    def plain_fields(self):
        return [self[name] for name in ("kind", "reason", "restock", "shipping")]

    def line_rows(self):
        for line in self.lines:
            if line.pk in self.held:
                number = self.held[line.pk]
                search = reverse("admin:orders_aftersale_changelist") + "?" + urlencode({"q": number})
                yield [
                    format_html('<a href="{}" class="text-primary-600">{}</a>', search, _("售后处理中")),
                    f"{line.product_name} {line.spec_text}".strip(),
                    _("%(quantity)s（已退 %(refunded_quantity)s）")
                    % {"quantity": line.quantity, "refunded_quantity": line.refunded_quantity},
                    format_fen(line.paid_amount),
                    format_fen(line.refundable_amount),
                    "-",
                    _("请先处理售后 %(number)s") % {"number": number},
                ]
                continue
            yield [
                self[f"line_{line.pk}_selected"],
                f"{line.product_name} {line.spec_text}".strip(),
                _("%(quantity)s（已退 %(refunded_quantity)s）")
                % {"quantity": line.quantity, "refunded_quantity": line.refunded_quantity},
                format_fen(line.paid_amount),
                format_fen(line.refundable_amount),
                self[f"line_{line.pk}_quantity"],
                self[f"line_{line.pk}_amount"],
            ]

    def clean(self):
        cleaned = super().clean()
        chosen = []
        for line in self.lines:
            if not cleaned.get(f"line_{line.pk}_selected"):
                continue
            chosen.append(
                {
                    "line_id": line.pk,
                    "quantity": cleaned.get(f"line_{line.pk}_quantity"),
                    "amount": cleaned.get(f"line_{line.pk}_amount"),
                }
            )
        if not chosen and not cleaned.get("shipping") and not self.errors:
            raise ValidationError(_("请勾选要退款的商品"))
        cleaned["lines"] = chosen
        cleaned["restock_flag"] = {"yes": True, "no": False}.get(cleaned.get("restock"))
        return cleaned
