"""The ``contacts`` mart: one row per surviving person, with the account resolved.

Records merged into another (:mod:`revloop.model.identity.merges`) are not rows of their own;
the survivor counts them in ``merged_records`` and may take its account from them. The account
rules are in :mod:`revloop.model.identity.accounts`; ``account_match`` says which one decided.
"""

from __future__ import annotations

import ibis
from ibis import _

from revloop.model import tables
from revloop.model.identity.accounts import (
    account_columns,
    domain_accounts,
    email_domain,
    merged_accounts,
)
from revloop.model.steps import BuildOptions, Inputs, Step

_CONTACTS = tables.staging(tables.CONTACTS)
_ACCOUNTS = tables.staging(tables.ACCOUNTS)


def contacts_mart(inputs: Inputs, options: BuildOptions) -> ibis.Table:
    """Surviving people with ``email_domain``, ``merged_records`` and ``account_match``."""
    contacts = inputs[_CONTACTS]
    merges = inputs[tables.INT_CONTACT_MERGES]
    m = merges.filter(_.reason != "self")
    merged_count = m.group_by(cid=_.canonical_contact_id).agg(merged_records=_.count())
    alive = merges.filter(_.contact_id == _.canonical_contact_id).select(sid=_.contact_id)
    survivors = contacts.join(alive, contacts.contact_id == alive.sid).drop("sid")
    # Fill a survivor's empty account from the records merged into it (e.g. its lead).
    by_merge = merged_accounts(contacts, m)
    domains = domain_accounts(inputs[_ACCOUNTS])
    with_domain = survivors.mutate(email_domain=email_domain(survivors.email))
    joined = (
        with_domain.left_join(by_merge, with_domain.contact_id == by_merge.cid)
        .drop("cid")
        .left_join(domains, _.email_domain == domains.dom)
        .drop("dom")
        .left_join(merged_count, _.contact_id == merged_count.cid)
        .drop("cid")
    )
    return joined.mutate(
        **account_columns(joined, options.free_mail_domains),
        merged_records=ibis.coalesce(joined.merged_records, 0),
    ).drop("merged_account", "domain_account")


STEP = Step(
    name=tables.CONTACTS, inputs=(_CONTACTS, tables.INT_CONTACT_MERGES, _ACCOUNTS),
    build=contacts_mart,
    doc="one row per surviving person, with the account resolved and how",
)
