from django.db import models


class Banner(models.Model):
    """A home-page banner: an image, or a coloured card with a title, linking anywhere in the shop."""

    title = models.CharField("标题", max_length=40)
    subtitle = models.CharField("副标题", max_length=80, blank=True)
    image = models.ImageField("图片", upload_to="banners/", blank=True)
    link = models.CharField(
        "链接", max_length=200, default="/", help_text="站内地址，例如 /products/12/ 或 /search/?q=T恤"
    )
    color = models.CharField("底色", max_length=7, default="#e4393c")
    sort_order = models.PositiveIntegerField("排序", default=0)
    is_active = models.BooleanField("显示", default=True)

    class Meta:
        verbose_name = "首页轮播图"
        verbose_name_plural = "首页轮播图"
        ordering = ["sort_order", "id"]

    def __str__(self):
        return self.title
