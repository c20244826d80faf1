"""The forms behind the order page's actions (改价, 修改地址, 取消, 商家退款): they only
parse and check what staff typed; the services decide."""

from django import forms
from django.core.exceptions import ValidationError

from fenxiao.core.admin_forms import MoneyField
from fenxiao.core.money import format_fen

from ..models import AfterSaleKind


class AdjustPriceForm(forms.Form):
    discount_amount = MoneyField(
        label="优惠金额（元）",
        allow_negative=True,
        help_text="正数为优惠，负数为加价；按商品金额比例分摊到每件商品",
    )
    shipping_fee = MoneyField(label="运费（元）")
    reason = forms.CharField(label="改价原因", max_length=100, required=False)


class AddressForm(forms.Form):
    recipient = forms.CharField(label="收货人", max_length=40)
    phone = forms.CharField(label="联系电话", max_length=11)
    province = forms.CharField(label="省", max_length=20)
    city = forms.CharField(label="市", max_length=20)
    district = forms.CharField(label="区/县", max_length=20, required=False)
    detail = forms.CharField(label="详细地址", max_length=200)


class CancelForm(forms.Form):
    reason = forms.CharField(
        label="取消原因",
        max_length=200,
        required=False,
        help_text="已付款的订单取消后全额原路退款，并退回库存",
    )


RESTOCK_CHOICES = [("", "默认（未发货或退货退款时退回库存）"), ("yes", "退回库存"), ("no", "不退回库存")]


class StaffRefundForm(forms.Form):
    kind = forms.ChoiceField(
        label="售后类型", choices=AfterSaleKind.choices, initial=AfterSaleKind.REFUND_ONLY
    )
    reason = forms.CharField(label="退款原因", max_length=200)
    restock = forms.ChoiceField(label="库存", choices=RESTOCK_CHOICES, required=False)
    shipping = MoneyField(label="退运费（元）", required=False, min_fen=0)

    def __init__(self, *args, lines, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = lines
        for line in lines:
            remaining = line.quantity - line.refunded_quantity
            self.fields[f"line_{line.pk}_selected"] = forms.BooleanField(label="退款", required=False)
            self.fields[f"line_{line.pk}_quantity"] = forms.IntegerField(
                label="数量",
                required=False,
                min_value=0,
                max_value=remaining,
                widget=forms.NumberInput(attrs={"placeholder": str(remaining)}),
            )
            self.fields[f"line_{line.pk}_amount"] = MoneyField(label="金额（元）", required=False, min_fen=1)
            self.fields[f"line_{line.pk}_amount"].widget.attrs["placeholder"] = format_fen(
                line.refundable_amount
            ).lstrip("¥")

    @property
    def plain_fields(self):
        return [self[name] for name in ("kind", "reason", "restock", "shipping")]

    def line_rows(self):
        for line in self.lines:
            yield [
                self[f"line_{line.pk}_selected"],
                f"{line.product_name} {line.spec_text}".strip(),
                f"{line.quantity}（已退 {line.refunded_quantity}）",
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
            raise ValidationError("请勾选要退款的商品")
        cleaned["lines"] = chosen
        cleaned["restock_flag"] = {"yes": True, "no": False}.get(cleaned.get("restock"))
        return cleaned
