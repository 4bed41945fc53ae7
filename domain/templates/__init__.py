"""The built-in Terms of Reference an alliance can be founded from, one per source alliance."""

from __future__ import annotations

from types import ModuleType

import msgspec

from domain.errors import UnknownTemplate
from domain.rules import Clause, Rules
from domain.templates import (
    children_in_care,
    family_justice,
    kinship_care,
    kinship_network,
    separated_families,
)
from domain.values import Template


class TemplateDoc(msgspec.Struct, frozen=True, kw_only=True):
    """A ready-made ToR: numbered clauses of text and the structured rules they carry."""

    name: str
    title: str
    source: str
    summary: str
    clauses: tuple[Clause, ...]
    rules: Rules


def _doc(name: Template, module: ModuleType) -> TemplateDoc:
    return TemplateDoc(
        name=name.value,
        title=module.TITLE,
        source=module.SOURCE,
        summary=module.SUMMARY,
        clauses=module.CLAUSES,
        rules=module.RULES,
    )


TEMPLATES: dict[str, TemplateDoc] = {
    doc.name: doc
    for doc in (
        _doc(Template.FAMILY_JUSTICE, family_justice),
        _doc(Template.SEPARATED_FAMILIES, separated_families),
        _doc(Template.CHILDREN_IN_CARE, children_in_care),
        _doc(Template.KINSHIP_NETWORK, kinship_network),
        _doc(Template.KINSHIP_CARE, kinship_care),
    )
}


def template(name: str) -> TemplateDoc:
    """The built-in template of that name, or UnknownTemplate naming the choices."""
    try:
        return TEMPLATES[name]
    except KeyError:
        raise UnknownTemplate(name, list(TEMPLATES)) from None
