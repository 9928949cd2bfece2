"""``int_contact_merges``: every person's surviving record (conversions, then same e-mail).

People with the same normalised e-mail are one person. Among the records of one e-mail that
are not themselves converted leads, the survivor is the contact record (not a lead), then the
earliest created (a record without a creation date comes last), then the smallest id — the same
on every engine. The e-mail that decides is that of the record a person already folds into
(a converted lead follows its contact's e-mail, not its own).
"""

from __future__ import annotations

import ibis
from ibis import _

from revloop.model import tables
from revloop.model.steps import BuildOptions, Inputs, Step

#: Why a person maps to its surviving id.
REASONS = ("self", "converted_lead", "same_email")


def email_survivors(base: ibis.Table) -> ibis.Table:
    """``email_key`` → ``email_survivor``: the surviving record of each normalised e-mail."""
    survivors = base.filter(~_.converted & _.email.notnull())
    w = ibis.window(
        group_by=survivors.email,
        order_by=[
            ibis.ifelse(survivors.record_type == "contact", 0, 1),
            survivors.created_at.isnull(), survivors.created_at, survivors.contact_id,
        ],
    )
    ranked = survivors.select(_.email, _.contact_id, rank=ibis.row_number().over(w))
    return ranked.filter(_.rank == 0).select(email_key=_.email, email_survivor=_.contact_id)


def contact_merges(inputs: Inputs, options: BuildOptions) -> ibis.Table:
    """``contact_id`` → ``canonical_contact_id`` and the ``reason`` (one of :data:`REASONS`).

    Joins ``int_contact_conversions`` with itself (a person and the record it folds into), so
    it reads the materialised conversions table.
    """
    base = inputs[tables.INT_CONTACT_CONVERSIONS]
    by_email = email_survivors(base)
    # the e-mail that decides is the one of the record the row already folds into
    targets = base.view().select(t_id=_.contact_id, t_email=_.email)
    merged = base.left_join(targets, base.step1_id == targets.t_id)
    merged = merged.left_join(by_email, merged.t_email == by_email.email_key)
    canonical = ibis.coalesce(merged.email_survivor, merged.step1_id)
    return merged.select(
        contact_id=merged.contact_id,
        canonical_contact_id=canonical,
        reason=ibis.cases(
            (merged.converted & (canonical == merged.step1_id), "converted_lead"),
            (canonical != merged.contact_id, "same_email"),
            else_="self",
        ),
    )


STEP = Step(
    name=tables.INT_CONTACT_MERGES, inputs=(tables.INT_CONTACT_CONVERSIONS,),
    build=contact_merges,
    doc="every contact id → its surviving id, by conversion and then by same e-mail",
)
