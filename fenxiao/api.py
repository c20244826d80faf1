"""The REST API: /api/v1/, documented at /api/docs."""

import logging
from typing import Any

from django.http import Http404
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema, Swagger
from ninja.errors import AuthenticationError, HttpError, ValidationError

from fenxiao.core.errors import DomainError
from fenxiao.core.field_errors import field_error

logger = logging.getLogger(__name__)


class ErrorOut(Schema):
    """Every refusal: a stable code and a Chinese message (validation errors add `details`)."""

    code: str
    message: str
    details: Any | None = None


# The refusals any operation may answer with, documented on every operation of the schema.
ERROR_RESPONSES = {
    "400": "请求有误（参数、非法字符或业务规则不允许）",
    "401": "未登录或令牌无效",
    "403": "没有权限，或请求来源无法验证",
    "404": "记录不存在",
    "405": "请求方法不允许",
    "409": "当前状态不允许此操作",
    "415": "请求格式不受支持（需要 application/json）",
    "422": "请求参数校验失败，`details` 列出字段",
    "429": "请求过于频繁",
}


class FenxiaoApi(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["ErrorOut"] = ErrorOut.json_schema()
        ref = {"$ref": "#/components/schemas/ErrorOut"}
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                if not isinstance(operation, dict) or "responses" not in operation:
                    continue
                responses = operation["responses"]
                for status, description in ERROR_RESPONSES.items():
                    responses.setdefault(
                        status,
                        {"description": description, "content": {"application/json": {"schema": ref}}},
                    )
        return schema


api = FenxiaoApi(
    title="分销商城 API",
    version="1.0.0",
    description="Fenxiao distribution mall: catalog, cart, checkout, orders, payments.",
    docs_url="/docs",
    # Swagger UI comes from this server's static files ("ninja" in INSTALLED_APPS), not a CDN,
    # and asks no online validator about the schema: the docs work without internet access.
    docs=Swagger(settings={"validatorUrl": None}),
    urls_namespace="api",
)


@api.exception_handler(DomainError)
def domain_error(request, exc: DomainError):
    return api.create_response(request, exc.as_dict(), status=exc.status)


@api.exception_handler(ValidationError)
def validation_error(request, exc: ValidationError):
    fields = []
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "payload", "query", "path")]
        fields.append({"field": ".".join(loc), "error": field_error(err)})
    return api.create_response(
        request,
        {"code": "INVALID_INPUT", "message": _("请求参数有误，请检查后重试"), "details": fields},
        status=422,
    )


@api.exception_handler(AuthenticationError)
def authentication_error(request, exc):
    return api.create_response(request, {"code": "UNAUTHORIZED", "message": _("请先登录")}, status=401)


@api.exception_handler(Http404)
def not_found(request, exc):
    return api.create_response(request, {"code": "NOT_FOUND", "message": _("未找到对应的记录")}, status=404)


@api.exception_handler(HttpError)
def http_error(request, exc: HttpError):
    code = {400: "BAD_REQUEST", 403: "PERMISSION_DENIED", 405: "METHOD_NOT_ALLOWED", 429: "RATE_LIMITED"}.get(
        exc.status_code, "HTTP_ERROR"
    )
    return api.create_response(request, {"code": code, "message": _("请求无法处理")}, status=exc.status_code)


def _register_routers():
    from fenxiao.analytics.api import router as analytics_router
    from fenxiao.analytics.api_staff import router as staff_analytics_router
    from fenxiao.catalog.api import router as catalog_router
    from fenxiao.catalog.api_staff import router as staff_catalog_router
    from fenxiao.customers.api import router as customers_router
    from fenxiao.distribution.api import router as distribution_router
    from fenxiao.distribution.api_staff import router as staff_distribution_router
    from fenxiao.notices.api import router as notices_router
    from fenxiao.orders.api import router as orders_router
    from fenxiao.orders.api_logistics import router as logistics_router
    from fenxiao.orders.api_reviews import router as reviews_router
    from fenxiao.orders.api_staff import router as staff_orders_router
    from fenxiao.payments.api import router as payments_router
    from fenxiao.promotions.api import router as promotions_router
    from fenxiao.promotions.api_groups import router as groups_router
    from fenxiao.shipping.api import router as shipping_router
    from fenxiao.stores.api import router as stores_router
    from fenxiao.stores.api_pos import router as pos_router

    api.add_router("/", customers_router)
    api.add_router("/", catalog_router)
    api.add_router("/", orders_router)
    api.add_router("/", reviews_router)
    api.add_router("/staff/", staff_orders_router)
    api.add_router("/staff/", staff_catalog_router)
    api.add_router("/payments/", payments_router)
    api.add_router("/logistics/", logistics_router)
    api.add_router("/", promotions_router)
    api.add_router("/", groups_router)
    api.add_router("/distribution/", distribution_router)
    api.add_router("/staff/distribution/", staff_distribution_router)
    api.add_router("/", analytics_router)
    api.add_router("/staff/", staff_analytics_router)
    api.add_router("/", notices_router)
    api.add_router("/", shipping_router)
    api.add_router("/pos/", pos_router)
    api.add_router("/", stores_router)


_register_routers()
