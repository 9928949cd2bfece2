"""Five hand-built accounts whose journeys are worked out by hand below.

acc-1 Acme: two people (c-1 on the deal's contact roles, c-2 not), an anonymous visitor later
identified as c-2, a touch older than the 365-day lookback, opportunity o1 (won) and an open
expansion o3. acc-2 Globex: o2 lost, then one more touch (a non-converting tail). acc-3 Initech:
o4 won with its only touch outside the lookback (unattributed). acc-4 Hooli: touches, never an
opportunity (a non-converting journey). acc-5 Umbrella: touches too recent to count as not
converted (inside the 90-day conversion window before the data end, 2024-10-01 10:00;
non-converting journeys end at 2024-07-03 10:00).
"""

from __future__ import annotations

from pathlib import Path

ACCOUNTS = """account_id,name,domain
acc-1,Acme,acme.com
acc-2,Globex,globex.io
acc-3,Initech,initech.com
acc-4,Hooli,hooli.com
acc-5,Umbrella,umbrella.com
"""
CONTACTS = """contact_id,record_type,account_id,email,created_at
c-1,contact,acc-1,ann@acme.com,2024-01-05T09:00:00
c-2,contact,acc-1,bob@acme.com,2024-02-01T09:00:00
c-3,contact,acc-2,cat@globex.io,2024-01-10T09:00:00
c-4,contact,acc-3,dan@initech.com,2023-06-01T09:00:00
c-5,contact,acc-4,eve@hooli.com,2024-01-02T09:00:00
c-6,contact,acc-5,fay@umbrella.com,2024-08-01T09:00:00
"""
TOUCHPOINTS = """\
touchpoint_id,occurred_at,contact_id,anonymous_id,touch_type,channel,campaign_id,content_id,properties
t01,2023-01-10T10:00:00,c-1,,visit,paid_search,cmp-ps,,
t02,2024-01-02T10:00:00,,anon-1,ad_click,display,cmp-dis,,"{""region"": ""emea""}"
t03,2024-01-04T10:00:00,c-1,,ad_click,paid_search,cmp-ps,,"{""region"": ""emea""}"
t04,2024-01-20T10:00:00,c-1,,email_click,email,cmp-em,ct-1,
t05,2024-02-01T08:00:00,c-2,anon-1,form_fill,webinar,cmp-web,,
t06,2024-02-20T10:00:00,c-2,,visit,direct,,,
t07,2024-03-01T09:00:00,c-1,,event,events,cmp-ev,,
t08,2024-04-15T10:00:00,c-1,,meeting,sales,,,
t09,2024-05-20T10:00:00,c-2,,email_open,email,cmp-em,ct-1,
t10,2024-01-12T10:00:00,c-3,,ad_click,paid_social,cmp-soc,,"{""region"": ""na""}"
t11,2024-02-05T10:00:00,c-3,,webinar,webinar,cmp-web,,
t12,2024-03-09T10:00:00,c-3,,email_click,email,cmp-em,ct-1,
t13,2024-06-01T10:00:00,c-3,,email_click,email,cmp-em,,
t14,2023-01-01T10:00:00,c-4,,visit,organic_search,,,
t15,2024-02-01T10:00:00,c-5,,ad_click,paid_search,cmp-ps,,
t16,2024-02-03T10:00:00,c-5,,ad_click,display,cmp-dis,,
t17,2024-10-01T10:00:00,c-6,,ad_click,paid_social,cmp-soc,,
t18,2024-02-10T10:00:00,,anon-9,visit,display,cmp-dis,,
"""
OPPORTUNITIES = """\
opportunity_id,account_id,amount,created_at,close_date,is_closed,is_won,source_channel
o1,acc-1,100000,2024-03-01T12:00:00,2024-05-01,true,true,paid_search
o2,acc-2,50000,2024-03-10T12:00:00,2024-04-20,true,false,paid_social
o3,acc-1,20000,2024-06-01T12:00:00,2024-09-30,false,false,
o4,acc-3,30000,2024-02-15T12:00:00,2024-03-30,true,true,partner
"""
ROLES = """opportunity_id,contact_id,role
o1,c-1,champion
o2,c-3,decision_maker
o4,c-4,champion
"""
TRANSITIONS = """entity_type,entity_id,to_stage,occurred_at
contact,c-1,mql,2024-01-21T09:00:00
contact,c-2,mql,2024-02-01T09:00:00
contact,c-3,mql,2024-02-06T09:00:00
contact,c-1,opportunity,2024-03-01T12:00:00
contact,c-3,opportunity,2024-03-10T12:00:00
"""
CAMPAIGNS = """campaign_id,name,channel,start_date,end_date,actual_cost
cmp-ps,Search brand,paid_search,2024-01-01,2024-12-31,5000
cmp-dis,Display retargeting,display,,,
cmp-em,Nurture,email,,,
cmp-web,Webinar series,webinar,,,3000
cmp-soc,Social launch,paid_social,,,
cmp-ev,Summit,events,,,
"""
SPEND = """campaign_id,day,amount
cmp-dis,2024-01-01,1000
cmp-dis,2024-02-01,500
cmp-em,2024-01-15,200
cmp-soc,2024-01-10,800
cmp-ev,2024-02-28,4000
"""
CONTENT = """content_id,title
ct-1,Buyer's guide
"""

#: Hand-derived journeys: (path, conversions, nulls, value) — see the module docstring.
ACCOUNT_PIPELINE = [
    (["display", "paid_search", "email", "webinar", "direct", "events"], 1, 0, 100000),  # o1
    (["display", "paid_search", "email", "webinar", "direct", "events", "sales", "email"],
     1, 0, 20000),  # o3: every acc-1 touch of the year before 2024-06-01
    (["paid_social", "webinar", "email"], 1, 0, 50000),  # o2
    ([], 1, 0, 30000),  # o4: its one touch is 410 days old
    (["email"], 0, 1, 0),  # acc-2 after o2 closed
    (["paid_search", "display"], 0, 1, 0),  # acc-4 never had an opportunity
]
ACCOUNT_REVENUE = [
    (["display", "paid_search", "email", "webinar", "direct", "events", "sales"], 1, 0,
     100000),  # o1 to the end of its close day
    (["paid_social", "webinar", "email"], 0, 1, 0),  # o2 lost
    ([], 1, 0, 30000),  # o4 won, no touch in the window
    (["email"], 0, 1, 0),
    (["paid_search", "display"], 0, 1, 0),
]
CONTACT_PIPELINE = [
    (["paid_search", "email", "events"], 1, 0, 100000),  # c-1 on o1 (c-2's touches are not)
    (["paid_social", "webinar", "email"], 1, 0, 50000),  # c-3 on o2
    ([], 1, 0, 30000),  # c-4 on o4
    (["display", "webinar", "direct", "email"], 0, 1, 0),  # c-2: on no deal, stitched t02
    (["email"], 0, 1, 0),  # c-3 after o2 closed
    (["paid_search", "display"], 0, 1, 0),  # c-5
]
CONTACT_MQL = [
    (["paid_search", "email"], 1, 0, 0),  # c-1 became an mql on 2024-01-21
    (["display", "webinar"], 1, 0, 0),  # c-2 on 2024-02-01 09:00 (form fill at 08:00)
    (["paid_social", "webinar"], 1, 0, 0),  # c-3 on 2024-02-06
    # c-4 never either, but its only touch is older than the window of non-converting
    # journeys, which ends 90 days before the data end (2024-07-03 10:00)
    (["paid_search", "display"], 0, 1, 0),  # c-5 never
]


def write_world(folder: Path) -> list[Path]:
    """Write the canonical files; return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "accounts.csv": ACCOUNTS, "contacts.csv": CONTACTS, "touchpoints.csv": TOUCHPOINTS,
        "opportunities.csv": OPPORTUNITIES, "opportunity_contacts.csv": ROLES,
        "stage_transitions.csv": TRANSITIONS, "campaigns.csv": CAMPAIGNS,
        "campaign_spend.csv": SPEND, "content.csv": CONTENT,
    }
    paths = []
    for name, text in files.items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths
