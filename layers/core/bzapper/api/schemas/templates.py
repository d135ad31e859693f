"""Message templates of Cloud API numbers: GET /templates and POST /messages/template (docs/templates.md)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from bzapper.api.schemas.common import Strict
from bzapper.api.schemas.messages import SendEnvelope

_INSTANCE = "inst_01JD5V6W4E7R8T9Y0U1I2O3P4Q"

_COMPONENTS = (
    'Meta\'s send shape: `header` (one parameter: `text`, or `image`/`video`/`document` as `{"id": "med_…"}` '
    '(a file you uploaded with POST /media) or `{"link": "https://…"}`, or `location`), `body` (one parameter '
    "per variable, in order: `text`, `currency` or `date_time`; `parameter_name` for named variables) and "
    "`button` (`sub_type` `url` with the URL's suffix or an authentication code, `copy_code` with "
    "`coupon_code`, `quick_reply` with an optional `payload`; `index` of the button). Checked against the "
    "template: a 422 `template_parameters_invalid` whose `param` names the offending field."
)


class TemplateRef(Strict):
    name: str = Field(min_length=1, max_length=512, description="The template's name, as in GET /templates.")
    language: str = Field(
        min_length=2,
        max_length=16,
        description="Its language code exactly as GET /templates lists it (`en`, `pt_BR`, `es`): Meta never "
        "falls back to another language.",
    )
    components: list[dict[str, Any]] = Field(default_factory=list, max_length=20, description=_COMPONENTS)


class SendTemplateRequest(SendEnvelope):
    """A message template (Cloud API numbers only: 422 `not_supported` for sandbox and linked-device numbers).
    The one message a number may send to a contact outside the 24-hour customer service window."""

    template: TemplateRef

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "instance_id": _INSTANCE,
                "to": "+5511988888888",
                "template": {
                    "name": "order_update",
                    "language": "pt_BR",
                    "components": [
                        {
                            "type": "body",
                            "parameters": [{"type": "text", "text": "Maria"}, {"type": "text", "text": "#1234"}],
                        }
                    ],
                },
                "client_reference": "order-1234",
            }
        }
    )


class TemplateOut(BaseModel):
    id: str | None = Field(description="Meta's id of the template.")
    name: str
    language: str
    category: str = Field(description="`marketing`, `utility` or `authentication`.")
    status: str = Field(description="Meta's review state: only `APPROVED` may be sent.")
    components: list[dict[str, Any]] = Field(description="The template's definition, as Meta gives it.")


class TemplateList(BaseModel):
    instance_id: str
    data: list[TemplateOut]
    synced: str | None = Field(description="When they were last read from the WhatsApp Business Account.")
    object: Literal["list"] = "list"

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "object": "list",
                "instance_id": _INSTANCE,
                "synced": "2026-11-24T12:00:00.000Z",
                "data": [
                    {
                        "id": "1234567890",
                        "name": "order_update",
                        "language": "pt_BR",
                        "category": "utility",
                        "status": "APPROVED",
                        "components": [{"type": "BODY", "text": "Olá {{1}}, seu pedido {{2}} foi enviado."}],
                    }
                ],
            }
        }
    )
