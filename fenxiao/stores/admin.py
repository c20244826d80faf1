"""门店 in the backend: stores (address checked against the 省/市/区 list, location, hours,
open/closed, pickup), their staff, and each store's stock per SKU on its own page
(门店库存: every sellable SKU with the online stock beside it, typed in, bulk set, or filled in
on a downloaded 门店库存表 and uploaded back)."""

from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import BooleanField, Count, Exists, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop, pgettext_lazy
from unfold.admin import ModelAdmin, TabularInline
from unfold.decorators import action, display
from unfold.widgets import UnfoldAdminSelectWidget

from fenxiao.catalog.models import Sku
from fenxiao.core.admin import SafeAutocompleteMixin, user_text
from fenxiao.core.admin_exports import ExportMixin
from fenxiao.core.errors import DomainError
from fenxiao.core.numbers import whole_number
from fenxiao.core.tabular import file_response
from fenxiao.customers.backoffice.listing import full_phones, with_phone_flag
from fenxiao.orders.models import Order, awaiting_pickup
from fenxiao.shipping import regions

from .exports import STORE_STOCK, STORES
from .models import Store, StoreStaff, StoreStock
from .services import closing, stock, stock_sheet

STOCK_PAGE_ROWS = 200
MOVED_WARNING = gettext_noop(
    "以下规格的门店库存在您编辑期间已变动（到店自提订单占用或退回），未保存，请核对最新库存后重新设置：%(names)s"
)
# The stock page's filter: what the merchant looks for when stocking a store.
STOCK_SHELVES = {
    "": gettext_lazy("全部"),
    "carried": gettext_lazy("已铺货"),
    "none": gettext_lazy("未铺货"),
    "out": gettext_lazy("门店缺货"),
}


REGION_FIELDS = ("province", "city", "district")


class StoreForm(forms.ModelForm):
    class Meta:
        model = Store
        fields = (
            "name",
            "province",
            "city",
            "district",
            "address_detail",
            "latitude",
            "longitude",
            "hours",
            "phone",
            "manager",
            "is_open",
            "pickup_enabled",
            "sort_order",
        )
        # What the merchant needs to fill these in: where the numbers come from and what they
        # change for the buyer (a map app's picker gives coordinates hundreds of metres off).
        help_texts = {
            "latitude": gettext_lazy(
                "选填，与经度一起用于买家选自提门店时按距离由近到远排列，不填的门店排在最后。"
                "请填手机 GPS 定位得到的 WGS-84 坐标（如 30.259800）；高德、腾讯地图拾取的坐标有几百米偏差"
            ),
            "longitude": gettext_lazy("如 120.164600，与纬度同一来源"),
            "sort_order": gettext_lazy("数字越小越靠前：买家未开定位时的自提门店列表按此排列"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._region_selects()

    def _region_selects(self):
        """省/市/区 picked from the division list instead of typed (浙江 for 浙江省 was
        refused): each select lists the choices under the one above it, and the shared
        region-picker script refills them when one changes. A name off the list (an old
        store's, or one posted by hand) stays shown, and `clean` says what is wrong with it."""
        current = {}
        for name in REGION_FIELDS:  # what is picked now: posted, or the store's
            value = self.data.get(self.add_prefix(name)) if self.is_bound else self.initial.get(name)
            current[name] = str(value or "").strip()
        options = regions.picker_options(current["province"], current["city"])
        for name, listed in zip(REGION_FIELDS, ("provinces", "cities", "districts"), strict=True):
            if name not in self.fields:  # read-only: shown as text to who may only view
                continue
            names = [region.name for region in options[listed]]
            if current[name] and current[name] not in names:
                names.insert(0, current[name])
            attrs = {"data-region": name}
            if name == "province":
                attrs["data-regions-url"] = reverse("api:region_tree")
            self.fields[name].widget = UnfoldAdminSelectWidget(
                attrs=attrs, choices=[("", _("请选择")), *((n, n) for n in names)]
            )

    def clean(self):
        cleaned = super().clean()
        problem = regions.find_problem(
            cleaned.get("province", ""), cleaned.get("city", ""), cleaned.get("district", "")
        )
        if problem:
            field, message = problem
            self.add_error(field, message)
        lat, lng = cleaned.get("latitude"), cleaned.get("longitude")
        if (lat is None) != (lng is None):
            raise forms.ValidationError(_("经纬度需同时填写或同时留空"))
        if lat is not None and not (-90 <= lat <= 90 and -180 <= lng <= 180):
            raise forms.ValidationError(_("经纬度超出范围：纬度 -90~90，经度 -180~180"))
        return cleaned


class StoreStaffInline(TabularInline):
    """The store's staff: role and 在职 are changed here. Staff are added on 门店员工 by phone
    (the page's 添加员工), which makes a 导购 a distributor in one step, and leave rather than
    being deleted: a deleted row took the guide off every member they brought. A row's account
    is fixed (its code and members are that person's), shown as text: a picker per row cost
    queries per row."""

    model = StoreStaff
    extra = 0
    fields = ("person", "role", "is_active", "joined_at")
    readonly_fields = ("person", "joined_at")
    tab = True

    def get_queryset(self, request):
        return with_phone_flag(super().get_queryset(request).select_related("store", "user"), request)

    @display(description=gettext_lazy("员工"))
    def person(self, obj):
        return user_text(obj.user, full_phones(obj))

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Store)
class StoreAdmin(SafeAutocompleteMixin, ExportMixin, ModelAdmin):
    form = StoreForm
    export = STORES

    class Media:
        js = ("shipping/region-picker.js",)

    list_display = (
        "store_header",
        "address_text",
        "hours",
        "phone",
        "is_open",
        "pickup_enabled",
        "stock_summary",
        "pickups_display",
    )
    list_filter = ("is_open", "pickup_enabled", "city")
    list_editable = ("is_open", "pickup_enabled")
    search_fields = ("name", "address_detail", "phone")
    search_help_text = gettext_lazy("按门店名称、详细地址或电话搜索")
    autocomplete_fields = ("manager",)
    inlines = (StoreStaffInline,)
    fieldsets = (
        (None, {"fields": ("name", "phone", "hours", "manager", "sort_order")}),
        (
            gettext_lazy("地址与位置"),
            {"fields": ("province", "city", "district", "address_detail", ("latitude", "longitude"))},
        ),
        (gettext_lazy("营业与自提"), {"fields": ("is_open", "pickup_enabled")}),
    )
    # A store's page leads to what the merchant does with that store next.
    actions_detail = ("open_stock", "open_qr", "open_members", "open_sales", "add_staff")

    def get_inlines(self, request, obj):
        # Staff are added through 添加员工: a new store, or one without staff, would show an
        # empty 门店员工 tab with no way to fill it.
        if obj is None or not obj.staff.exists():
            return ()
        return super().get_inlines(request, obj)

    def get_queryset(self, request):
        # 待自提: the store's orders the order list's 待自提 tab holds, counted in the same
        # statement; whether the count may open that list travels with the rows (the admin
        # object is shared by every request).
        waiting = (
            Order.objects.filter(awaiting_pickup(), pickup_store_id=OuterRef("pk"))
            .order_by()
            .values("pickup_store_id")
            .annotate(n=Count("id"))
            .values("n")
        )
        may_list = request.user.has_perm("orders.view_order") or request.user.has_perm("orders.change_order")
        return (
            super()
            .get_queryset(request)
            .annotate(
                sku_count=Count("stock", filter=Q(stock__stock__gt=0)),
                units=Coalesce(Sum("stock__stock"), 0),
                pending_pickups=Coalesce(Subquery(waiting, output_field=IntegerField()), 0),
                may_list_orders=Value(may_list, output_field=BooleanField()),
            )
        )

    @display(description=gettext_lazy("门店"), header=True, ordering="name")
    def store_header(self, obj):
        return obj.name, obj.manager.display_name if obj.manager_id else ""

    @display(description=gettext_lazy("地址"))
    def address_text(self, obj):
        return obj.address_text

    @display(description=gettext_lazy("门店库存"))
    def stock_summary(self, obj):
        url = reverse("admin:stores_store_stock", args=[obj.pk])
        return format_html(
            '<a class="text-primary-600" href="{}">{}</a>',
            url,
            _("%(skus)s 个规格有货 · 共 %(units)s 件") % {"skus": obj.sku_count, "units": obj.units},
        )

    @display(description=gettext_lazy("待自提"), ordering="pending_pickups")
    def pickups_display(self, obj):
        if not obj.pending_pickups or not obj.may_list_orders:
            return obj.pending_pickups
        query = urlencode({"tab": "pending_pickup", "pickup_store": obj.pk})
        url = f"{reverse('admin:orders_order_changelist')}?{query}"
        return format_html('<a class="text-primary-600" href="{}">{}</a>', url, obj.pending_pickups)

    def get_list_select_related(self, request):
        return ("manager",)

    def get_deleted_objects(self, objs, request):
        """A store with staff, members, pickup orders or till sales is kept (see
        `services.closing`): the page says what it has and to close it instead, where Django
        told even a superuser they lacked the right to delete 门店员工."""
        kept = closing.why_kept(obj.pk for obj in objs)
        if not kept:
            return super().get_deleted_objects(objs, request)
        reasons = []
        for store in sorted((obj for obj in objs if obj.pk in kept), key=lambda obj: obj.pk):
            text = _(
                "门店“%(name)s”已有%(what)s，不能删除（删除会连带删掉这些记录）。"
                "如门店不再营业，请在门店页关闭“营业中”和“支持到店自提”。"
            ) % {"name": store.name, "what": kept[store.pk]}
            url = reverse("admin:stores_store_change", args=[store.pk])
            reasons.append(
                format_html('{} <a class="text-primary-600" href="{}">{}</a>', text, url, _("打开门店页"))
            )
        return [], {}, set(), reasons

    def get_changeform_initial_data(self, request):
        # ?manager=12 may preset a new store's manager; a value that is no id is dropped, as
        # the picker would look it up as one (a 500).
        initial = super().get_changeform_initial_data(request)
        if "manager" in initial and whole_number(initial["manager"]) is None:
            del initial["manager"]
        return initial

    @action(description=gettext_lazy("门店库存"), url_path="stock", icon="inventory")
    def open_stock(self, request, object_id):
        return redirect(reverse("admin:stores_store_stock", args=[_store_id(object_id)]))

    @action(
        description=pgettext_lazy("store action", "门店码"),
        url_path="qr",
        icon="qr_code_2",
        permissions=["view_qr"],
    )
    def open_qr(self, request, object_id):
        return redirect(reverse("admin:stores_storeqr_change", args=[_store_id(object_id)]))

    @action(
        description=pgettext_lazy("store action", "会员"),
        url_path="members",
        icon="card_membership",
        permissions=["view_members"],
    )
    def open_members(self, request, object_id):
        query = urlencode({"store__id__exact": _store_id(object_id), "is_current__exact": 1})
        return redirect(f"{reverse('admin:stores_storemember_changelist')}?{query}")

    @action(
        description=pgettext_lazy("store action", "销售"),
        url_path="sales",
        icon="point_of_sale",
        permissions=["view_sales"],
    )
    def open_sales(self, request, object_id):
        query = urlencode({"store__id__exact": _store_id(object_id)})
        return redirect(f"{reverse('admin:stores_offlinesale_changelist')}?{query}")

    @action(
        description=gettext_lazy("添加员工"),
        url_path="add-staff",
        icon="person_add",
        permissions=["add_staff"],
    )
    def add_staff(self, request, object_id):
        query = urlencode({"store": _store_id(object_id)})
        return redirect(f"{reverse('admin:stores_storestaff_add')}?{query}")

    def has_add_staff_permission(self, request, obj=None):
        return request.user.has_perm("stores.add_storestaff")

    def has_view_qr_permission(self, request, obj=None):
        return _may_view(request, "storeqr")

    def has_view_members_permission(self, request, obj=None):
        return _may_view(request, "storemember")

    def has_view_sales_permission(self, request, obj=None):
        return _may_view(request, "offlinesale")

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:store_id>/stock/", view(self.stock_view), name="stores_store_stock"),
            path("<int:store_id>/stock/sheet/", view(self.stock_sheet_view), name="stores_store_stock_sheet"),
            path(
                "<int:store_id>/stock/import/", view(self.stock_import_view), name="stores_store_stock_import"
            ),
        ] + super().get_urls()

    def _stock_rights(self, request, *, change: bool) -> bool:
        """The stock page is a store's and sets its stock: reading it takes the right to view
        both, saving it the right to change both (raises PermissionDenied otherwise)."""
        user = request.user
        may_change = self.has_change_permission(request) and user.has_perm("stores.change_storestock")
        stock_readable = user.has_perm("stores.view_storestock") or user.has_perm("stores.change_storestock")
        may_view = self.has_view_or_change_permission(request) and stock_readable
        if not may_view or (change and not may_change):
            raise PermissionDenied
        return may_change

    def stock_sheet_view(self, request, store_id):
        """门店库存表: every sellable SKU and the store's level, to fill in and upload back."""
        self._stock_rights(request, change=False)
        store = get_object_or_404(Store, pk=store_id)
        fmt = "csv" if request.GET.get("format") == "csv" else "xlsx"
        filename = f"门店库存-{store.name}-{timezone.localtime():%Y%m%d-%H%M}.{fmt}"
        return file_response(
            filename, fmt, stock_sheet.LEVEL, stock_sheet.HEADERS, stock_sheet.rows(store), stock_sheet.WIDTHS
        )

    def stock_import_view(self, request, store_id):
        """Sets the levels of an uploaded 门店库存表, then back to the stock page."""
        self._stock_rights(request, change=True)
        store = get_object_or_404(Store, pk=store_id)
        back = reverse("admin:stores_store_stock", args=[store.pk])
        upload = request.FILES.get("sheet")
        if request.method != "POST" or upload is None:
            messages.error(request, _("请选择要导入的门店库存表（.xlsx 或 .csv）"))
            return redirect(back)
        try:
            outcome = stock_sheet.apply(store, upload.read(stock_sheet.MAX_FILE_BYTES + 1), upload.name)
        except DomainError as error:
            messages.error(request, error.message)
            return redirect(back)
        messages.success(
            request,
            _("门店库存表已导入：更新 %(changed)s 个规格，%(same)s 个规格与原库存相同")
            % {"changed": outcome.changed, "same": outcome.same},
        )
        if outcome.moved:
            messages.warning(request, _(MOVED_WARNING) % {"names": _("、").join(outcome.moved)})
        return redirect(back)

    def stock_view(self, request, store_id):
        """Every sellable SKU (searchable) with the online stock and this store's stock;
        change a number, or tick rows and set them all at once (批量设置)."""
        may_change = self._stock_rights(request, change=request.method == "POST")
        store = get_object_or_404(Store, pk=store_id)
        query = (request.GET.get("q") or "").strip()[:40]
        shelf = request.GET.get("shelf", "")
        shelf = shelf if shelf in STOCK_SHELVES else ""
        skus = (
            Sku.objects.filter(is_active=True, product__isnull=False)
            .select_related("product")
            .order_by("product_id", "pk")
        )
        if query:
            skus = skus.filter(Q(product__name__icontains=query) | Q(code__icontains=query))
        here = StoreStock.objects.filter(store=store, sku=OuterRef("pk"))
        if shelf == "carried":
            skus = skus.filter(Exists(here))
        elif shelf == "none":
            skus = skus.filter(~Exists(here))
        elif shelf == "out":
            skus = skus.filter(Exists(here.filter(stock=0)))
        # Every SKU a page at a time (a chain's range runs to thousands); ?page= past the
        # end, or no number, is the nearest page.
        page = Paginator(skus, STOCK_PAGE_ROWS).get_page(request.GET.get("page"))
        skus = list(page.object_list)
        if request.method == "POST":
            try:
                changed, shown = _typed_levels(request.POST, _posted_skus(request.POST))
                moved = stock.set_stock_if_unchanged(store.pk, changed, shown)
            except DomainError as error:
                messages.error(request, error.message)
            else:
                messages.success(
                    request, _("已更新 %(count)s 个规格的门店库存") % {"count": len(changed) - len(moved)}
                )
                if moved:
                    names = _("、").join(
                        f"{s.product.name} {s.spec_text}".strip()
                        for s in Sku.objects.select_related("product").filter(pk__in=moved).order_by("pk")
                    )
                    messages.warning(request, _(MOVED_WARNING) % {"names": names})
                return redirect(request.get_full_path())
        have = stock.stock_of(store.pk, [s.pk for s in skus])
        rows = [(sku, have.get(sku.pk)) for sku in skus]

        def url(**change) -> str:
            params = {"q": query, "shelf": shelf, "page": page.number, **change}
            return "?" + urlencode({k: v for k, v in params.items() if v and not (k == "page" and v == 1)})

        return TemplateResponse(
            request,
            "admin/stores/store/stock.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                # The header's trail reads 门店 › 门店 › <the store>, that store's page a click
                # away (without it the trail stopped at the list: no store named, no way back).
                "original": store,
                "title": _("门店库存：%(store)s") % {"store": store.name},
                "store": store,
                "rows": rows,
                "query": query,
                "shelf": shelf,
                "shelves": [
                    (label, url(shelf=key, page=1), key == shelf) for key, label in STOCK_SHELVES.items()
                ],
                "page": page,
                "previous_url": url(page=page.number - 1) if page.has_previous() else "",
                "next_url": url(page=page.number + 1) if page.has_next() else "",
                "may_change": may_change,
            },
        )


def _store_id(object_id: str) -> int:
    # A store page's action links carry its id; whatever else reaches them is no store.
    store_id = whole_number(object_id)
    if store_id is None:
        raise Http404(_("未找到对应的记录"))
    return store_id


def _may_view(request, model: str) -> bool:
    user = request.user
    return user.has_perm(f"stores.view_{model}") or user.has_perm(f"stores.change_{model}")


def _posted_skus(post) -> list[Sku]:
    """The SKUs of the rows the merchant saw and sent, whatever the filter or page shows
    now (a row stocked meanwhile leaves 未铺货, and the page's rows shift)."""
    ids = {whole_number(key.split("_", 1)[1]) for key in post if key.startswith(("stock_", "was_"))}
    ids |= {whole_number(value) for value in post.getlist("pick")}
    ids = sorted(pk for pk in ids if pk is not None and pk < 2**63)[: STOCK_PAGE_ROWS * 2]
    return list(
        Sku.objects.filter(pk__in=ids, is_active=True, product__isnull=False)
        .select_related("product")
        .order_by("product_id", "pk")
    )


def _typed_levels(post, skus) -> tuple[dict[int, int], dict[int, int | None]]:
    """The levels the merchant changed on the stock page ({sku: level}), and the levels the
    page showed them ({sku: level, None for 未铺货}); a row left as shown is no change, even
    if an order moved its stock since (writing it back would undo the order's take)."""
    bulk = (post.get("bulk_value") or "").strip()
    picked = set(post.getlist("pick"))
    changed, shown = {}, {}
    for sku in skus:
        raw = (post.get(f"stock_{sku.pk}") or "").strip()
        if bulk and str(sku.pk) in picked:
            raw = bulk
        if raw == "":
            continue
        level = whole_number(raw)
        if level is None or level > stock.MAX_LEVEL:
            raise DomainError(
                _("%(sku)s 的库存须为不小于 0、不大于 %(max)s 的整数")
                % {"sku": f"{sku.product.name} {sku.spec_text}".strip(), "max": f"{stock.MAX_LEVEL:,}"}
            )
        was = post.get(f"was_{sku.pk}")
        if was is None:  # a page from before its rows carried what they showed
            raise DomainError(_("页面已过期，请刷新后重新填写门店库存"))
        before = whole_number(was.strip())
        if level != (before or 0):  # 0 typed on 未铺货 is no change either
            changed[sku.pk], shown[sku.pk] = level, before
    return changed, shown


class StockLevelFilter(admin.SimpleListFilter):
    """门店缺货 / 有货: the rows a merchant restocks from, across every store."""

    title = gettext_lazy("库存状态")
    parameter_name = "level"

    def lookups(self, request, model_admin):
        return (("out", STOCK_SHELVES["out"]), ("in", gettext_lazy("有货")))

    def queryset(self, request, queryset):
        if self.value() == "out":
            return queryset.filter(stock=0)
        if self.value() == "in":
            return queryset.filter(stock__gt=0)
        return queryset


@admin.register(StoreStock)
class StoreStockAdmin(ExportMixin, ModelAdmin):
    """Every store's stock in one list, to find where a SKU is or what a store ran out of;
    each row opens its store's 门店库存 page at that SKU, where levels are set."""

    list_display = ("store", "sku_name", "stock", "updated_at")
    list_filter = ("store", StockLevelFilter)
    search_fields = ("sku__product__name", "sku__code", "store__name")
    search_help_text = gettext_lazy("按商品名称、规格编码或门店名称搜索")
    list_select_related = ("store", "sku__product")
    # Levels are set on the store's 门店库存 page, which never overwrites what an order moved:
    # a row's own page only shows it (it had 保存 buttons that saved nothing, a raw SKU id in
    # its title), with the way to that page.
    readonly_fields = ("store", "sku_name", "stock", "updated_at")
    export = STORE_STOCK

    def has_add_permission(self, request):
        return False  # set on the store's 门店库存 page, which knows every SKU

    def has_change_permission(self, request, obj=None):
        return False

    def get_fields(self, request, obj=None):
        return ("store", self._sku_column(request), "stock", "updated_at")

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("store", "sku__product")

    def get_list_display(self, request):
        return ("store", self._sku_column(request), "stock", "updated_at")

    @staticmethod
    def _sku_column(request) -> str:
        # The store's page takes the right to view stores too: without it, no dead link.
        if request.user.has_perm("stores.view_store") or request.user.has_perm("stores.change_store"):
            return "sku_link"
        return "sku_name"

    @display(description=gettext_lazy("商品规格"))
    def sku_name(self, obj):
        return f"{obj.sku.product.name} {obj.sku.spec_text}".strip()

    @display(description=gettext_lazy("商品规格"))
    def sku_link(self, obj):
        # The store's page searches names and codes; the code finds this SKU.
        query = urlencode({"q": obj.sku.code})
        url = f"{reverse('admin:stores_store_stock', args=[obj.store_id])}?{query}"
        return format_html(
            '<a class="text-primary-600" href="{}" title="{}">{}</a>',
            url,
            _("到门店库存页调整"),
            self.sku_name(obj),
        )
