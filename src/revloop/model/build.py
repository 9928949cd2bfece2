"""The model build: raw tables → staging → intermediate → marts, as Ibis expressions.

The same expressions run on DuckDB, PostgreSQL and Spark and give identical marts. Every
step is materialised (``store.replace_table``) so later steps and analytics read tables, not
ever-deeper views, and each table is replaced atomically.

Identity resolution happens in the intermediate layer:

* ``int_contact_merges`` — duplicate people merged by normalised e-mail, and converted leads
  merged into the contact they became; each contact id maps to one surviving id;
* ``int_contact_accounts`` — people without an account joined to one by e-mail domain
  (free-mail domains excluded);
* ``int_anonymous_identities`` — anonymous visitor ids stitched to the person an identifying
  touch (one carrying both ids) links them to, so earlier anonymous touches become theirs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import ibis
from ibis import _

from revloop.schema import ENTITIES, ENTITY_BY_NAME, META_COLUMNS
from revloop.store.base import Store

StepHook = Callable[[str], None]

# Per-entity normalisation in staging: column -> function of the column.
_LOWER_TRIM = {"email", "domain"}


@dataclass(frozen=True)
class BuildOptions:
    """What the build needs to know beyond the data."""

    free_mail_domains: Sequence[str] = ()


MART_KEYS: dict[str, tuple[str, ...]] = {
    **{e.name: e.key for e in ENTITIES},
    "opportunity_enhanced": ("opportunity_id",),
    "data_issues": ("entity", "entity_key", "column_name"),
}


def _stage(store: Store, name: str) -> Any:
    ent = ENTITY_BY_NAME[name]
    raw = store.table(ent.raw_table)
    meta = {m for m, _ in META_COLUMNS}
    cols: dict[str, Any] = {}
    for col in raw.columns:
        if col in meta:
            continue
        value = raw[col]
        if col in _LOWER_TRIM:
            value = value.strip().lower()
            value = ibis.ifelse(value == "", ibis.null("string"), value)
        cols[col] = value
    return raw.select(**cols)


def _contact_conversions(contacts: Any) -> Any:
    """Each person with the record it folds into first: a converted lead → its contact."""
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


def _contact_merges(base: Any) -> Any:
    """contact_id → canonical_contact_id and why (``base`` is int_contact_conversions)."""
    # People with the same normalised e-mail are one person: the contact record (not the lead)
    # survives, then the earliest created, then the smallest id — deterministic everywhere.
    survivors = base.filter(~_.converted & _.email.notnull())
    w = ibis.window(
        group_by=survivors.email,
        order_by=[
            ibis.ifelse(survivors.record_type == "contact", 0, 1),
            survivors.created_at.isnull(), survivors.created_at, survivors.contact_id,
        ],
    )
    ranked = survivors.select(_.email, _.contact_id, rank=ibis.row_number().over(w))
    by_email = ranked.filter(_.rank == 0).select(email_key=_.email, email_survivor=_.contact_id)
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


def _contacts_mart(contacts: Any, merges: Any, accounts: Any, free_mail: Sequence[str]) -> tuple[
        Any, Any]:
    """One row per surviving person, with the account resolved; and the domain matches."""
    m = merges.filter(_.reason != "self")
    merged_count = m.group_by(cid=_.canonical_contact_id).agg(merged_records=_.count())
    alive = merges.filter(_.contact_id == _.canonical_contact_id).select(sid=_.contact_id)
    survivors = contacts.join(alive, contacts.contact_id == alive.sid).drop("sid")
    # Fill a survivor's empty account from the records merged into it (e.g. its lead).
    merged_accounts = (
        contacts.join(m, "contact_id")
        .filter(_.account_id.notnull())
        .group_by(cid=_.canonical_contact_id)
        .agg(merged_account=_.account_id.min())
    )
    domains = (
        accounts.filter(_.domain.notnull())
        .group_by(dom=_.domain)
        .agg(domain_account=_.account_id.min())
    )
    email_domain = survivors.email.re_extract(r"@([^@]+)$", 1)
    with_domain = survivors.mutate(
        email_domain=ibis.ifelse(email_domain == "", ibis.null("string"), email_domain)
    )
    joined = (
        with_domain.left_join(merged_accounts, with_domain.contact_id == merged_accounts.cid)
        .drop("cid")
        .left_join(domains, _.email_domain == domains.dom)
        .drop("dom")
        .left_join(merged_count, _.contact_id == merged_count.cid)
        .drop("cid")
    )
    free = list(free_mail) or ["-"]
    domain_ok = joined.domain_account.notnull() & ~joined.email_domain.isin(free)
    out = joined.mutate(
        account_match=ibis.cases(
            (joined.account_id.notnull(), "source"),
            (joined.merged_account.notnull(), "merged_record"),
            (domain_ok, "email_domain"),
            else_=ibis.null("string"),
        ),
        account_id=ibis.coalesce(
            joined.account_id, joined.merged_account,
            ibis.ifelse(domain_ok, joined.domain_account, ibis.null("string")),
        ),
        merged_records=ibis.coalesce(joined.merged_records, 0),
    ).drop("merged_account", "domain_account")
    matches = out.filter(_.account_match == "email_domain").select(
        "contact_id", "email_domain", "account_id"
    )
    return out, matches


def _anonymous_identities(touchpoints: Any, merges: Any) -> Any:
    """anonymous_id → the person its first identifying touch names."""
    links = touchpoints.filter(_.anonymous_id.notnull() & _.contact_id.notnull())
    w = ibis.window(group_by=links.anonymous_id,
                    order_by=[links.occurred_at, links.touchpoint_id])
    first = links.select(
        _.anonymous_id, _.contact_id, identified_at=_.occurred_at,
        rank=ibis.row_number().over(w),
    ).filter(_.rank == 0).drop("rank")
    return first.left_join(merges, "contact_id").select(
        first.anonymous_id, first.identified_at,
        contact_id=ibis.coalesce(merges.canonical_contact_id, first.contact_id),
    )


def _touchpoints_mart(touchpoints: Any, merges: Any, anon: Any, contacts: Any) -> Any:
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
    m = merges.select(mc=_.contact_id, canonical=_.canonical_contact_id)
    t = t.left_join(m, t.raw_contact_id == m.mc).drop("mc")
    c = contacts.select(cc=_.contact_id, contact_account=_.account_id)
    t = t.mutate(contact_id=ibis.coalesce(t.canonical, t.raw_contact_id)).drop(
        "canonical", "raw_contact_id")
    t = t.left_join(c, t.contact_id == c.cc).drop("cc")
    return t.mutate(account_id=ibis.coalesce(t.account_id, t.contact_account)).drop(
        "contact_account")


def _remap_contact(table: Any, column: str, merges: Any) -> Any:
    m = merges.select(mc=_.contact_id, canonical=_.canonical_contact_id)
    out = table.left_join(m, table[column] == m.mc)
    return out.mutate(**{
        f"original_{column}": out[column],
        column: ibis.coalesce(out.canonical, out[column]),
    }).drop("mc", "canonical")


def _transitions_mart(transitions: Any, merges: Any) -> Any:
    """People's stage history moves to the surviving id; both histories are kept."""
    m = merges.select(mc=_.contact_id, canonical=_.canonical_contact_id)
    t = transitions.left_join(
        m, (transitions.entity_id == m.mc) & transitions.entity_type.isin(["lead", "contact"])
    )
    return t.mutate(
        original_entity_id=t.entity_id,
        entity_id=ibis.coalesce(t.canonical, t.entity_id),
    ).drop("mc", "canonical")


def _opportunity_enhanced(opps: Any, accounts: Any, users: Any, campaigns: Any,
                          roles: Any) -> Any:
    a = accounts.select(a_id=_.account_id, account_name=_.name, account_industry=_.industry,
                        account_country=_.country, account_employees=_.employees)
    u = users.select(u_id=_.user_id, owner_name=_.name, owner_team_id=_.team_id)
    c = campaigns.select(c_id=_.campaign_id, primary_campaign_name=_.name,
                         primary_campaign_channel=_.channel)
    r = roles.group_by(r_id=_.opportunity_id).agg(contact_roles=_.count())
    o = (
        opps.left_join(a, opps.account_id == a.a_id).drop("a_id")
        .left_join(u, _.owner_id == u.u_id).drop("u_id")
        .left_join(c, _.primary_campaign_id == c.c_id).drop("c_id")
        .left_join(r, _.opportunity_id == r.r_id).drop("r_id")
    )
    days = (o.close_date.cast("timestamp").epoch_seconds()
            - o.created_at.epoch_seconds()) / 86400.0
    return o.mutate(
        contact_roles=ibis.coalesce(o.contact_roles, 0),
        cycle_days=ibis.ifelse(o.is_closed == True, days, ibis.null("float64")),  # noqa: E712
    )


def _data_issues(marts: dict[str, Any]) -> Any:
    """Every reference that points to nothing: kept in the marts, listed here."""
    parts = []
    for ent in ENTITIES:
        table = marts[ent.name]
        key = ent.key[0] if len(ent.key) == 1 else None
        for col in ent.columns:
            if not col.references or col.name not in table.columns:
                continue
            target = ENTITY_BY_NAME[col.references]
            keys = marts[target.name].select(k=_[target.key[0]])
            if ent.name == "contacts" and col.name == "converted_contact_id":
                continue  # folded into the contact itself by the merge
            orphan = table.filter(table[col.name].notnull()).anti_join(
                keys, table[col.name] == keys.k
            )
            entity_key = orphan[key] if key else ibis.literal("").cast("string")
            if not key:
                parts_key = [orphan[k].cast("string") for k in ent.key]
                entity_key = parts_key[0]
                for p in parts_key[1:]:
                    entity_key = entity_key.concat(" / ", ibis.coalesce(p, ""))
            parts.append(orphan.select(
                entity=ibis.literal(ent.name), entity_key=entity_key.cast("string"),
                column_name=ibis.literal(col.name), value=orphan[col.name].cast("string"),
                issue=ibis.literal(f"no {target.name} with this {target.key[0]}"),
            ))
    return ibis.union(*parts, distinct=False)


def build(store: Store, options: BuildOptions | None = None,
          step: StepHook | None = None) -> dict[str, int]:
    """Run the whole build; return the row count of every mart."""
    opts = options or BuildOptions()
    report = step or (lambda _name: None)

    def materialise(name: str, expr: Any) -> Any:
        report(name)
        store.replace_table(name, expr)
        return store.table(name)

    stg = {e.name: materialise(f"stg_{e.name}", _stage(store, e.name)) for e in ENTITIES}
    conversions = materialise("int_contact_conversions", _contact_conversions(stg["contacts"]))
    merges = materialise("int_contact_merges", _contact_merges(conversions))
    contacts, matches = _contacts_mart(stg["contacts"], merges, stg["accounts"],
                                       opts.free_mail_domains)
    marts: dict[str, Any] = {}
    marts["accounts"] = materialise("accounts", stg["accounts"])
    marts["contacts"] = materialise("contacts", contacts)
    materialise("int_contact_accounts", matches)
    anon = materialise("int_anonymous_identities",
                       _anonymous_identities(stg["touchpoints"], merges))
    marts["touchpoints"] = materialise(
        "touchpoints", _touchpoints_mart(stg["touchpoints"], merges, anon, marts["contacts"]))
    marts["stage_transitions"] = materialise(
        "stage_transitions", _transitions_mart(stg["stage_transitions"], merges))
    for name in ("opportunity_contacts", "campaign_members"):
        marts[name] = materialise(name, _remap_contact(stg[name], "contact_id", merges))
    for ent in ENTITIES:
        if ent.name not in marts:
            marts[ent.name] = materialise(ent.name, stg[ent.name])
    marts["opportunity_enhanced"] = materialise("opportunity_enhanced", _opportunity_enhanced(
        marts["opportunities"], marts["accounts"], marts["users"], marts["campaigns"],
        marts["opportunity_contacts"]))
    marts["data_issues"] = materialise("data_issues", _data_issues(marts))
    return {name: int(t.count().execute()) for name, t in marts.items()}
