"""The vocabulary of the simulated market: industries, places, technologies, people, topics.

Each list pairs a value with the weight it is drawn with and, where it matters, its effect on
the account's hidden ICP fit (a log-odds contribution).
"""

from __future__ import annotations

# industry, share of accounts, ICP fit effect
INDUSTRIES: tuple[tuple[str, float, float], ...] = (
    ("software", 0.17, 1.2), ("financial_services", 0.11, 0.9),
    ("professional_services", 0.10, 0.6), ("healthcare", 0.09, 0.1),
    ("manufacturing", 0.12, -0.2), ("retail", 0.08, -0.4), ("media", 0.05, 0.3),
    ("telecommunications", 0.04, 0.4), ("education", 0.06, -0.9), ("energy", 0.04, -0.5),
    ("logistics", 0.06, -0.3), ("government", 0.04, -1.2), ("hospitality", 0.04, -0.8),
)

# country, region, share, ICP fit effect
COUNTRIES: tuple[tuple[str, str, float, float], ...] = (
    ("US", "NA", 0.42, 0.3), ("CA", "NA", 0.05, 0.2), ("GB", "EMEA", 0.10, 0.2),
    ("DE", "EMEA", 0.08, 0.0), ("FR", "EMEA", 0.06, -0.1), ("NL", "EMEA", 0.03, 0.1),
    ("ES", "EMEA", 0.03, -0.2), ("SE", "EMEA", 0.02, 0.1), ("AU", "APAC", 0.05, 0.1),
    ("JP", "APAC", 0.04, -0.4), ("SG", "APAC", 0.02, 0.0), ("IN", "APAC", 0.04, -0.5),
    ("BR", "LATAM", 0.04, -0.4), ("MX", "LATAM", 0.02, -0.5),
)
REGIONS: tuple[str, ...] = ("NA", "EMEA", "APAC", "LATAM")
SEGMENTS: tuple[tuple[str, int], ...] = (("smb", 0), ("mid_market", 200), ("enterprise", 2000))

# technology, category, adoption share, ICP fit effect
TECHNOLOGIES: tuple[tuple[str, str, float, float], ...] = (
    ("Salesforce", "crm", 0.40, 0.5), ("HubSpot CRM", "crm", 0.25, 0.3),
    ("Microsoft Dynamics", "crm", 0.12, 0.0), ("Pipedrive", "crm", 0.08, -0.3),
    ("Marketo", "marketing_automation", 0.14, 0.5), ("Pardot", "marketing_automation", 0.12,
                                                     0.4),
    ("HubSpot Marketing", "marketing_automation", 0.20, 0.2),
    ("Eloqua", "marketing_automation", 0.05, 0.3), ("Snowflake", "data_warehouse", 0.18, 0.6),
    ("BigQuery", "data_warehouse", 0.12, 0.4), ("Databricks", "data_warehouse", 0.08, 0.5),
    ("Redshift", "data_warehouse", 0.08, 0.2), ("Tableau", "bi", 0.20, 0.2),
    ("Looker", "bi", 0.10, 0.3), ("Power BI", "bi", 0.25, 0.0), ("AWS", "cloud", 0.45, 0.1),
    ("Azure", "cloud", 0.30, 0.0), ("Google Cloud", "cloud", 0.15, 0.1),
    ("Outreach", "sales_engagement", 0.10, 0.4), ("Gong", "conversation_intelligence", 0.08,
                                                  0.5),
)

# seniority, share in a buying group, engagement multiplier, MQL→opportunity role weight
SENIORITIES: tuple[tuple[str, float, float, float], ...] = (
    ("c_level", 0.06, 0.6, 3.0), ("vp", 0.10, 0.8, 3.0), ("director", 0.20, 1.1, 2.5),
    ("manager", 0.30, 1.2, 1.5), ("staff", 0.34, 1.0, 0.6),
)
# function, share, engagement multiplier (how much the product concerns them)
FUNCTIONS: tuple[tuple[str, float, float], ...] = (
    ("marketing", 0.26, 1.4), ("sales", 0.18, 1.1), ("revenue_operations", 0.10, 1.8),
    ("it", 0.14, 0.8), ("finance", 0.08, 0.6), ("operations", 0.10, 0.5),
    ("executive", 0.04, 0.9), ("customer_success", 0.10, 0.7),
)
TITLE_STEMS: dict[str, str] = {
    "marketing": "Marketing", "sales": "Sales", "revenue_operations": "Revenue Operations",
    "it": "IT", "finance": "Finance", "operations": "Operations", "executive": "Strategy",
    "customer_success": "Customer Success",
}
C_LEVEL_TITLES: dict[str, str] = {
    "marketing": "CMO", "sales": "CRO", "revenue_operations": "CRO", "it": "CIO",
    "finance": "CFO", "operations": "COO", "executive": "CEO", "customer_success": "CCO",
}


def title_for(seniority: str, function: str) -> str:
    """A realistic job title for a seniority and function."""
    stem = TITLE_STEMS[function]
    if seniority == "c_level":
        return C_LEVEL_TITLES[function]
    if seniority == "vp":
        return f"VP of {stem}"
    if seniority == "director":
        return f"Director of {stem}"
    if seniority == "manager":
        return f"{stem} Manager"
    return f"{stem} Specialist" if function != "it" else "Systems Analyst"


FIRST_NAMES: tuple[str, ...] = (
    "Ana", "Ben", "Carla", "David", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jon", "Kira",
    "Luis", "Maya", "Noah", "Olga", "Pablo", "Quinn", "Rosa", "Sam", "Tara", "Uma", "Victor",
    "Wen", "Xavier", "Yara", "Zoe", "Amir", "Beatriz", "Chen", "Dara", "Emil", "Fatima",
    "Goran", "Hana", "Ivan", "Julia", "Kenji", "Lea", "Marco", "Nadia", "Omar", "Priya",
    "Rafael", "Sofia", "Tomas", "Ugo", "Vera", "Will", "Ximena", "Yusuf",
)
LAST_NAMES: tuple[str, ...] = (
    "Silva", "Smith", "Garcia", "Müller", "Rossi", "Novak", "Kim", "Tanaka", "Dubois",
    "Johnson", "Lopez", "Schmidt", "Ivanova", "Nguyen", "Patel", "Brown", "Costa", "Jensen",
    "Fischer", "Moreau", "Wilson", "Santos", "Sato", "Khan", "Martin", "Berg", "Kowalski",
    "Ortiz", "Hughes", "Lindqvist", "Okafor", "Haddad", "Fernández", "Weber", "Rey", "Ali",
    "Murphy", "Ramos", "Petrov", "Chen",
)
FREE_MAIL: tuple[str, ...] = ("gmail.com", "outlook.com", "yahoo.com", "hotmail.com")
COMPANY_WORDS: tuple[str, ...] = (
    "Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay", "Cyberdyne",
    "Soylent", "Tyrell", "Wonka", "Aperture", "Gringotts", "Oscorp", "Massive", "Nimbus",
    "Vertex", "Quantum", "Summit", "Harbor", "Pioneer", "Atlas", "Beacon", "Cobalt", "Delta",
    "Ember", "Falcon", "Granite", "Helix", "Indigo", "Juniper", "Keystone", "Lumen", "Meridian",
    "Nova", "Orbit", "Prism", "Quarry", "Redwood", "Sierra", "Titan", "Unity", "Vector",
    "Willow", "Zenith", "Apex", "Bright", "Crest", "Dynamo",
)
COMPANY_SUFFIXES: tuple[str, ...] = (
    "Systems", "Labs", "Group", "Holdings", "Analytics", "Software", "Partners", "Industries",
    "Health", "Logistics", "Media", "Energy", "Capital", "Retail", "Networks", "Works",
)

# Topics buyers research (intent) and content is written about.
TOPICS: tuple[str, ...] = (
    "revenue_operations", "marketing_attribution", "sales_forecasting", "lead_scoring",
    "account_based_marketing", "pipeline_management", "data_quality", "customer_retention",
    "sales_enablement", "marketing_analytics", "crm_migration", "intent_data",
)
CONTENT_FORMATS: tuple[tuple[str, float], ...] = (
    ("article", 0.35), ("ebook", 0.12), ("whitepaper", 0.08), ("video", 0.12),
    ("case_study", 0.10), ("webinar_recording", 0.08), ("infographic", 0.07),
    ("report", 0.05), ("template", 0.03),
)
FUNNEL_STAGES: tuple[str, ...] = ("awareness", "consideration", "decision")
PERSONAS: tuple[str, ...] = ("marketing_leader", "sales_leader", "revops", "executive",
                             "analyst")

PRODUCTS: tuple[tuple[str, float], ...] = (
    ("Revenue Cloud", 0.45), ("Attribution Suite", 0.3), ("Forecast Pro", 0.25),
)
OPPORTUNITY_STAGES: tuple[tuple[str, float], ...] = (
    ("qualification", 10.0), ("discovery", 20.0), ("proposal", 50.0), ("negotiation", 75.0),
)
LOST_REASONS: tuple[tuple[str, float], ...] = (
    ("no_decision", 0.30), ("price", 0.20), ("competitor", 0.22), ("timing", 0.12),
    ("no_budget", 0.10), ("missing_features", 0.06),
)
DISQUALIFY_REASONS: tuple[tuple[str, float], ...] = (
    ("not_a_fit", 0.45), ("no_budget", 0.2), ("wrong_contact", 0.2), ("bad_data", 0.15),
)
NOISE_DISQUALIFY_REASONS: tuple[tuple[str, float], ...] = (
    ("student", 0.5), ("job_seeker", 0.25), ("competitor", 0.25),
)
RECYCLE_REASONS: tuple[tuple[str, float], ...] = (
    ("no_response", 0.45), ("not_ready", 0.35), ("timing", 0.2),
)
ROLES: tuple[str, ...] = ("decision_maker", "champion", "economic_buyer", "evaluator",
                          "influencer")
CAMPAIGN_THEMES: dict[str, tuple[str, ...]] = {
    "paid_search": ("Brand", "Competitor", "Category", "Retargeting", "Generic"),
    "paid_social": ("LinkedIn Lead Gen", "LinkedIn Thought Leadership", "Meta Retargeting"),
    "display": ("Programmatic", "ABM Display"),
    "email": ("Newsletter", "Nurture", "Product Launch", "Event Invite"),
    "webinar": ("Attribution Masterclass", "Forecasting Live", "RevOps Roundtable",
                "Customer Panel"),
    "events": ("Trade Show", "Executive Dinner", "User Conference", "Roadshow"),
    "content_syndication": ("Analyst Report Syndication", "E-book Syndication"),
    "partner": ("Partner Co-marketing",),
    "outbound_sales": ("SDR Sequence", "Executive Outreach", "Target Account Sequence"),
}
