"""Declarations that installed packages add to paysim through entry points (README *Extending paysim*): payment
rules (:data:`paysim.model.terms.CONTRACT_RULES_GROUP`, :data:`paysim.money.payment.PAYMENT_RULES_GROUP`) and
service lines (:data:`paysim.model.lines.SERVICE_LINES_GROUP`)."""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points


def plugin_declarations(group: str, kind: type) -> list:
    """The objects of type ``kind`` that installed packages declare under the entry-point ``group``, by name."""
    found = []
    for point in sorted(entry_points(group=group), key=lambda point: point.name):
        declared = point.load()
        if not isinstance(declared, kind) or declared.name != point.name:
            raise ImportError(
                f"entry point {point.name} = {point.value} in group {group}: expected a {kind.__name__} named "
                f"{point.name!r}, got {declared!r}"
            )
        found.append(declared)
    return found


def declared_class(reference: type | str, where: str) -> type:
    """A class a declaration names: the class itself, or ``"module:Class"`` (entry-point syntax), imported here.

    A service line from a plugin names its section and staff models as ``"module:Class"`` when they cannot be
    imported yet where the line is declared (:data:`paysim.model.lines.SERVICE_LINES` is read before
    :mod:`paysim.model.services` and :mod:`paysim.model.terms`, which define the models a section builds on).
    ``where`` names the declaration in the ImportError for a reference that does not name a class.
    """
    if isinstance(reference, type):
        return reference
    module, _, name = reference.partition(":")
    found = getattr(importlib.import_module(module), name, None) if module and name else None
    if not isinstance(found, type):
        raise ImportError(f"{where}: {reference!r} does not name a class (expected 'module:Class')")
    return found


__all__ = ["declared_class", "plugin_declarations"]
