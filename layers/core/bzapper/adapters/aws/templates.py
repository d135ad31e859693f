"""Templates in DynamoDB: one item per (number, name, language), and the number's `#synced` item.

A WhatsApp Business Account may hold hundreds of templates (far over one item's 400 KB), so each is an item;
a replace writes the changed ones and deletes the ones gone, then stamps `#synced`. A read during a replace
may see some templates new and some old, each whole: the same as reading Meta a moment earlier or later.
"""

from __future__ import annotations

import builtins

from pynamodb.exceptions import DoesNotExist

from bzapper.adapters.aws.models import TemplateModel
from bzapper.domain.templates import Template, TemplateSet, template_key

SYNCED = "#synced"


def _template(item: TemplateModel) -> Template:
    return Template(
        name=item.name or "",
        language=item.language or "",
        category=item.category or "",
        status=item.status or "",
        components=list(item.components or []),
        id=item.template_id,
    )


def _item(instance_id: str, template: Template) -> TemplateModel:
    return TemplateModel(
        instance_id,
        template.key,
        name=template.name,
        language=template.language,
        category=template.category,
        status=template.status,
        components=template.components,
        template_id=template.id,
    )


class TemplateStore:
    def list(self, instance_id: str) -> TemplateSet | None:
        """One Query (paged by DynamoDB past 1 MB): every template and the `#synced` stamp."""
        templates: list[Template] = []
        synced_at: int | None = None
        for item in TemplateModel.query(instance_id, consistent_read=True):
            if item.key == SYNCED:
                synced_at = int(item.synced_at or 0)
            else:
                templates.append(_template(item))
        if synced_at is None:
            return None
        return TemplateSet(templates, synced_at)

    def get(self, instance_id: str, name: str, language: str) -> Template | None:
        try:
            return _template(TemplateModel.get(instance_id, template_key(name, language), consistent_read=True))
        except DoesNotExist:
            return None

    def lookup(self, instance_id: str, name: str, language: str) -> tuple[Template | None, int | None]:
        """One BatchGetItem of the template's item and the `#synced` item."""
        keys = [(instance_id, template_key(name, language)), (instance_id, SYNCED)]
        template, synced_at = None, None
        for item in TemplateModel.batch_get(keys, consistent_read=True):
            if item.key == SYNCED:
                synced_at = int(item.synced_at or 0)
            else:
                template = _template(item)
        return template, synced_at

    def replace(self, instance_id: str, templates: builtins.list[Template], synced_at: int) -> None:
        current = {
            item.key: item for item in TemplateModel.query(instance_id, consistent_read=True) if item.key != SYNCED
        }
        wanted = {template.key: template for template in templates}
        with TemplateModel.batch_write() as batch:
            for key, template in wanted.items():
                old = current.get(key)
                if old is None or _template(old) != template:
                    batch.save(_item(instance_id, template))
            for key, item in current.items():
                if key not in wanted:
                    batch.delete(item)
        TemplateModel(instance_id, SYNCED, synced_at=synced_at).save()
