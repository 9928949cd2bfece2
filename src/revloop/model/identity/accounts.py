"""Account matching: a person without an account joins one, by merged record or e-mail domain.

A surviving person's account is, in this order: the account of its own record (``source``);
else the smallest account id among the records merged into it, e.g. its converted lead
(``merged_record``); else the account whose ``domain`` is the domain of the person's e-mail,
unless that domain is free mail (``email_domain``; several accounts with one domain: the
smallest id). Otherwise the person has no account. The contacts mart
(:mod:`revloop.model.marts.contacts`) applies these rules and records which one decided in
``account_match``; ``int_contact_accounts`` lists the e-mail-domain matches for review.
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis
from ibis import _
from ibis.expr.types import StringValue

from revloop.model import tables
from revloop.model.steps import BuildOptions, Inputs, Step

#: ``account_match`` of a person whose account was found by e-mail domain.
EMAIL_DOMAIN = "email_domain"
#: Every ``account_match`` value, in order of precedence (NULL: no account).
ACCOUNT_MATCHES = ("source", "merged_record", EMAIL_DOMAIN)


def email_domain(email: StringValue) -> StringValue:
    """The part of an e-mail after its last ``@`` (NULL when there is none)."""
    domain = email.re_extract(r"@([^@]+)$", 1)
    return ibis.ifelse(domain == "", ibis.null("string"), domain)


def domain_accounts(accounts: ibis.Table) -> ibis.Table:
    """``dom`` → ``domain_account``: the smallest account id of each account domain."""
    return (
        accounts.filter(_.domain.notnull())
        .group_by(dom=_.domain)
        .agg(domain_account=_.account_id.min())
    )


def merged_accounts(contacts: ibis.Table, merged: ibis.Table) -> ibis.Table:
    """``cid`` → ``merged_account``: the smallest account of the records merged into a person.

    ``merged`` holds the merges that are not ``self`` (``contact_id`` → ``canonical_contact_id``).
    """
    return (
        contacts.join(merged, "contact_id")
        .filter(_.account_id.notnull())
        .group_by(cid=_.canonical_contact_id)
        .agg(merged_account=_.account_id.min())
    )


def account_columns(people: ibis.Table, free_mail: Sequence[str]) -> dict[str, ibis.Value]:
    """``account_match`` and the resolved ``account_id`` of ``people``.

    ``people`` has the person's own ``account_id``, ``merged_account``, ``email_domain`` and
    ``domain_account`` (the account of that domain, before the free-mail check).
    """
    free = list(free_mail) or ["-"]  # an empty isin() does not compile everywhere
    domain_ok = people.domain_account.notnull() & ~people.email_domain.isin(free)
    return {
        "account_match": ibis.cases(
            (people.account_id.notnull(), ACCOUNT_MATCHES[0]),
            (people.merged_account.notnull(), ACCOUNT_MATCHES[1]),
            (domain_ok, EMAIL_DOMAIN),
            else_=ibis.null("string"),
        ),
        "account_id": ibis.coalesce(
            people.account_id, people.merged_account,
            ibis.ifelse(domain_ok, people.domain_account, ibis.null("string")),
        ),
    }


def contact_accounts(inputs: Inputs, options: BuildOptions) -> ibis.Table:
    """The people of the contacts mart whose account was found by e-mail domain."""
    contacts = inputs[tables.CONTACTS]
    return contacts.filter(_.account_match == EMAIL_DOMAIN).select(
        "contact_id", "email_domain", "account_id"
    )


STEP = Step(
    name=tables.INT_CONTACT_ACCOUNTS, inputs=(tables.CONTACTS,), build=contact_accounts,
    doc="people joined to an account by the domain of their e-mail (free mail excluded)",
)
