"""What the demo company runs: its models, its tasks and how each task uses the models.

Kept as plain data so the generator, the task catalog file and the tests all read one description. The numbers
are chosen so the dashboard has something to say: most tasks pay back, `slack_digest` loses money (a long
context re-read on every message of a cheap human chore), and `market_research` runs on a model that the
bundled price data does not know yet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class DemoModel:
    key: str
    otel_provider: str  # gen_ai.provider.name as the app logs it
    request_model: str  # what the app sends
    response_model: str  # what the provider answers with
    prices_provider: str  # genai-prices provider id
    billing: str  # which invoice bills it: aws, openai, anthropic
    publisher: str
    meter: str  # the invoice's meter stem (AWS usage type stem, or the provider's model label)
    ms_per_output_token: float
    has_reasoning: bool = False


MODELS: dict[str, DemoModel] = {
    m.key: m
    for m in [
        DemoModel("gpt-4o", "openai", "gpt-4o", "gpt-4o-2024-08-06", "openai", "openai", "OpenAI",
                  "gpt-4o-2024-08-06", 11.0),
        DemoModel("gpt-4o-mini", "openai", "gpt-4o-mini", "gpt-4o-mini-2024-07-18", "openai", "openai", "OpenAI",
                  "gpt-4o-mini-2024-07-18", 7.0),
        DemoModel("gpt-4.1", "openai", "gpt-4.1-2025-04-14", "gpt-4.1-2025-04-14", "openai", "openai", "OpenAI",
                  "gpt-4.1-2025-04-14", 12.0),
        DemoModel("o3-mini", "openai", "o3-mini", "o3-mini-2025-01-31", "openai", "openai", "OpenAI",
                  "o3-mini-2025-01-31", 9.0, has_reasoning=True),
        # Azure OpenAI in an EU region, billed in euros by Microsoft: the internal assistant reads company
        # documents, which stay in the EU.
        DemoModel("azure-gpt-4o", "azure.ai.openai", "gpt-4o", "gpt-4o-2024-08-06", "azure", "azure", "Microsoft",
                  "gpt 4o 0806 glbl", 11.0),
        DemoModel("claude-sonnet-4", "anthropic", "claude-sonnet-4-20250514", "claude-sonnet-4-20250514",
                  "anthropic", "anthropic", "Anthropic", "Claude Sonnet 4", 14.0),
        DemoModel("claude-3-5-haiku", "anthropic", "claude-3-5-haiku-20241022", "claude-3-5-haiku-20241022",
                  "anthropic", "anthropic", "Anthropic", "Claude Haiku 3.5", 6.0),
        DemoModel("claude-opus-6", "anthropic", "claude-opus-6", "claude-opus-6", "anthropic", "anthropic",
                  "Anthropic", "Claude Opus 6", 22.0),
        DemoModel("bedrock-claude-3-5-haiku", "aws.bedrock", "us.anthropic.claude-3-5-haiku-20241022-v1:0",
                  "us.anthropic.claude-3-5-haiku-20241022-v1:0", "aws", "aws", "Anthropic", "Claude3.5Haiku", 6.5),
        DemoModel("bedrock-claude-3-haiku", "aws.bedrock", "anthropic.claude-3-haiku-20240307-v1:0",
                  "anthropic.claude-3-haiku-20240307-v1:0", "aws", "aws", "Anthropic", "Claude3Haiku", 4.0),
        DemoModel("nova-pro", "aws.bedrock", "us.amazon.nova-pro-v1:0", "us.amazon.nova-pro-v1:0", "aws", "aws",
                  "Amazon", "NovaPro", 8.0),
        DemoModel("nova-lite", "aws.bedrock", "amazon.nova-lite-v1:0", "amazon.nova-lite-v1:0", "aws", "aws",
                  "Amazon", "NovaLite", 3.5),
        DemoModel("llama-3-3-70b", "aws.bedrock", "us.meta.llama3-3-70b-instruct-v1:0",
                  "us.meta.llama3-3-70b-instruct-v1:0", "aws", "aws", "Meta", "Llama3.3-70B", 10.0),
    ]
}

# The one model genai-prices 0.2.3 cannot price (checked in tests), billed by Anthropic at these made-up rates.
UNPRICED_MODEL = "claude-opus-6"
UNPRICED_RATES = {"input": 12.0, "output": 60.0, "cache_read": 1.2, "cache_write": 15.0}

# A negotiated Anthropic discount on Sonnet 4, in force from the first of a month inside the demo window: the
# invoice bills it and aispend.yaml carries it as a price override, so ListCost > BilledCost on those lines.
NEGOTIATED_MODEL = "claude-sonnet-4"
NEGOTIATED_DISCOUNT = 0.10

# Usage the invoice bills but no log shows: a data-science team calling the APIs without instrumentation.
UNINSTRUMENTED_SHARE = 0.04
UNINSTRUMENTED_MODELS = {"gpt-4o": 0.5, "claude-3-5-haiku": 0.3, "nova-pro": 0.2}


@dataclass(frozen=True)
class DemoTask:
    task: str
    description: str
    human_minutes: float
    hourly_rate_usd: float
    review_minutes: float
    latency_sensitive: bool
    team: str
    service: str
    models: dict[str, float]  # model key -> share of runs
    spans: tuple[int, int]  # requests per run, inclusive
    input_tokens: int  # typical total input per request
    output_tokens: int
    runs_weight: float  # relative number of runs per day
    success_rate: float
    cache_share: float = 0.0  # share of input read from the prompt cache when it hits
    batch_share: float = 0.0
    eligible: tuple[str, ...] = ()  # model keys that could do this task
    starts_at: float = 0.0  # fraction of the window before the task goes live
    context_growth: float = 0.0  # input grows by this share per request in a run (agents, chats)


TASKS: list[DemoTask] = [
    DemoTask("support_ticket_triage", "Classify an inbound support ticket and route it to a queue", 3, 32, 0.3,
             True, "support", "support-desk", {"gpt-4o-mini": 1.0}, (1, 2), 1800, 90, 10.0, 0.96,
             cache_share=0.6, eligible=("gpt-4o-mini", "claude-3-5-haiku", "nova-lite")),
    DemoTask("support_reply_draft", "Draft a reply to a customer ticket for an agent to edit and send", 9, 32, 2,
             True, "support", "support-desk", {"claude-3-5-haiku": 0.8, "gpt-4o-mini": 0.2}, (2, 4), 6000, 450,
             7.0, 0.88, cache_share=0.65, eligible=("claude-3-5-haiku", "gpt-4o-mini", "claude-sonnet-4")),
    DemoTask("internal_chat", "Employees' internal assistant: questions about policies, docs and tools", 4, 55,
             0.5, True, "platform", "assistant-chat", {"azure-gpt-4o": 0.7, "gpt-4.1": 0.3}, (1, 6), 1500, 320,
             12.0, 0.9, cache_share=0.4, context_growth=0.35),
    DemoTask("code_review", "Review a pull request and comment on bugs, style and missing tests", 25, 95, 6,
             False, "engineering", "code-review-bot", {"claude-sonnet-4": 0.8, "gpt-4.1": 0.2}, (3, 8), 28000,
             2200, 2.5, 0.82, cache_share=0.5, eligible=("claude-sonnet-4", "gpt-4.1", "o3-mini")),
    DemoTask("meeting_summary", "Summarize a sales call transcript into notes and next steps", 15, 60, 3, False,
             "sales", "meeting-notes", {"nova-pro": 1.0}, (1, 2), 18000, 700, 3.0, 0.93, batch_share=0.3,
             eligible=("nova-pro", "bedrock-claude-3-5-haiku", "gpt-4o-mini")),
    DemoTask("contract_summary", "Summarize a customer contract and flag unusual clauses", 45, 120, 12, False,
             "legal", "doc-pipeline", {"bedrock-claude-3-5-haiku": 1.0}, (2, 4), 40000, 1200, 0.8, 0.9,
             cache_share=0.5, batch_share=0.6),
    DemoTask("invoice_extraction", "Extract fields from a supplier invoice PDF into the ERP", 4, 30, 0.5, False,
             "finance", "doc-pipeline", {"nova-lite": 1.0}, (1, 3), 3500, 400, 5.0, 0.95, batch_share=0.8,
             eligible=("nova-lite", "gpt-4o-mini", "bedrock-claude-3-haiku")),
    DemoTask("sql_generation", "Turn an analyst's question into a SQL query against the warehouse", 12, 75, 3,
             True, "data", "analytics-agent", {"o3-mini": 1.0}, (2, 5), 5000, 1500, 3.0, 0.78,
             cache_share=0.5, context_growth=0.2),
    DemoTask("product_description", "Write a product page description from catalog attributes", 10, 40, 2, False,
             "marketing", "catalog-writer", {"gpt-4.1": 1.0}, (1, 2), 1200, 600, 3.5, 0.92, batch_share=0.7,
             eligible=("gpt-4.1", "gpt-4o-mini", "claude-3-5-haiku")),
    DemoTask("lead_enrichment", "Enrich a CRM lead with firmographics from its website text", 5, 45, 1, False,
             "sales", "crm-enricher", {"llama-3-3-70b": 1.0}, (2, 3), 2500, 350, 4.0, 0.85, batch_share=0.5),
    DemoTask("log_triage", "Explain an alert from recent error logs and suggest the likely cause", 6, 85, 1.5,
             True, "platform", "ops-copilot", {"bedrock-claude-3-haiku": 1.0}, (1, 3), 8000, 300, 2.0, 0.8),
    DemoTask("translation", "Translate help-center articles into five languages", 7, 38, 2, False, "support",
             "catalog-writer", {"gpt-4o-mini": 1.0}, (1, 2), 1500, 1400, 3.0, 0.97, batch_share=0.6),
    DemoTask("slack_digest", "Digest a busy Slack channel into a daily summary", 2, 40, 0.5, False, "platform",
             "assistant-chat", {"claude-sonnet-4": 1.0}, (6, 12), 60000, 900, 0.5, 0.9),
    DemoTask("market_research", "Research agent: compile a competitor brief from web sources", 30, 70, 8, False,
             "strategy", "research-agent", {"claude-opus-6": 1.0}, (8, 20), 30000, 2500, 0.25, 0.75,
             cache_share=0.5, starts_at=0.6, context_growth=0.15),
]

TEAM_USERS = {
    "support": 24, "platform": 60, "engineering": 35, "sales": 18, "legal": 4, "finance": 6, "data": 9,
    "marketing": 7, "strategy": 3,
}

# Invoice identities, one per provider, in FOCUS terms. Each export runs a few days behind the logs, as real
# ones do, so the open month has usage logged but not invoiced yet (docs/finance.md, "Month to date").
@dataclass(frozen=True)
class Biller:
    slug: str
    provider_name: str
    service_name: str
    account_id: str
    account_name: str
    sub_account_id: str
    sub_account_name: str
    uninstrumented_sub_account: tuple[str, str]
    tax_rate: float
    region_id: str = ""
    region_name: str = ""
    currency: str = "USD"  # BillingCurrency of every line
    invoice_lag_days: int = 0  # the newest days of logs its export does not carry yet (bills arrive after usage)
    extra: dict[str, str] = field(default_factory=dict)


BILLERS: dict[str, Biller] = {
    "aws": Biller("aws", "AWS", "Amazon Bedrock", "111122223333", "Acme Corp (payer)", "444455556666",
                  "acme-prod", ("777788889999", "acme-data-science"), 0.0, "us-east-1", "US East (N. Virginia)",
                  invoice_lag_days=1),
    "openai": Biller("openai", "OpenAI", "OpenAI API", "org-Acme7Qm2Demo", "Acme Corp", "proj_Prod4xY9",
                     "Production", ("proj_DsLab21k", "Data Science"), 0.08875, invoice_lag_days=2),
    "anthropic": Biller("anthropic", "Anthropic", "Claude API", "acme-9f2c", "Acme Corp", "wrkspc_01ProdA",
                        "Production", ("wrkspc_01ResB", "Research"), 0.08875, invoice_lag_days=2),
    # The EU subsidiary's Azure agreement, billed in euros; EU business-to-business: reverse charge, no VAT line.
    "azure": Biller("azure", "Microsoft", "Azure OpenAI Service", "84013377", "Acme Europe B.V.",
                    "5c1e7a42-9b3d-4f8e-a6d1-2e9f0b7c4d18", "acme-prod-eu",
                    ("9a4c2f1e-3d7b-4e6a-8c05-b1f2d3e4a5c6", "acme-research-eu"), 0.0, "swedencentral",
                    "Sweden Central", currency="EUR", invoice_lag_days=3),
}

GPU_HOURLY_USD = 5.672  # g5.12xlarge on-demand, us-east-1
GENERAL_COMPUTE_HOURLY_USD = 0.192  # m6i.xlarge
GENERAL_COMPUTE_INSTANCES = 4
S3_GB_STORED = 5200.0
S3_USD_PER_GB_MONTH = 0.023
AWS_MONTHLY_CREDIT_USD = 250.0
DEFAULT_END_DATE = date(2026, 11, 15)
