"""批量备注: the order list's bulk action that puts one 商家备注 on every selected order. Its
page says how many orders were chosen and how many already carry a note the new one will
replace; nothing changes until staff confirm."""

from django.contrib import messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from fenxiao.core.admin_forms import style_fields
from fenxiao.core.errors import DomainError

from ..services import merchant_notes
from .order_forms import MerchantNoteForm


def page(model_admin, request, queryset):
    ids = list(queryset.order_by("pk").values_list("pk", flat=True)[: merchant_notes.MAX_BATCH + 1])
    if len(ids) > merchant_notes.MAX_BATCH:
        messages.error(
            request, _("一次最多备注 %(max)s 个订单，请分批选择") % {"max": merchant_notes.MAX_BATCH}
        )
        return None  # back to the list, before anything is typed
    form = MerchantNoteForm(request.POST if "_apply" in request.POST else None)
    if "_apply" in request.POST and form.is_valid():
        try:
            changed = merchant_notes.set_merchant_note_many(ids, request.user, form.cleaned_data["note"])
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("已为 %(count)s 个订单保存商家备注") % {"count": changed})
            if len(ids) > changed:
                messages.info(
                    request, _("%(count)s 个订单原本就是这条备注，未改动") % {"count": len(ids) - changed}
                )
            return None  # back to the list
    style_fields(form)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": _("批量备注"),
        "form": form,
        "ids": ids,
        "action_name": request.POST.get("action", "note_selected"),
        "checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "order_count": len(ids),
        "noted_count": queryset.filter(pk__in=ids).exclude(merchant_note="").count(),
    }
    return TemplateResponse(request, "admin/orders/bulk_note.html", context)
