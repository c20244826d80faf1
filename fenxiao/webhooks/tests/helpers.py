from fenxiao.webhooks.models import ALL_EVENTS, Endpoint


def make_endpoint(url: str, events=None, **fields) -> Endpoint:
    return Endpoint.objects.create(url=url, events=list(events or ALL_EVENTS), **fields)
