"""``int_contact_conversions``: a converted lead folds into the contact it became.

The first rule of identity resolution. A lead (``record_type = 'lead'``) whose
``converted_contact_id`` names a contact that exists folds into that contact; every other
person folds into itself. The e-mail merge (:mod:`.merges`) starts from here.
"""

from __future__ import annotations

import ibis
from ibis import _

from revloop.model import tables
from revloop.model.steps import BuildOptions, Inputs, Step

_CONTACTS = tables.staging(tables.CONTACTS)


def contact_conversions(inputs: Inputs, options: BuildOptions) -> ibis.Table:
    """Each person with the record it folds into first (``step1_id``) and whether by conversion.

    Reads ``stg_contacts`` twice (the lead and the contact it names): a self-join, so it
    reads the materialised staging table.
    """
    contacts = inputs[_CONTACTS]
    ids = contacts.view().select(target_id=_.contact_id)
    conv = contacts.filter(_.converted_contact_id.notnull() & (_.record_type == "lead"))
    conv = conv.join(ids, conv.converted_contact_id == ids.target_id).select(
        contact_id=_.contact_id, via_conversion=_.converted_contact_id
    )
    return contacts.left_join(conv, "contact_id").select(
        contacts.contact_id, contacts.email, contacts.record_type, contacts.created_at,
        step1_id=ibis.coalesce(conv.via_conversion, contacts.contact_id),
        converted=conv.via_conversion.notnull(),
    )


STEP = Step(
    name=tables.INT_CONTACT_CONVERSIONS, inputs=(_CONTACTS,), build=contact_conversions,
    doc="every person with the record it folds into first: a converted lead → its contact",
)
