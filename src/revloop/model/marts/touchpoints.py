"""The ``touchpoints`` mart: every touch with its (surviving) person and account.

A touch without a person takes the person its anonymous id was stitched to
(:mod:`revloop.model.identity.anonymous`); ``identity`` says which: ``known``, ``stitched`` or
``anonymous``. The person is then replaced by its surviving id, and a touch without an account
takes its person's account from the contacts mart.
"""

from __future__ import annotations

import ibis
from ibis import _

from revloop.model import tables
from revloop.model.steps import BuildOptions, Inputs, Step

_TOUCHPOINTS = tables.staging(tables.TOUCHPOINTS)


def touchpoints_mart(inputs: Inputs, options: BuildOptions) -> ibis.Table:
    """Touches with ``identity``, the surviving ``contact_id`` and the resolved ``account_id``."""
    touchpoints = inputs[_TOUCHPOINTS]
    anon = inputs[tables.INT_ANONYMOUS_IDENTITIES]
    a = anon.select(anon_key=_.anonymous_id, anon_contact=_.contact_id)
    t = touchpoints.left_join(a, touchpoints.anonymous_id == a.anon_key).drop("anon_key")
    t = t.mutate(
        identity=ibis.cases(
            (t.contact_id.notnull(), "known"),
            (t.anon_contact.notnull(), "stitched"),
            else_="anonymous",
        ),
        raw_contact_id=ibis.coalesce(t.contact_id, t.anon_contact),
    ).drop("anon_contact")
    m = inputs[tables.INT_CONTACT_MERGES].select(mc=_.contact_id,
                                                  canonical=_.canonical_contact_id)
    t = t.left_join(m, t.raw_contact_id == m.mc).drop("mc")
    c = inputs[tables.CONTACTS].select(cc=_.contact_id, contact_account=_.account_id)
    t = t.mutate(contact_id=ibis.coalesce(t.canonical, t.raw_contact_id)).drop(
        "canonical", "raw_contact_id")
    t = t.left_join(c, t.contact_id == c.cc).drop("cc")
    return t.mutate(account_id=ibis.coalesce(t.account_id, t.contact_account)).drop(
        "contact_account")


STEP = Step(
    name=tables.TOUCHPOINTS,
    inputs=(_TOUCHPOINTS, tables.INT_CONTACT_MERGES, tables.INT_ANONYMOUS_IDENTITIES,
            tables.CONTACTS),
    build=touchpoints_mart,
    doc="every touch with its surviving person (stitched when anonymous) and account",
)
