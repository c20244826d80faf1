"""Forms of the distributor backend: finding a user or a distributor by what staff type
(phone, username, referral code), and the decisions staff make on a distributor."""

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..models import BanDecision, Distributor, DistributorGrade
from ..services import distributors


def find_user(text: str):
    from fenxiao.customers.models import User

    text = (text or "").strip()
    if not text:
        return None
    return User.objects.filter(Q(phone=text) | Q(username=text)).first()


def find_distributor(text: str) -> Distributor | None:
    """By referral code or the distributor's phone number."""
    text = (text or "").strip()
    if not text:
        return None
    return (
        distributors.by_code(text)
        or Distributor.objects.select_related("user").filter(user__phone=text).first()
    )


class DistributorLookupField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault("help_text", gettext_lazy("填写分销商的推广码或手机号"))
        super().__init__(**kwargs)

    def clean(self, value):
        text = super().clean(value)
        if not text:
            return None
        distributor = find_distributor(text)
        if distributor is None:
            raise ValidationError(_("找不到推广码或手机号为“%(text)s”的分销商") % {"text": text})
        return distributor


class DesignateForm(forms.Form):
    user = forms.CharField(
        label=gettext_lazy("用户手机号"),
        max_length=150,
        help_text=gettext_lazy("已注册用户的手机号（员工账号可填用户名）"),
    )
    parent = DistributorLookupField(
        label=gettext_lazy("上级分销商"),
        required=False,
        help_text=gettext_lazy("推广码或手机号；留空则按客户绑定关系确定上级"),
    )
    grade = forms.ModelChoiceField(
        label=gettext_lazy("等级"),
        queryset=DistributorGrade.objects.all(),
        required=False,
        empty_label=gettext_lazy("默认等级"),
    )

    def clean_user(self):
        user = find_user(self.cleaned_data["user"])
        if user is None:
            raise ValidationError(_("找不到该用户，请确认对方已注册"))
        return user


class GradeForm(forms.Form):
    grade = forms.ModelChoiceField(
        label=gettext_lazy("等级"),
        queryset=DistributorGrade.objects.all(),
        empty_label=None,
        help_text=gettext_lazy("手动设置可升可降；自动评估只会升级"),
    )


class ParentForm(forms.Form):
    parent = DistributorLookupField(
        label=gettext_lazy("新上级"),
        required=False,
        help_text=gettext_lazy("推广码或手机号；留空表示没有上级"),
    )


class BanForm(forms.Form):
    decision = forms.ChoiceField(
        label=gettext_lazy("待结算佣金处理"),
        choices=BanDecision.choices,
        widget=forms.RadioSelect,
        help_text=gettext_lazy("待结算（预估）和冻结中的佣金：作废后不再结算；保留则到期后照常计入余额"),
    )
    reason = forms.CharField(label=gettext_lazy("封禁原因"), max_length=200, widget=forms.Textarea)
