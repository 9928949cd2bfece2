"""A hand-built company for the rule engine: every rule case (caps, decay, once-only,
negatives, groups, custom attributes, technographics, as-of filtering) in a few rows."""

from __future__ import annotations

from pathlib import Path

ACCOUNTS = """account_id,name,domain,industry,employees,country,created_at,tier
acc-1,Acme,acme.com,software,250,US,2023-01-01T00:00:00,gold
acc-2,Globex,globex.io,manufacturing,1200,DE,2023-01-01T00:00:00,silver
acc-3,Rival,rival.com,software,90,US,2023-01-01T00:00:00,
"""
CONTACTS = """\
contact_id,record_type,account_id,email,seniority,created_at,is_unsubscribed,plan,seats
c-1,contact,acc-1,ann@acme.com,vp,2024-01-01T00:00:00,false,Pro,12
c-2,contact,acc-2,bob@globex.io,manager,2024-01-05T00:00:00,false,basic,3
c-3,lead,,carl@uni.edu,staff,2024-02-01T00:00:00,true,,
c-4,contact,acc-3,dan@RIVAL.com,c_level,2024-02-10T00:00:00,false,pro,x
c-5,lead,acc-1,eve@acme.com,vp,2024-06-01T00:00:00,false,,
c-6,lead,,fay@example.org,,,false,,
"""
TECHNOGRAPHICS = """account_id,technology,category,first_seen
acc-1,Salesforce,crm,2023-01-01
acc-2,salesforce,crm,2024-05-01
acc-2,HubSpot,marketing_automation,2023-06-01
"""
CAMPAIGNS = """campaign_id,name,channel,campaign_type
cmp-1,Spring Webinar,webinar,Webinar
cmp-2,Newsletter,email,Email
"""
CONTENT = """content_id,title,content_type,topic
ct-1,Pricing Guide,ebook,pricing
ct-2,Blog post,article,general
"""
# as_of in the tests is 2024-04-01T00:00:00
TOUCHPOINTS = """touchpoint_id,occurred_at,contact_id,touch_type,channel,campaign_id,content_id,url
t-01,2024-03-01T00:00:00,c-1,visit,organic_search,,,https://acme.io/pricing
t-02,2024-03-11T00:00:00,c-1,visit,organic_search,,,https://acme.io/pricing?plan=pro
t-03,2024-03-21T00:00:00,c-1,visit,direct,,,https://acme.io/Pricing/enterprise
t-04,2024-03-31T00:00:00,c-1,visit,direct,,,https://acme.io/pricing
t-05,2024-02-01T00:00:00,c-1,webinar,webinar,cmp-1,,
t-06,2024-03-01T00:00:00,c-1,webinar,webinar,cmp-1,,
t-07,2024-03-22T00:00:00,c-1,email_open,email,cmp-2,,
t-08,2024-03-12T00:00:00,c-1,email_open,email,cmp-2,,
t-09,2024-01-15T00:00:00,c-1,form_fill,paid_search,,ct-1,https://acme.io/demo
t-10,2024-03-30T00:00:00,c-2,visit,direct,,,https://acme.io/careers
t-11,2024-03-25T00:00:00,c-2,visit,direct,,,https://acme.io/pricing
t-12,2024-03-01T00:00:00,c-3,webinar,webinar,cmp-1,,
t-13,2024-03-01T00:00:00,c-3,webinar,webinar,cmp-1,,
t-14,2024-04-02T00:00:00,c-1,form_fill,paid_search,,ct-1,https://acme.io/demo
t-15,2024-04-01T00:00:00,c-2,webinar,webinar,cmp-1,,
t-16,2024-03-15T00:00:00,c-5,visit,direct,,,https://acme.io/pricing
t-17,2024-03-31T12:00:00,c-6,form_fill,paid_social,,ct-1,https://x.org
t-18,2024-03-31T12:00:00,c-6,email_open,email,,,
t-19,2024-02-15T00:00:00,c-2,visit,direct,,,https://acme.io/pricing
"""

RULES = r"""
version: 1
name: hand world
mql_threshold: 50
decay:
  half_life_days: 30
groups:
  general: {}
  analytics: {cap: 25, mql_threshold: 20, description: analytics product line}
  penalties: {floor: -40}
fit:
  - {name: software, field: account.industry, in: [Software, SaaS], points: 10}
  - {name: big_company, field: account.employees, gte: 200, points: 5}
  - {name: senior, field: seniority, in: [vp, c_level], points: 8}
  - {name: pro_plan, field: custom.plan, equals: PRO, points: 4, group: analytics}
  - {name: many_seats, field: custom.seats, gt: 10, points: 3, group: analytics}
  - {name: student, field: email, matches: '\.edu$', points: -20, group: penalties}
  - {name: unsubscribed, field: is_unsubscribed, equals: true, points: -25, group: penalties}
  - {name: competitor, field: email_domain, in: [rival.com], points: -50, group: penalties}
  - {name: uses_salesforce, field: account.technology, in: [salesforce], points: 6}
  - {name: gold_tier, field: account.custom.tier, equals: gold, points: 2}
engagement:
  - {name: pricing_page, touch_type: visit, url: "*/pricing*", points: 10, cap: 25}
  - {name: webinar, touch_type: webinar, points: 15, once: true, group: analytics}
  - {name: email_open, touch_type: email_open, points: 2, half_life_days: 10}
  - {name: demo_request, touch_type: form_fill, content: [pricing guide], points: 30,
     decay: false}
  - {name: careers, url: "*/careers*", points: -5}
  - name: webinar_campaign
    group: analytics
    points: 3
    all:
      - {field: campaign.campaign_type, equals: Webinar}
  - {name: disabled_rule, touch_type: visit, points: 100, enabled: false}
"""


def write_hand_world(folder: Path) -> list[Path]:
    """Write the canonical files; return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {"accounts.csv": ACCOUNTS, "contacts.csv": CONTACTS,
             "technographics.csv": TECHNOGRAPHICS, "campaigns.csv": CAMPAIGNS,
             "content.csv": CONTENT, "touchpoints.csv": TOUCHPOINTS}
    out = []
    for name, text in files.items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        out.append(path)
    return out
