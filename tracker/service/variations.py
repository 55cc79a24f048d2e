"""A formal variation of a contract as a stored, dated record.

Both ``tracker vary`` (a variation agreed with the provider) and ``tracker extend`` (an
extension option taken up) move a contract's end or value; each is kept as a
:class:`VariationRow` with the end and value it moved from and to, so ``show``, the
register and the history say when and why the term changed. One builder for both.
"""

from __future__ import annotations

from datetime import datetime

from tracker.domain.dates import format_uk
from tracker.domain.money import format_gbp
from tracker.service.registers.inputs import VariationInput
from tracker.store.models import ContractRow, VariationRow


def apply_variation(
    row: ContractRow, agreed: VariationInput, *, actor: str, now: datetime
) -> tuple[VariationRow, str]:
    """Move the contract's end and/or value; returns the variation row (for the caller's
    session to add) and the change-log line naming what moved (``field: old -> new``)."""
    variation = VariationRow(contract_id=row.id, actor=actor, created_at=now)
    variation.ref_no, variation.dated, variation.note = agreed.ref_no, agreed.dated, agreed.note
    moved: list[str] = []
    new_end, new_value = agreed.end, agreed.value
    if new_end is not None and new_end != row.end_date:
        variation.old_end, variation.new_end = row.end_date, new_end
        moved.append(f"end: {format_uk(row.end_date)} -> {format_uk(new_end)}")
        row.end_date = new_end
    if new_value is not None and new_value != row.value:
        variation.old_value, variation.new_value = row.value, new_value
        old = format_gbp(row.value) if row.value is not None else "none"
        moved.append(f"value: {old} -> {format_gbp(new_value)}")
        row.value = new_value
    what = "; ".join(moved) or "nothing moved"
    detail = f"{row.ref}: {agreed.ref_no} of {format_uk(agreed.dated)}: {what}"
    return variation, detail + (f" ({agreed.note})" if agreed.note else "")
