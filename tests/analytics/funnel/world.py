"""A small company built by hand with every funnel case in it (canonical files).

People (lead level), with what the conventions make of them:

* L1  the whole waterfall, won 03-01
* L2  recycled at MQL (no budget), back to MQL 03-01, SAL 03-05: re-entry; open at SAL
* L3  inquiry → SQL (skips MQL and SAL), disqualified (bad fit): exited at SQL
* L4  SAL recorded *before* MQL (out of order): both entered 02-05; open at SAL
* L5  MQL and SAL at the same instant; open at SAL
* L6  inquiry only: open at inquiry
* L7  inquiry → customer (won) directly: every stage between skipped
* L8  MQL and its disqualification (spam) at the same instant: exited at MQL
* L9  recycled and disqualified at the same instant: counts once, as disqualified
* L10 recycled before anything else (an exit-only pass), then inquiry and MQL: open at MQL
* L11 only an unmapped status: no journey, listed as unmapped

Deals: O1 won (A1), O2 lost on price (A2), O3 a renewal won (A1: post-sale), O4 open (A3,
amount only on the deal), O5 open with transitions but no opportunity record (an orphan). A1
becomes a customer 03-01 and churns 04-15.
"""

from __future__ import annotations

from pathlib import Path

ACCOUNTS = """account_id,name,industry,employees,country,owner_id,custom
A1,Acme,software,50,US,u1,"{""tier"": ""strategic""}"
A2,Globex,manufacturing,500,DE,u2,
A3,Initech,software,5000,US,u1,
"""
CONTACTS = """\
contact_id,record_type,account_id,email,lead_source,owner_id,country,created_at,custom
L1,lead,A1,l1@acme.test,web,u1,US,2024-01-01T00:00:00,"{""tier"": ""gold"", ""n"": 3}"
L2,lead,A1,l2@acme.test,event,u2,,2024-01-03T00:00:00,"{""tier"": ""silver""}"
L3,lead,A2,l3@globex.test,web,u2,FR,2024-01-10T00:00:00,"{""n"": 1, ""tier"": ""gold""}"
L4,lead,A2,l4@globex.test,partner,u1,,2024-02-01T00:00:00,
L5,lead,A3,l5@initech.test,web,u1,,2024-02-12T00:00:00,
L6,lead,A3,l6@initech.test,,u2,,2024-03-01T00:00:00,
L7,lead,A3,l7@initech.test,event,u1,,2024-01-05T00:00:00,
L8,lead,,l8@example.test,web,u2,ES,2024-01-08T00:00:00,
L9,lead,,l9@example.test,partner,u2,ES,2024-01-12T00:00:00,
L10,lead,,l10@example.test,event,u1,,2024-01-02T00:00:00,
L11,lead,,l11@example.test,web,u1,,2024-01-02T00:00:00,
"""
TRANSITIONS = """entity_type,entity_id,to_stage,occurred_at,reason,amount
lead,L1,inquiry,2024-01-01T00:00:00,,
lead,L1,mql,2024-01-05T00:00:00,,
lead,L1,sal,2024-01-10T00:00:00,,
lead,L1,sql,2024-01-20T00:00:00,,
lead,L1,opportunity,2024-02-01T00:00:00,,
lead,L1,customer,2024-03-01T00:00:00,,
lead,L2,inquiry,2024-01-03T00:00:00,,
lead,L2,mql,2024-01-06T00:00:00,,
lead,L2,recycled,2024-01-20T00:00:00,no budget,
lead,L2,mql,2024-03-01T00:00:00,,
lead,L2,sal,2024-03-05T00:00:00,,
lead,L3,inquiry,2024-01-10T00:00:00,,
lead,L3,sql,2024-01-15T00:00:00,,
lead,L3,disqualified,2024-02-01T00:00:00,bad fit,
lead,L4,inquiry,2024-02-01T00:00:00,,
lead,L4,mql,2024-02-10T00:00:00,,
lead,L4,sal,2024-02-05T00:00:00,,
lead,L5,inquiry,2024-02-12T00:00:00,,
lead,L5,mql,2024-02-15T10:00:00,,
lead,L5,sal,2024-02-15T10:00:00,,
lead,L6,inquiry,2024-03-01T00:00:00,,
lead,L7,inquiry,2024-01-05T00:00:00,,
lead,L7,customer,2024-04-01T00:00:00,,
lead,L8,inquiry,2024-01-08T00:00:00,,
lead,L8,mql,2024-02-20T00:00:00,,
lead,L8,disqualified,2024-02-20T00:00:00,spam,
lead,L9,inquiry,2024-01-12T00:00:00,,
lead,L9,recycled,2024-01-25T00:00:00,timing,
lead,L9,disqualified,2024-01-25T00:00:00,bad fit,
lead,L10,recycled,2024-01-02T00:00:00,old list,
lead,L10,inquiry,2024-01-04T00:00:00,,
lead,L10,mql,2024-01-09T00:00:00,,
lead,L11,weird_status,2024-03-03T00:00:00,,
opportunity,O1,qualification,2024-02-01T00:00:00,,900
opportunity,O1,discovery,2024-02-10T00:00:00,,1000
opportunity,O1,closed_won,2024-03-01T00:00:00,,1000
opportunity,O2,qualification,2024-02-05T00:00:00,,500
opportunity,O2,closed_lost,2024-03-10T00:00:00,price,500
opportunity,O3,negotiation,2024-03-20T00:00:00,,800
opportunity,O3,closed_won,2024-04-01T00:00:00,,800
opportunity,O4,qualification,2024-03-25T00:00:00,,
opportunity,O5,qualification,2024-03-28T00:00:00,,
account,A1,customer,2024-03-01T00:00:00,,
account,A1,churned,2024-04-15T00:00:00,,
"""
OPPORTUNITIES = """\
opportunity_id,account_id,amount,stage,opportunity_type,owner_id,product,source_channel,\
primary_campaign_id,created_at,is_closed,is_won,custom
O1,A1,1000,closed_won,new,u1,Pro,web,c1,2024-02-01T00:00:00,true,true,"{""deal"": ""big""}"
O2,A2,500,closed_lost,new,u2,Basic,,c2,2024-02-05T00:00:00,true,false,
O3,A1,800,closed_won,renewal,u1,Pro,,,2024-03-20T00:00:00,true,true,
O4,A3,2000,qualification,new,u1,Pro,partner,,2024-03-25T00:00:00,false,false,
"""
USERS = """user_id,name,role,team_id
u1,Rita Rep,rep,t1
u2,Sam Sdr,sdr,t2
"""
TEAMS = """team_id,name
t1,East
t2,West
"""
CAMPAIGNS = """campaign_id,name,channel
c1,Spring search,paid_search
c2,Trade show,events
"""
TOUCHPOINTS = """touchpoint_id,occurred_at,contact_id,account_id,channel,campaign_id
t1,2023-12-30T00:00:00,L1,A1,paid_search,c1
t2,2024-01-02T00:00:00,L1,A1,email,
t3,2024-01-01T00:00:00,L2,A1,events,c2
t4,2024-02-01T00:00:00,L4,A2,webinar,
t5,2024-02-01T00:00:00,L4,A2,display,c2
"""
ROLES = """opportunity_id,contact_id,role
O1,L1,champion
O2,L3,decision_maker
"""

FILES = {
    "accounts.csv": ACCOUNTS, "contacts.csv": CONTACTS, "stage_transitions.csv": TRANSITIONS,
    "opportunities.csv": OPPORTUNITIES, "users.csv": USERS, "teams.csv": TEAMS,
    "campaigns.csv": CAMPAIGNS, "touchpoints.csv": TOUCHPOINTS,
    "opportunity_contacts.csv": ROLES,
}


def write_world(folder: Path) -> list[Path]:
    """Write the canonical files of the world; return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in FILES.items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths
