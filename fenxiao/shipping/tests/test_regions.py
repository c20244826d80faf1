"""The bundled division data answers the address picker and the templates offline."""

from fenxiao.shipping import regions


def test_every_province_level_region_is_there_with_its_code():
    names = dict(regions.province_choices())
    assert len(names) == 34
    assert names["11"] == "北京市" and names["44"] == "广东省" and names["65"] == "新疆维吾尔自治区"
    assert names[regions.HONG_KONG] == "香港特别行政区" and names[regions.TAIWAN] == "台湾省"
    assert regions.province_code("浙江省") == "33" and regions.province_code("浙江") is None


def test_children_go_down_by_code():
    cities = {r.name: r.code for r in regions.children("44")}
    assert cities["深圳市"] == "4403"
    assert "南山区" in {r.name for r in regions.children("4403")}
    assert regions.children("") == regions.provinces()
    assert regions.children("99") == ()
    # A municipality's one city is named after it, not 市辖区.
    assert [r.name for r in regions.children("11")] == ["北京市"]


def test_a_triple_is_checked_by_name():
    assert regions.find_triple("广东省", "深圳市", "南山区") is None
    assert regions.find_triple("北京市", "北京市", "朝阳区") is None
    assert regions.find_triple("广东省", "深圳市", "朝阳区") == "广东省深圳市下没有“朝阳区”"
    assert regions.find_triple("广东省", "杭州市", "西湖区") == "广东省下没有“杭州市”"
    assert regions.find_triple("火星", "深圳市", "南山区") == "未知的省份：火星"
    assert regions.find_triple("广东省", "深圳市", "") == "请选择区/县"


def test_the_tree_is_compact_json():
    text = regions.as_json()
    assert len(text.encode()) < 120_000
    assert text.startswith('[["11","北京市",[["1101","北京市",[["110101","东城区"]')
