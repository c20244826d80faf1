"""The product editor's widgets: each is a plain form input (so the form posts and validates
as any other) that a small vanilla script turns into the merchant's tool.

- RichTextWidget: a textarea edited through Quill (vendored under static, no CDN); pictures
  go to the staff-only upload endpoint and come back as <img src>.
- SpecMatrixWidget: a hidden input holding the spec matrix as JSON; the script draws spec
  names, value tags (the first spec's with their 规格图, chosen from the saved pictures) and
  the generated SKU grid with its bulk-set row.
- GalleryWidget: a hidden input holding the picture order ("id:12", "new:0" …) plus a
  multiple file input; thumbnails can be dragged, deleted, and the first is the cover.
"""

import json

from django import forms
from django.conf import settings
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import get_language

from fenxiao.core.numbers import whole_number

QUILL = "catalog/vendor/quill/"


class _ScriptCatalog:
    """Django's JavaScript catalog (`gettext()` for the editor scripts), loaded before them
    when the page is not in the source language (the scripts' msgids are the Chinese)."""

    def __html__(self):
        if (get_language() or settings.LANGUAGE_CODE).lower() == settings.LANGUAGE_CODE.lower():
            return ""
        return format_html('<script src="{}"></script>', reverse("javascript-catalog"))


SCRIPT_CATALOG = _ScriptCatalog()  # one object, so the widgets' media merge it once


class RichTextWidget(forms.Textarea):
    template_name = "catalog/widgets/rich_text.html"

    def __init__(self, attrs=None, upload_url: str = ""):
        super().__init__(attrs)
        self.upload_url = upload_url

    class Media:
        css = {"all": (QUILL + "quill.snow.css", "catalog/editor/editor.css")}
        js = (SCRIPT_CATALOG, QUILL + "quill.js", "catalog/editor/rich_text.js")

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["upload_url"] = self.upload_url
        return context


class SpecMatrixWidget(forms.Widget):
    """`pictures` is [(pk, url)] of the product's saved pictures, the 规格图 to choose from."""

    template_name = "catalog/widgets/spec_matrix.html"

    def __init__(self, attrs=None, pictures=()):
        super().__init__(attrs)
        self.pictures = list(pictures)

    class Media:
        css = {"all": ("catalog/editor/editor.css",)}
        js = (SCRIPT_CATALOG, "catalog/editor/spec_matrix.js")

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["pictures"] = json.dumps([{"id": pk, "url": url} for pk, url in self.pictures])
        return context

    def format_value(self, value):
        if isinstance(value, dict):
            return json.dumps(value, ensure_ascii=False)
        return value


class GalleryWidget(forms.Widget):
    """`images` is [(pk, url)] of the saved pictures, in their order."""

    template_name = "catalog/widgets/gallery.html"
    files_name = "gallery_files"
    needs_multipart_form = True  # the files ride along with the form

    def __init__(self, attrs=None, images=()):
        super().__init__(attrs)
        self.images = list(images)

    class Media:
        css = {"all": ("catalog/editor/editor.css",)}
        js = (SCRIPT_CATALOG, "catalog/editor/gallery.js")

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        urls = dict(self.images)
        order = []
        try:
            posted = json.loads(value) if value else None
        except ValueError:
            posted = None
        if isinstance(posted, list):  # a re-shown form keeps the arrangement made
            for token in posted:
                kind, _, raw = str(token).partition(":")
                pk = whole_number(raw)
                if kind == "id" and pk in urls:
                    order.append((pk, urls[pk]))
        else:
            order = list(self.images)
        context["widget"]["images"] = [{"token": f"id:{pk}", "url": url} for pk, url in order]
        context["widget"]["files_name"] = self.files_name
        return context

    def format_value(self, value):
        return value if value else json.dumps([f"id:{pk}" for pk, _ in self.images])
