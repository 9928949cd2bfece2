"""A small company built in code, with every identity-resolution case in it."""

from __future__ import annotations

from pathlib import Path

ACCOUNTS = """account_id,name,domain,industry,employees,annual_revenue,country
acc-1,Acme,https://www.Acme.com/,software,250,12000000,US
acc-2,Globex,globex.io,manufacturing,1200,90000000,DE
acc-3,Initech,gmail.com,software,40,1000000,US
"""
CONTACTS = """contact_id,record_type,account_id,email,first_name,created_at,converted_contact_id
c-1,contact,acc-1,ann@acme.com,Ann,2024-01-10T09:00:00,
c-2,contact,,bob@globex.io,Bob,2024-01-11T09:00:00,
c-3,contact,,carl@gmail.com,Carl,2024-01-12T09:00:00,
c-4,contact,,Ann@ACME.com ,Ann B.,2024-02-01T09:00:00,
l-1,lead,,ann.lead@acme.com,Ann,2023-12-01T09:00:00,c-1
l-2,lead,,dora@unknown.org,Dora,2024-03-01T09:00:00,
l-3,lead,,bob@globex.io,Bobby,2023-11-01T09:00:00,
"""
TOUCHPOINTS = """touchpoint_id,occurred_at,account_id,contact_id,anonymous_id,touch_type,channel
t-1,2024-01-01T10:00:00,,,anon-9,visit,paid_search
t-2,2024-01-02T10:00:00,,,anon-9,content_view,organic_search
t-3,2024-01-03T10:00:00,,c-4,anon-9,identify,direct
t-4,2024-01-04T10:00:00,,c-4,,email_click,email
t-5,2024-01-05T10:00:00,,,anon-7,visit,display
t-6,2024-01-06T10:00:00,,l-3,,form_fill,paid_social
"""
TRANSITIONS = """entity_type,entity_id,to_stage,occurred_at
lead,l-1,inquiry,2023-12-01T09:00:00
lead,l-1,mql,2023-12-05T09:00:00
contact,c-1,sql,2024-01-10T09:00:00
contact,c-4,mql,2024-02-02T09:00:00
opportunity,o-1,discovery,2024-02-10T09:00:00
"""
OPPORTUNITIES = """\
opportunity_id,account_id,amount,stage,created_at,close_date,is_closed,is_won,owner_id
o-1,acc-1,50000,closed_won,2024-02-10T09:00:00,2024-04-10,true,true,u-1
o-2,acc-9,1000,discovery,2024-03-01T09:00:00,2024-06-30,false,false,u-1
"""
USERS = """user_id,name,role,team_id
u-1,Rita Rep,rep,team-1
"""
ROLES = """opportunity_id,contact_id,role
o-1,c-4,champion
o-1,c-1,decision_maker
"""


def write_world(folder: Path) -> list[Path]:
    """Write the canonical files of the world; return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "accounts.csv": ACCOUNTS, "contacts.csv": CONTACTS, "touchpoints.csv": TOUCHPOINTS,
        "stage_transitions.csv": TRANSITIONS, "opportunities.csv": OPPORTUNITIES,
        "users.csv": USERS, "opportunity_contacts.csv": ROLES,
    }
    paths = []
    for name, text in files.items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths
