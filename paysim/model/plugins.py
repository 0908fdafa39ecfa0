"""Declarations that installed packages add to paysim through entry points (README *Extending paysim*): payment
rules (:data:`paysim.model.terms.CONTRACT_RULES_GROUP`, :data:`paysim.money.payment.PAYMENT_RULES_GROUP`) and
service lines (:data:`paysim.model.lines.SERVICE_LINES_GROUP`)."""

from __future__ import annotations

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


__all__ = ["plugin_declarations"]
