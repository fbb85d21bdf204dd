"""security.pii.scrub: personal numbers, e-mail addresses and names out of free text; nothing else."""

from __future__ import annotations

import random

import pytest
from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload

from api import masking
from security.pii import luhn, scrub
from tests.api_support import api_stack, as_

CAUGHT = [
    # mobiles
    ("我的电话13812345678，请尽快回电", "我的电话[手机号]，请尽快回电"),
    ("联系人电话：139 1234 5678（白天）", "联系人电话：[手机号]（白天）"),
    ("手机 186-1234-5678 随时打", "手机 [手机号] 随时打"),
    ("请拨+86 138 1234 5678联系", "请拨[手机号]联系"),
    ("请拨+8613812345678联系", "请拨[手机号]联系"),
    ("国际号码0086-13812345678", "国际号码[手机号]"),
    ("全角号码１３８１２３４５６７８，下午在家", "全角号码[手机号]，下午在家"),
    ("电话：17712345678。", "电话：[手机号]。"),
    # landlines
    ("物业座机0631-5201234，无人接听", "物业座机[电话]，无人接听"),
    ("北京010-62345678也打过", "北京[电话]也打过"),
    ("（0631）5201234是居委会", "[电话]是居委会"),
    ("办公电话 0631 52012345 转 8", "办公电话 [电话] 转 8"),
    # resident IDs
    ("身份证号370781199001011234，已核实", "身份证号[身份证号]，已核实"),
    ("身份证：37078119900101123X", "身份证：[身份证号]"),
    ("身份证号码37078119900101123x", "身份证号码[身份证号]"),
    ("证件 370781 19900101 1234 已复印", "证件 [身份证号] 已复印"),
    ("老身份证370781900101123还在用", "老身份证[身份证号]还在用"),
    ("全角３７０７８１１９９００１０１１２３４", "全角[身份证号]"),
    # bank cards (Luhn-valid)
    ("补偿款打到卡号6222021234567890128", "补偿款打到卡号[银行卡号]"),
    ("银行卡 6228 4800 1234 5671 请核对", "银行卡 [银行卡号] 请核对"),
    ("建行卡4367421234567896退款", "建行卡[银行卡号]退款"),
    # e-mail
    ("材料发到 zhang.san@example.com 就行", "材料发到 [邮箱] 就行"),
    ("邮箱zhangsan_01@qq.com请回复", "邮箱[邮箱]请回复"),
    ("邮箱ｚｈａｎｇ＠ｑｑ．ｃｏｍ", "邮箱[邮箱]"),
    # several at once, and stuck together
    ("张三，电话13812345678，邮箱a@b.cn", "[姓名]，电话[手机号]，邮箱[邮箱]"),
    ("a@b.cn13812345678", "[邮箱][手机号]"),
]


@pytest.mark.parametrize(("text", "expected"), CAUGHT)
def test_personal_data_is_replaced(text, expected):
    assert scrub(text, ["张三"]) == expected


SURVIVES = [
    "案件WD-20261124-000042已派遣至交警大队",
    "2026-11-24上午巡查，2026年11月24日复查",
    "龙山路88号3号楼2单元502室楼顶漏水",
    "补偿金额12000元，合计1,234,567.89元",
    "订单号6228480012345672（校验位不符，不是卡号）",
    "工单号T20261124001，编号ABC13812345678X",
    "群众尾号5678的手机，脱敏后为138****5678",
    "张某反映，李某某陪同",
    "噪音85分贝，持续3小时，涉及12户",
    "坐标37.1234567,122.1234567",
    "版本号1.3812345678",
    "12345热线转来",
    "全角标点：（一）、（二）；“引号”！",
]


@pytest.mark.parametrize("text", SURVIVES)
def test_what_is_not_personal_survives(text):
    assert scrub(text, ["张三"]) == text


@pytest.mark.parametrize(
    ("text", "names", "expected"),
    [
        ("张三反映张三的父亲张三丰也受影响", ["张三"], "[姓名]反映[姓名]的父亲[姓名]丰也受影响"),
        ("欧阳娜娜和欧阳说", ["欧阳", "欧阳娜娜"], "[姓名]和[姓名]说"),
        ("王反映问题", ["王"], "王反映问题"),  # one character would cut every word it is in
        ("王五说", [" 王五 ", ""], "[姓名]说"),
        ("Contact Li Lei or LI LEI", ["Li Lei"], "Contact [姓名] or [姓名]"),
        ("Elisa", ["Lisa"], "Elisa"),
        ("没有名字", [], "没有名字"),
        ("姓名：张三", ["姓名"], "[姓名]：张三"),
    ],
)
def test_names(text, names, expected):
    assert scrub(text, names) == expected


@pytest.mark.parametrize("text", [t for t, _ in CAUGHT] + SURVIVES + ["姓名姓名[姓名]", "[手机号]13812345678"])
def test_idempotent(text):
    once = scrub(text, ["张三", "姓名", "手机"])
    assert scrub(once, ["张三", "姓名", "手机"]) == once


def test_idempotent_on_random_text():
    """Digits, separators, letters and CJK thrown together: a second scrub never changes anything."""
    rng = random.Random(20261124)
    alphabet = "0123456789" * 6 + "１３８ -+.@()（）xX" + "abcqz" + "张三号楼室电话，。"
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        once = scrub(text, ["张三"])
        assert scrub(once, ["张三"]) == once, text


def test_luhn():
    assert luhn("6222021234567890128") and luhn("4367421234567896")
    assert not luhn("6228480012345672")


def test_open311_free_text_delegates():
    assert masking.free_text("王五说电话13812345678", names=["王五"]) == "[姓名]说电话[手机号]"
    assert masking.free_text("路灯不亮，3号楼") == "路灯不亮，3号楼"


# --- staff notes never reach Temporal with the numbers in them -----------------------------------


def payloads_in(message: Message) -> list[Payload]:
    """Every Payload anywhere inside a history event."""
    if isinstance(message, Payload):
        return [message]
    found: list[Payload] = []
    for _, value in message.ListFields():
        if isinstance(value, Message):
            found += payloads_in(value)
        elif hasattr(value, "values") and not isinstance(value, (str, bytes)):  # a map
            found += [p for v in value.values() if isinstance(v, Message) for p in payloads_in(v)]
        elif isinstance(value, (list, tuple)) or type(value).__name__.startswith("Repeated"):
            found += [p for v in value if isinstance(v, Message) for p in payloads_in(v)]
    return found


async def test_action_notes_reach_the_history_scrubbed(engine, dev_env):
    phone, id_card = "13912345678", "370781199001011234"
    async with api_stack(engine, dev_env) as s:
        code = (await s.report())["case_code"]
        for path, key, body in [
            ("register", "k-supervisor", {"category": "JM-002"}),
            ("sign", "k-D-JJ", {"note": f"已签收 marker-sign 已联系群众 {phone[:3]} {phone[3:7]} {phone[7:]}"}),
            ("progress", "k-D-JJ", {"note": f"marker-progress 电话{phone}，身份证{id_card}，邮箱 zs@example.com"}),
        ]:
            r = await s.http.post(f"/cases/{code}/{path}", json=body, headers=as_(key))
            assert r.status_code == 200, r.text

        history = await s.client.get_workflow_handle(code).fetch_history()
        payloads = [p for event in history.events for p in payloads_in(event)]
        codec = s.client.data_converter.payload_codec  # payloads may be encrypted (security/codec.py)
        if codec is not None:
            payloads = await codec.decode(payloads)
        data = [p.data for p in payloads]
        # the notes are there (the search can see them) ...
        assert any(b"marker-sign" in d for d in data) and any(b"marker-progress" in d for d in data)
        # ... without the numbers
        for secret in (phone, phone[3:7] + " " + phone[7:], id_card, "zs@example.com"):
            assert not any(secret.encode() in d for d in data), secret
        assert phone not in history.to_json() and id_card not in history.to_json()

        r = await s.http.get(f"/cases/{code}", headers=as_("k-supervisor"))
        notes = [e["note"] for e in r.json()["workflow"]["timeline"] if e["note"]]
        assert any("已联系群众 [手机号]" in n for n in notes), notes
        assert any("电话[手机号]，身份证[身份证号]，邮箱 [邮箱]" in n for n in notes), notes
