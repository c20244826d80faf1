"""Backend pages of the 数据 section: 经营概况 is the backend home (unfold's
DASHBOARD_CALLBACK renders `analytics/dashboard.html` as the index), and the report pages
are custom admin views (`urls.py`, mounted at /backend/data/)."""

from django.contrib import admin

admin.site.index_template = "analytics/dashboard.html"
