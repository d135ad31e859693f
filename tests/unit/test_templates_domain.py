"""The pure rules of templates, the customer service window and Meta's pricing (bzapper.domain.templates,
service_window, pricing): every refusal of a send's components names the field at fault."""

from __future__ import annotations

import pytest

from bzapper.domain.errors import BzError
from bzapper.domain.pricing import pricing_metrics, pricing_of
from bzapper.domain.service_window import WINDOW_MS, needs_window, window_open
from bzapper.domain.templates import REFRESH_MS, Template, TemplateSet, check_send, placeholders

MEDIA_ID = "med_01JD5V6W4E7R8T9Y0V1W2X3Y4Z"

ORDER = Template(
    name="order_update",
    language="pt_BR",
    category="utility",
    status="APPROVED",
    id="111",
    components=[
        {"type": "HEADER", "format": "TEXT", "text": "Pedido {{1}}"},
        {"type": "BODY", "text": "Olá {{1}}, seu pedido {{2}} chega em {{3}}. Total {{4}}."},
        {"type": "FOOTER", "text": "Acme"},
        {
            "type": "BUTTONS",
            "buttons": [
                {"type": "URL", "text": "Rastrear", "url": "https://acme.example/track/{{1}}"},
                {"type": "QUICK_REPLY", "text": "Parar"},
                {"type": "URL", "text": "Site", "url": "https://acme.example"},
            ],
        },
    ],
)
CODE = Template(
    name="verification_code",
    language="en",
    category="authentication",
    status="APPROVED",
    components=[
        {"type": "BODY", "text": "{{1}} is your verification code."},
        {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE", "text": "Copy code"}]},
    ],
)
IMAGE = Template(
    name="promo",
    language="es",
    category="marketing",
    status="APPROVED",
    components=[
        {"type": "HEADER", "format": "IMAGE"},
        {"type": "BODY", "text": "Hola {{first_name}}, usa {{coupon}}"},
        {"type": "BUTTONS", "buttons": [{"type": "COPY_CODE", "example": "SAVE10"}]},
    ],
)


def text(value: str) -> dict:
    return {"type": "text", "text": value}


def order_components(**overrides) -> list[dict]:
    components = {
        "header": {"type": "header", "parameters": [text("#1234")]},
        "body": {
            "type": "body",
            "parameters": [
                text("Maria"),
                text("#1234"),
                {"type": "date_time", "date_time": {"fallback_value": "12/12"}},
                {"type": "currency", "currency": {"fallback_value": "R$ 10,00", "code": "BRL", "amount_1000": 10000}},
            ],
        },
        "button": {"type": "button", "sub_type": "url", "index": 0, "parameters": [text("1234")]},
    }
    components.update(overrides)
    return [value for value in components.values() if value is not None]


def refused(template, components, name=None, language=None) -> BzError:
    with pytest.raises(BzError) as raised:
        check_send(template, name or (template.name if template else "x"), language or "pt_BR", components)
    return raised.value


# The template itself ----------------------------------------------------------------------------------------


def test_a_complete_send_is_accepted_with_the_templates_facts():
    checked = check_send(ORDER, "order_update", "pt_BR", order_components())

    template = checked.content["template"]
    assert (template["name"], template["language"], template["category"], template["id"]) == (
        "order_update",
        "pt_BR",
        "utility",
        "111",
    )
    assert [c["type"] for c in template["components"]] == ["header", "body", "button"]
    assert template["components"][2] == {"type": "button", "sub_type": "url", "index": 0, "parameters": [text("1234")]}
    assert checked.media == []


def test_no_template_by_that_name_and_language_is_not_found():
    error = refused(None, [], name="order_update", language="pt")
    assert (error.code, error.status, error.param) == ("template_not_found", 422, "template.name")
    assert error.params == {"name": "order_update", "language": "pt"}


@pytest.mark.parametrize("status", ["PENDING", "REJECTED", "PAUSED", "DISABLED"])
def test_only_an_approved_template_may_be_sent(status):
    pending = Template("order_update", "pt_BR", "utility", status, ORDER.components)
    error = refused(pending, order_components())
    assert (error.code, error.status, error.params["status"]) == ("template_not_approved", 422, status)


def test_the_language_is_matched_exactly_with_no_fallback():
    found = TemplateSet([ORDER], synced_at=0)
    assert found.find("order_update", "pt_BR") is ORDER
    assert found.find("order_update", "pt") is None
    assert found.find("order_update", "pt_br") is None
    assert found.find("order_update", "en") is None


def test_the_stored_copy_goes_stale_after_the_refresh_interval():
    found = TemplateSet([], synced_at=1_000)
    assert not found.stale(1_000 + REFRESH_MS - 1)
    assert found.stale(1_000 + REFRESH_MS)


def test_placeholders_are_the_distinct_variables_in_order():
    assert placeholders("{{2}} {{1}} {{ 2 }} {{name}}") == ["2", "1", "name"]
    assert placeholders(None) == []


# Components and their parameters -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("components", "param", "reason"),
    [
        ("nope", "template.components", "shape"),
        (["x"], "template.components.0", "shape"),
        ([{"type": "footer", "parameters": []}], "template.components.0.type", "component_type"),
        (
            order_components(body={"type": "body", "parameters": [text("a")]}),
            "template.components.1.parameters",
            "count",
        ),
        (order_components(body=None), "template.components", "missing"),
        (order_components(header=None), "template.components", "missing"),
        (order_components(button=None), "template.components", "missing"),
        (
            [*order_components(), {"type": "body", "parameters": []}],
            "template.components.3.type",
            "duplicate",
        ),
        (
            [*order_components(), {"type": "button", "sub_type": "url", "index": "0", "parameters": [text("9")]}],
            "template.components.3.index",
            "duplicate",
        ),
        (
            order_components(header={"type": "header", "parameters": [text("#1234")], "extra": 1}),
            "template.components.0.extra",
            "unknown_field",
        ),
        (
            order_components(header={"type": "header", "parameters": [text("x" * 61)]}),
            "template.components.0.parameters.0.text",
            "text",
        ),
        (
            order_components(header={"type": "header", "parameters": [text("  ")]}),
            "template.components.0.parameters.0.text",
            "text",
        ),
        (
            order_components(
                body={
                    "type": "body",
                    "parameters": [text("a"), text("b"), text("c"), {"type": "image", "image": {"link": "x"}}],
                }
            ),
            "template.components.1.parameters.3.type",
            "parameter_type",
        ),
        (
            order_components(
                body={
                    "type": "body",
                    "parameters": [
                        text("a"),
                        text("b"),
                        text("c"),
                        {"type": "currency", "currency": {"fallback_value": "x", "code": "real", "amount_1000": 1}},
                    ],
                }
            ),
            "template.components.1.parameters.3.currency.code",
            "currency_code",
        ),
        (
            order_components(
                body={
                    "type": "body",
                    "parameters": [
                        text("a"),
                        text("b"),
                        text("c"),
                        {"type": "currency", "currency": {"fallback_value": "x", "code": "BRL", "amount_1000": 1.5}},
                    ],
                }
            ),
            "template.components.1.parameters.3.currency.amount_1000",
            "integer",
        ),
        (
            order_components(
                body={
                    "type": "body",
                    "parameters": [text("a"), text("b"), {"type": "date_time", "date_time": {}}, text("d")],
                }
            ),
            "template.components.1.parameters.2.date_time.fallback_value",
            "text",
        ),
        (
            order_components(button={"type": "button", "sub_type": "url", "index": 7, "parameters": [text("1")]}),
            "template.components.2.index",
            "button_index",
        ),
        (
            order_components(
                button={"type": "button", "sub_type": "quick_reply", "index": 0, "parameters": [text("1")]}
            ),
            "template.components.2.sub_type",
            "sub_type",
        ),
        (
            order_components(button={"type": "button", "sub_type": "url", "index": 0, "parameters": []}),
            "template.components.2.parameters",
            "count",
        ),
        (
            [
                *order_components(),
                {"type": "button", "sub_type": "url", "index": 2, "parameters": [text("no variable in this url")]},
            ],
            "template.components.3.parameters",
            "count",
        ),
    ],
)
def test_every_broken_rule_names_its_field(components, param, reason):
    error = refused(ORDER, components)
    assert (error.code, error.status, error.param) == ("template_parameters_invalid", 422, param)
    assert error.message_key == f"error.template_parameters_invalid.{reason}"


def test_a_quick_reply_payload_is_optional_and_a_button_index_may_be_a_string():
    components = [
        *order_components(button={"type": "button", "sub_type": "url", "index": "0", "parameters": [text("9")]}),
        {"type": "button", "sub_type": "quick_reply", "index": 1, "parameters": [{"type": "payload", "payload": "S"}]},
    ]
    checked = check_send(ORDER, "order_update", "pt_BR", components)
    assert [c.get("index") for c in checked.content["template"]["components"]] == [None, None, 0, 1]


def test_a_header_for_a_template_with_no_header_variable_is_refused():
    error = refused(CODE, [{"type": "header", "parameters": [text("x")]}], language="en")
    assert (error.param, error.message_key) == (
        "template.components.0.type",
        "error.template_parameters_invalid.unexpected",
    )


def test_an_authentication_code_goes_in_the_url_button_and_is_short():
    body = {"type": "body", "parameters": [text("123456")]}
    button = {"type": "button", "sub_type": "url", "index": 0, "parameters": [text("123456")]}
    check_send(CODE, "verification_code", "en", [body, button])

    long_code = {**button, "parameters": [text("1" * 16)]}
    error = refused(CODE, [body, long_code], language="en")
    assert error.param == "template.components.1.parameters.0.text" and error.params["limit"] == 15
    error = refused(CODE, [body], language="en")
    assert (error.param, error.params["component"]) == ("template.components", "button 0")


def image_send(header_value: dict, coupon: str = "SAVE10") -> list[dict]:
    return [
        {"type": "header", "parameters": [{"type": "image", "image": header_value}]},
        {
            "type": "body",
            "parameters": [
                {"type": "text", "text": "Ana", "parameter_name": "first_name"},
                {"type": "text", "text": "SAVE10", "parameter_name": "coupon"},
            ],
        },
        {
            "type": "button",
            "sub_type": "copy_code",
            "index": 0,
            "parameters": [{"type": "coupon_code", "coupon_code": coupon}],
        },
    ]


def test_a_media_header_by_our_id_is_handed_back_for_resolution():
    checked = check_send(IMAGE, "promo", "es", image_send({"id": MEDIA_ID}))
    [media] = checked.media
    assert (media.kind, media.media_id, media.param) == (
        "image",
        MEDIA_ID,
        "template.components.0.parameters.0.image.id",
    )


def test_a_media_header_by_link_is_kept_for_meta_to_fetch():
    checked = check_send(IMAGE, "promo", "es", image_send({"link": "https://cdn.example/promo.jpg"}))
    assert checked.media == []
    header = checked.content["template"]["components"][0]
    assert header["parameters"][0] == {"type": "image", "image": {"link": "https://cdn.example/promo.jpg"}}


@pytest.mark.parametrize(
    ("value", "param", "reason"),
    [
        ({}, "template.components.0.parameters.0.image", "media"),
        ({"id": MEDIA_ID, "link": "https://x.example/a.jpg"}, "template.components.0.parameters.0.image", "media"),
        ({"id": "meta-id-123"}, "template.components.0.parameters.0.image.id", "media_id"),
        ({"link": "ftp://x.example/a.jpg"}, "template.components.0.parameters.0.image.link", "link"),
    ],
)
def test_a_media_header_needs_exactly_our_id_or_a_link(value, param, reason):
    error = refused(IMAGE, image_send(value), language="es")
    assert (error.param, error.message_key) == (param, f"error.template_parameters_invalid.{reason}")


def test_a_media_header_of_another_kind_is_refused():
    components = image_send({"link": "https://x.example/a.mp4"})
    components[0] = {"type": "header", "parameters": [{"type": "video", "video": {"link": "https://x.example/a.mp4"}}]}
    error = refused(IMAGE, components, language="es")
    assert (error.param, error.params["expected"]) == ("template.components.0.parameters.0.type", "image")


def test_named_variables_need_each_name_once():
    components = image_send({"link": "https://x.example/a.jpg"})
    components[1]["parameters"][1]["parameter_name"] = "first_name"
    error = refused(IMAGE, components, language="es")
    assert (error.param, error.params["missing"]) == ("template.components.1.parameters", "coupon")

    del components[1]["parameters"][0]["parameter_name"]
    error = refused(IMAGE, components, language="es")
    assert error.param == "template.components.1.parameters.0.parameter_name"


def test_a_coupon_code_is_at_most_fifteen_characters():
    error = refused(IMAGE, image_send({"link": "https://x.example/a.jpg"}, coupon="X" * 16), language="es")
    assert error.param == "template.components.2.parameters.0.coupon_code"


# The customer service window ---------------------------------------------------------------------------------


def test_the_window_is_open_for_24_hours_after_the_contacts_last_message():
    wrote = 1_000_000
    assert window_open(wrote, wrote)
    assert window_open(wrote, wrote + WINDOW_MS - 1)
    assert not window_open(wrote, wrote + WINDOW_MS)  # closed at exactly 24 hours
    assert not window_open(None, wrote)  # never wrote
    assert window_open(wrote + 5, wrote)  # a clock a little ahead never refuses


def test_only_free_form_sends_of_cloud_numbers_need_the_window():
    assert needs_window("cloud", "text") and needs_window("cloud", "image") and needs_window("cloud", "reaction")
    assert not needs_window("cloud", "template")
    assert not needs_window("sandbox", "text") and not needs_window("whatsmeow", "text")


# Pricing -----------------------------------------------------------------------------------------------------


def test_a_reports_pricing_is_cleaned_or_ignored():
    assert pricing_of({"category": "UTILITY", "billable": True, "model": "PMP"}) == {
        "category": "utility",
        "billable": True,
        "model": "PMP",
    }
    assert pricing_of({"category": "service", "billable": False}) == {
        "category": "service",
        "billable": False,
        "model": None,
    }
    assert pricing_of({"category": "service", "billable": "yes"}) is None
    assert pricing_of({"billable": True}) is None
    assert pricing_of("marketing") is None
    assert pricing_of(None) is None


def test_a_priced_message_counts_in_its_category_and_as_billable_when_billed():
    assert pricing_metrics({"category": "marketing", "billable": True}) == ("priced_marketing", "billable_marketing")
    assert pricing_metrics({"category": "service", "billable": False}) == ("priced_service",)
    assert pricing_metrics({"category": "referral_conversion", "billable": False}) == ("priced_other",)
    assert pricing_metrics(None) == ()
