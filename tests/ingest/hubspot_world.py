"""One small HubSpot world written in four export forms (made-up people and companies).

The UI export (labels as headers and values), the API / CRM v3 export (internal names),
Fivetran's HubSpot connector tables and Airbyte's HubSpot source streams hold the same
records, so they must import to the same canonical rows.
"""

from __future__ import annotations

from pathlib import Path

UI: dict[str, str] = {
    "hubspot-crm-exports-all-contacts-2024-03-05.csv": '''\
Record ID,First Name,Last Name,Email,Job Title,Country/Region,Lifecycle Stage,Lead Status,\
Contact owner,Original Traffic Source,Original Traffic Source Drill-Down 1,Create Date,\
Last Modified Date,Associated Company IDs (Primary),Associated Company,\
"Date entered ""Lead (Lifecycle Stage Pipeline)""",Became a Marketing Qualified Lead Date,\
"Date entered ""Customer (Lifecycle Stage Pipeline)""",\
"Date exited ""Lead (Lifecycle Stage Pipeline)""",Became a Subscriber Date,Lead Source,\
Lead Source (2)
101,Ann,Lee,ann@acme.example,CMO,Germany,Customer,Connected,Jane Rep,Paid Search,crm tools,\
2024-01-05 10:00,2024-03-02 08:00,9001,Acme,2024-01-05 10:00,2024-01-15 10:00,\
2024-03-01 12:00,2024-01-15 10:00,,Webinar,Partner
102,Bob,Stone,bob@beta.example,,France,Marketing Qualified Lead,,Jane Rep,Organic Search,,\
2024-02-01 08:00,2024-02-03 09:00,9002,Acme EU,2024-02-01 08:00,2024-02-03 09:00,,,,,
103,Cy,Moss,cy@gamma.example,,,Subscriber,,,Offline Sources,,2024-02-10 00:00,\
2024-02-10 00:00,,,,,,,2024-02-10 00:00,,
''',
    "all-companies.csv": '''\
Record ID,Company name,Company Domain Name,Website URL,Number of Employees,Annual Revenue,\
Country/Region,State/Region,Company owner,Parent Company,Create Date,Lifecycle Stage,\
Last Modified Date
9001,Acme,www.Acme.example,,250,12000000,United States,CA,Jane Rep,,2023-12-01 00:00,Customer,\
2024-03-01 00:00
9002,Acme EU,,https://www.acme-eu.example/about,40,,Germany,Bavaria,,9001,2024-01-10 09:00,\
Lead,2024-03-01 00:00
''',
    "all-deals.csv": '''\
Record ID,Deal Name,Deal Stage,Pipeline,Amount,Amount in company currency,Currency,Close Date,\
Deal Type,Deal owner,Create Date,Associated Company IDs,Associated Contact IDs,\
"Date entered ""Appointment Scheduled (Sales Pipeline)""",\
"Date entered ""Qualified To Buy (Sales Pipeline)""",\
"Date entered ""Closed Won (Sales Pipeline)"""
5001,Acme platform,Closed Won,Sales Pipeline,48000,52000,EUR,2024-03-01 00:00,New Business,\
Jane Rep,2024-01-20 00:00,9001,101,2024-01-20 00:00,,2024-03-01 00:00
5002,Acme EU add-on,Qualified To Buy,Sales Pipeline,5000.5,5400,EUR,,Existing Business,,\
2024-03-01 00:00,9002,102,2024-03-01 00:00,2024-03-02 00:00,
''',
}

API: dict[str, str] = {
    "contacts.csv": """\
hs_object_id,firstname,lastname,email,jobtitle,country,lifecyclestage,hs_lead_status,\
hubspot_owner_id,hs_analytics_source,hs_analytics_source_data_1,createdate,lastmodifieddate,\
associatedcompanyid,hs_lifecyclestage_lead_date,hs_lifecyclestage_marketingqualifiedlead_date,\
hs_lifecyclestage_customer_date,hs_lifecyclestage_subscriber_date
101,Ann,Lee,ann@acme.example,CMO,Germany,customer,CONNECTED,77,PAID_SEARCH,crm tools,\
2024-01-05T10:00:00Z,2024-03-02T08:00:00Z,9001,2024-01-05T10:00:00Z,1705312800000,\
2024-03-01T12:00:00Z,
102,Bob,Stone,bob@beta.example,,France,marketingqualifiedlead,,77,ORGANIC_SEARCH,,\
2024-02-01T08:00:00Z,2024-02-03T09:00:00Z,9002,2024-02-01T08:00:00Z,2024-02-03T09:00:00Z,,
103,Cy,Moss,cy@gamma.example,,,subscriber,,,OFFLINE,,2024-02-10T00:00:00Z,\
2024-02-10T00:00:00Z,,,,,2024-02-10T00:00:00Z
""",
    "companies.csv": """\
hs_object_id,name,domain,website,numberofemployees,annualrevenue,country,state,\
hubspot_owner_id,hs_parent_company_id,createdate,lifecyclestage,hs_lastmodifieddate
9001,Acme,www.Acme.example,,250,12000000,United States,CA,77,,2023-12-01T00:00:00Z,customer,\
2024-03-01T00:00:00Z
9002,Acme EU,,https://www.acme-eu.example/about,40,,Germany,Bavaria,,9001,\
2024-01-10T09:00:00Z,lead,2024-03-01T00:00:00Z
""",
    "deals.csv": """\
hs_object_id,dealname,dealstage,pipeline,amount,deal_currency_code,closedate,dealtype,\
hubspot_owner_id,createdate,associatedcompanyid,hs_date_entered_appointmentscheduled,\
hs_date_entered_qualifiedtobuy,hs_date_entered_closedwon
5001,Acme platform,closedwon,default,48000,EUR,2024-03-01T00:00:00Z,newbusiness,77,\
2024-01-20T00:00:00Z,9001,2024-01-20T00:00:00Z,,2024-03-01T00:00:00Z
5002,Acme EU add-on,qualifiedtobuy,default,5000.5,EUR,,existingbusiness,,1709251200000,9002,\
2024-03-01T00:00:00Z,2024-03-02T00:00:00Z,
""",
}

_FT_SYNC = "2024-05-01T00:00:00Z"
FIVETRAN: dict[str, str] = {
    "contact.csv": f"""\
id,property_firstname,property_lastname,property_email,property_jobtitle,property_country,\
property_lifecyclestage,property_hs_lead_status,property_hubspot_owner_id,\
property_hs_analytics_source,property_createdate,property_lastmodifieddate,\
property_hs_lifecyclestage_lead_date,property_hs_lifecyclestage_marketingqualifiedlead_date,\
property_hs_lifecyclestage_customer_date,property_hs_lifecyclestage_subscriber_date,\
_fivetran_deleted,_fivetran_synced
101,Ann,Lee,ann@acme.example,CMO,Germany,customer,CONNECTED,77,PAID_SEARCH,\
2024-01-05T10:00:00Z,2024-03-02T08:00:00Z,2024-01-05T10:00:00Z,2024-01-15T10:00:00Z,\
2024-03-01T12:00:00Z,,false,{_FT_SYNC}
102,Bob,Stone,bob@beta.example,,France,marketingqualifiedlead,,77,ORGANIC_SEARCH,\
2024-02-01T08:00:00Z,2024-02-03T09:00:00Z,2024-02-01T08:00:00Z,2024-02-03T09:00:00Z,,,false,\
{_FT_SYNC}
103,Cy,Moss,cy@gamma.example,,,subscriber,,,OFFLINE,2024-02-10T00:00:00Z,\
2024-02-10T00:00:00Z,,,,2024-02-10T00:00:00Z,false,{_FT_SYNC}
104,Gone,Away,gone@delta.example,,,lead,,,DIRECT_TRAFFIC,2024-02-11T00:00:00Z,\
2024-02-12T00:00:00Z,2024-02-11T00:00:00Z,,,,true,{_FT_SYNC}
""",
    "contact_company.csv": f"""\
contact_id,company_id,type_id,category,_fivetran_synced
101,9002,279,HUBSPOT_DEFINED,{_FT_SYNC}
101,9001,1,HUBSPOT_DEFINED,{_FT_SYNC}
102,9002,1,HUBSPOT_DEFINED,{_FT_SYNC}
""",
    "company.csv": f"""\
id,property_name,property_domain,property_website,property_numberofemployees,\
property_annualrevenue,property_country,property_state,property_hubspot_owner_id,\
property_hs_parent_company_id,property_createdate,property_lifecyclestage,\
property_hs_lastmodifieddate,is_deleted,_fivetran_synced
9001,Acme,www.Acme.example,,250,12000000,United States,CA,77,,2023-12-01T00:00:00Z,customer,\
2024-03-01T00:00:00Z,false,{_FT_SYNC}
9002,Acme EU,,https://www.acme-eu.example/about,40,,Germany,Bavaria,,9001,\
2024-01-10T09:00:00Z,lead,2024-03-01T00:00:00Z,false,{_FT_SYNC}
""",
    "deal.csv": f"""\
deal_id,portal_id,deal_pipeline_id,deal_pipeline_stage_id,owner_id,property_dealname,\
property_amount,property_deal_currency_code,property_closedate,property_dealtype,\
property_createdate,is_deleted,_fivetran_synced
5001,42,default,closedwon,77,Acme platform,48000,EUR,2024-03-01T00:00:00Z,newbusiness,\
2024-01-20T00:00:00Z,false,{_FT_SYNC}
5002,42,default,qualifiedtobuy,,Acme EU add-on,5000.5,EUR,,existingbusiness,\
2024-03-01T00:00:00Z,false,{_FT_SYNC}
5003,42,default,closedlost,,Deleted deal,10,EUR,,newbusiness,2024-03-01T00:00:00Z,true,\
{_FT_SYNC}
""",
    "deal_company.csv": f"""\
deal_id,company_id,type_id,category,_fivetran_synced
5001,9002,341,HUBSPOT_DEFINED,{_FT_SYNC}
5001,9001,5,HUBSPOT_DEFINED,{_FT_SYNC}
5002,9002,5,HUBSPOT_DEFINED,{_FT_SYNC}
""",
    "deal_contact.csv": f"""\
deal_id,contact_id,type_id,category,_fivetran_synced
5001,101,3,HUBSPOT_DEFINED,{_FT_SYNC}
5002,102,3,HUBSPOT_DEFINED,{_FT_SYNC}
""",
    "deal_stage.csv": f"""\
deal_id,value,date_entered,source,source_id,_fivetran_start,_fivetran_end,_fivetran_active,\
_fivetran_synced
5001,appointmentscheduled,2024-01-20T00:00:00Z,CRM_UI,u1,2024-01-20T00:00:00Z,\
2024-03-01T00:00:00Z,false,{_FT_SYNC}
5001,closedwon,2024-03-01T00:00:00Z,CRM_UI,u1,2024-03-01T00:00:00Z,9999-12-31T23:59:59Z,true,\
{_FT_SYNC}
5002,appointmentscheduled,2024-03-01T00:00:00Z,CRM_UI,u1,2024-03-01T00:00:00Z,\
2024-03-02T00:00:00Z,false,{_FT_SYNC}
5002,qualifiedtobuy,2024-03-02T00:00:00Z,CRM_UI,u1,2024-03-02T00:00:00Z,\
9999-12-31T23:59:59Z,true,{_FT_SYNC}
""",
}

_AB_META = "_airbyte_raw_id,_airbyte_extracted_at,_airbyte_meta"
_AB = 'r{n},2024-05-01T00:00:00Z,"{{""changes"":[]}}"'
AIRBYTE: dict[str, str] = {
    "contacts.csv": f"""\
id,createdAt,updatedAt,archived,companies,properties,properties_firstname,properties_lastname,\
properties_email,properties_jobtitle,properties_country,properties_lifecyclestage,\
properties_hs_lead_status,properties_hubspot_owner_id,properties_hs_analytics_source,\
properties_createdate,properties_lastmodifieddate,properties_hs_lifecyclestage_lead_date,\
properties_hs_lifecyclestage_marketingqualifiedlead_date,\
properties_hs_lifecyclestage_customer_date,properties_hs_lifecyclestage_subscriber_date,\
{_AB_META}
101,2024-01-05T10:00:00Z,2024-03-02T08:00:00Z,false,"[""9001""]","{{""email"":""x""}}",Ann,Lee,\
ann@acme.example,CMO,Germany,customer,CONNECTED,77,PAID_SEARCH,2024-01-05T10:00:00.000Z,\
2024-03-02T08:00:00Z,2024-01-05T10:00:00Z,2024-01-15T10:00:00Z,2024-03-01T12:00:00Z,,\
{_AB.format(n=1)}
102,2024-02-01T08:00:00Z,2024-02-03T09:00:00Z,false,"[""9002""]",{{}},Bob,Stone,\
bob@beta.example,,France,marketingqualifiedlead,,77,ORGANIC_SEARCH,2024-02-01T08:00:00Z,\
2024-02-03T09:00:00Z,2024-02-01T08:00:00Z,2024-02-03T09:00:00Z,,,{_AB.format(n=2)}
103,2024-02-10T00:00:00Z,2024-02-10T00:00:00Z,false,,{{}},Cy,Moss,cy@gamma.example,,,\
subscriber,,,OFFLINE,2024-02-10T00:00:00Z,2024-02-10T00:00:00Z,,,,2024-02-10T00:00:00Z,\
{_AB.format(n=3)}
104,2024-02-11T00:00:00Z,2024-02-12T00:00:00Z,true,,{{}},Gone,Away,gone@delta.example,,,lead,,,\
DIRECT_TRAFFIC,2024-02-11T00:00:00Z,2024-02-12T00:00:00Z,2024-02-11T00:00:00Z,,,,\
{_AB.format(n=4)}
""",
    "companies.csv": f"""\
id,createdAt,updatedAt,archived,contacts,properties_name,properties_domain,properties_website,\
properties_numberofemployees,properties_annualrevenue,properties_country,properties_state,\
properties_hubspot_owner_id,properties_hs_parent_company_id,properties_createdate,\
properties_lifecyclestage,{_AB_META}
9001,2023-12-01T00:00:00Z,2024-03-01T00:00:00Z,false,"[""101""]",Acme,www.Acme.example,,250,\
12000000,United States,CA,77,,2023-12-01T00:00:00Z,customer,{_AB.format(n=5)}
9002,2024-01-10T09:00:00Z,2024-03-01T00:00:00Z,false,,Acme EU,,\
https://www.acme-eu.example/about,40,,Germany,Bavaria,,9001,2024-01-10T09:00:00Z,lead,\
{_AB.format(n=6)}
""",
    "deals.csv": f"""\
id,createdAt,updatedAt,archived,companies,contacts,properties_dealname,properties_dealstage,\
properties_pipeline,properties_amount,properties_deal_currency_code,properties_closedate,\
properties_dealtype,properties_hubspot_owner_id,properties_createdate,\
properties_hs_date_entered_appointmentscheduled,properties_hs_date_entered_qualifiedtobuy,\
properties_hs_date_entered_closedwon,{_AB_META}
5001,2024-01-20T00:00:00Z,2024-03-02T00:00:00Z,false,"[""9001""]","[""101""]",Acme platform,\
closedwon,default,48000,EUR,2024-03-01T00:00:00Z,newbusiness,77,2024-01-20T00:00:00Z,\
2024-01-20T00:00:00Z,,2024-03-01T00:00:00Z,{_AB.format(n=7)}
5002,2024-03-01T00:00:00Z,2024-03-02T00:00:00Z,false,"[""9002""]","[""102""]",Acme EU add-on,\
qualifiedtobuy,default,5000.5,EUR,,existingbusiness,,2024-03-01T00:00:00Z,\
2024-03-01T00:00:00Z,2024-03-02T00:00:00Z,,{_AB.format(n=8)}
5003,2024-03-01T00:00:00Z,2024-03-02T00:00:00Z,true,,,Archived deal,closedlost,default,10,EUR,\
,newbusiness,,2024-03-01T00:00:00Z,,,,{_AB.format(n=9)}
""",
}

FORMS: dict[str, dict[str, str]] = {"ui": UI, "api": API, "fivetran": FIVETRAN,
                                   "airbyte": AIRBYTE}


def write_form(folder: Path, form: str) -> list[Path]:
    """The form's files in ``folder`` (created); their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in FORMS[form].items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths
