"""Model fields shared by the apps."""

import json

from django.db import models


class OrderedJSONField(models.TextField):
    """JSON kept as text, so objects keep their key order on every database.

    PostgreSQL's jsonb sorts object keys; for SKU specs the merchant's order (颜色 before
    尺码) is what buyers must see. Nothing queries inside these values, so text is enough.
    """

    def from_db_value(self, value, expression, connection):
        return self.to_python(value)

    def to_python(self, value):
        if value is None or not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            return value

    def get_prep_value(self, value):
        if value is None:
            return None
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

    def value_to_string(self, obj):
        return self.get_prep_value(self.value_from_object(obj))
