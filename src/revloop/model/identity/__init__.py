"""Identity resolution: which records are one person, and whose account and touches are theirs.

Source systems hold the same person several times: a lead and the contact it was converted
into, two contact records typed by different people, a visitor known only by a cookie. The
build resolves them with four deterministic rules, one module and one table each, in this
order:

1. :mod:`.conversions` (``int_contact_conversions``) — a converted lead folds into the contact
   it became;
2. :mod:`.merges` (``int_contact_merges``) — people with the same normalised e-mail are one
   person; the contact record survives, then the earliest created, then the smallest id. Every
   contact id maps to exactly one surviving id;
3. :mod:`.accounts` (``int_contact_accounts``) — a person without an account takes the account
   of a record merged into it, else the account whose domain is their e-mail's domain, unless
   that is free mail;
4. :mod:`.anonymous` (``int_anonymous_identities``) — an anonymous visitor id belongs to the
   person named by its first touch that carries both ids, so earlier anonymous touches become
   theirs.

Nothing is thrown away: the marts keep one row per surviving person, and a merged person's
stage history, deal roles and campaign memberships move to the survivor with the original id
kept beside it. The rules, their order and their limits are described in ``docs/identity.md``.
"""

from __future__ import annotations

from revloop.model.identity import accounts, anonymous, conversions, merges
from revloop.model.steps import Step

#: The identity-resolution steps, in the order of the rules.
STEPS: tuple[Step, ...] = (conversions.STEP, merges.STEP, accounts.STEP, anonymous.STEP)
