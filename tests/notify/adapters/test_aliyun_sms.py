"""阿里云 SendSms: the official V2 signature example, GET and POST, and the `Code` table."""

from __future__ import annotations

from datetime import UTC, datetime

from orderhub.notify.adapters.aliyun_sms import (
    AliyunSmsAdapter,
    aliyun_signature,
    aliyun_string_to_sign,
    canonical_query,
)
from orderhub.notify.adapters.base import EndpointConfig, OutboundMessage, Outcome

# integrations.md §4: the official test vector.
VECTOR_PARAMS = {
    "AccessKeyId": "testId",
    "Action": "SendSms",
    "Format": "XML",
    "OutId": "123",
    "PhoneNumbers": "15300000001",
    "RegionId": "cn-hangzhou",
    "SignName": "阿里云短信测试专用",
    "SignatureMethod": "HMAC-SHA1",
    "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
    "SignatureVersion": "1.0",
    "TemplateCode": "SMS_71390007",
    "TemplateParam": '{"customer":"test"}',
    "Timestamp": "2017-07-12T02:42:19Z",
    "Version": "2017-05-25",
}
VECTOR_CANONICAL = (
    "AccessKeyId=testId&Action=SendSms&Format=XML&OutId=123&PhoneNumbers=15300000001&RegionId=cn-hangzhou"
    "&SignName=%E9%98%BF%E9%87%8C%E4%BA%91%E7%9F%AD%E4%BF%A1%E6%B5%8B%E8%AF%95%E4%B8%93%E7%94%A8"
    "&SignatureMethod=HMAC-SHA1&SignatureNonce=45e25e9b-0a6f-4070-8c85-2956eda1b466&SignatureVersion=1.0"
    "&TemplateCode=SMS_71390007&TemplateParam=%7B%22customer%22%3A%22test%22%7D"
    "&Timestamp=2017-07-12T02%3A42%3A19Z&Version=2017-05-25"
)
VECTOR_STRING_TO_SIGN = (
    "GET&%2F&AccessKeyId%3DtestId%26Action%3DSendSms%26Format%3DXML%26OutId%3D123%26PhoneNumbers%3D15300000001"
    "%26RegionId%3Dcn-hangzhou%26SignName%3D%25E9%2598%25BF%25E9%2587%258C%25E4%25BA%2591%25E7%259F%25AD%25E4"
    "%25BF%25A1%25E6%25B5%258B%25E8%25AF%2595%25E4%25B8%2593%25E7%2594%25A8%26SignatureMethod%3DHMAC-SHA1"
    "%26SignatureNonce%3D45e25e9b-0a6f-4070-8c85-2956eda1b466%26SignatureVersion%3D1.0%26TemplateCode%3D"
    "SMS_71390007%26TemplateParam%3D%257B%2522customer%2522%253A%2522test%2522%257D%26Timestamp%3D"
    "2017-07-12T02%253A42%253A19Z%26Version%3D2017-05-25"
)
VECTOR_SIGNATURE = "zJDF+Lrzhj/ThnlvIToysFRq6t4="


def vector_adapter(url: str, **kwargs) -> AliyunSmsAdapter:
    config = EndpointConfig(
        url=url,
        access_key_id="testId",
        secret="testSecret",
        sign_name="阿里云短信测试专用",
        template_code="SMS_71390007",
    )
    return AliyunSmsAdapter(
        config,
        now=lambda: datetime(2017, 7, 12, 2, 42, 19, tzinfo=UTC),
        nonce=lambda: "45e25e9b-0a6f-4070-8c85-2956eda1b466",
        **kwargs,
    )


VECTOR_MESSAGE = OutboundMessage(key="123", title="", address="15300000001", sms_params={"customer": "test"})


def test_the_signature_reproduces_the_official_example() -> None:
    assert canonical_query(VECTOR_PARAMS) == VECTOR_CANONICAL
    assert aliyun_string_to_sign(VECTOR_PARAMS, "GET") == VECTOR_STRING_TO_SIGN
    assert aliyun_signature(VECTOR_PARAMS, "testSecret", "GET") == VECTOR_SIGNATURE


def test_the_adapter_sends_exactly_the_documented_request(fake) -> None:
    server = fake("aliyun", secret="testSecret")
    adapter = vector_adapter(server.url, method="GET", response_format="XML")

    assert adapter.params(VECTOR_MESSAGE) == VECTOR_PARAMS
    result = adapter.send(VECTOR_MESSAGE)

    assert result.outcome == Outcome.ACCEPTED and server.problems == []
    req = server.requests[0]
    assert req.raw_query == f"Signature=zJDF%2BLrzhj%2FThnlvIToysFRq6t4%3D&{VECTOR_CANONICAL}"


def test_post_with_json_answers(fake) -> None:
    server = fake("aliyun", secret="testSecret")
    message = OutboundMessage(
        key="log:5:sms:u3",
        title="",
        address="13812345678",
        sms_params={"order_no": "SO5", "status": "物流异常"},
    )
    result = vector_adapter(server.url).send(message)

    assert (result.outcome, result.code) == (Outcome.ACCEPTED, "OK")
    form = server.requests[0].form
    assert form["OutId"] == "log:5:sms:u3" and form["Format"] == "JSON"
    assert form["TemplateParam"] == '{"order_no":"SO5","status":"物流异常"}'
    assert server.problems == []


def test_a_wrong_secret_is_refused_by_the_gateway_and_is_permanent(fake) -> None:
    server = fake("aliyun", secret="theRealSecret")
    result = vector_adapter(server.url).send(VECTOR_MESSAGE)
    assert (result.outcome, result.code) == (Outcome.PERMANENT, "SignatureDoesNotMatch")


def test_business_errors_come_with_http_200_and_are_classified(fake) -> None:
    server = fake("aliyun", secret="testSecret")
    server.answer(
        ("json", {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发分钟级流控Permits:1"}),
        ("json", {"Code": "isp.SYSTEM_ERROR", "Message": "isp.SYSTEM_ERROR"}),
    )
    adapter = vector_adapter(server.url)
    limited = adapter.send(VECTOR_MESSAGE)
    system = adapter.send(VECTOR_MESSAGE)
    assert (limited.outcome, limited.code) == (Outcome.PERMANENT, "isv.BUSINESS_LIMIT_CONTROL")
    assert "频率限制" in limited.message
    assert (system.outcome, system.code) == (Outcome.RETRYABLE, "isp.SYSTEM_ERROR")


def test_an_illegal_number_is_permanent_and_no_number_never_calls_aliyun(fake) -> None:
    server = fake("aliyun", secret="testSecret")
    adapter = vector_adapter(server.url)
    bad = adapter.send(OutboundMessage(key="k", title="", address="1381234abcd"))
    assert (bad.outcome, bad.code) == (Outcome.PERMANENT, "isv.MOBILE_NUMBER_ILLEGAL")
    none = adapter.send(OutboundMessage(key="k2", title="", address=""))
    assert (none.outcome, none.code, len(server.requests)) == (Outcome.PERMANENT, "no_mobile", 1)
