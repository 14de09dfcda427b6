-- 0020: work records (the work AI is meant to speed up) and the requests that name them, so time saved is
-- measured from the organization's own records instead of assumed (docs/evidence.md).

CREATE TABLE IF NOT EXISTS work_items (
    work_item_id      VARCHAR NOT NULL,   -- the work system's id (a PR, ticket or issue key), as requests name it
    task              VARCHAR NOT NULL,   -- a task catalog id
    opened_at         TIMESTAMP,          -- UTC
    closed_at         TIMESTAMP,          -- UTC; NULL while open
    handling_minutes  DOUBLE,             -- hands-on time; preferred to elapsed time when present
    elapsed_minutes   DOUBLE,             -- turnaround as the work system measures it (Zendesk: business-hours
                                          -- resolution); NULL: closed_at - opened_at
    ai_assisted       BOOLEAN,            -- as the record says; NULL: decided by the requests naming the item
    team              VARCHAR,
    person            VARCHAR,
    reopened          BOOLEAN,
    escalated         BOOLEAN,
    reverted          BOOLEAN,
    csat              DOUBLE,             -- 1 (worst) to 5 (best); NULL when not rated
    x_source          VARCHAR NOT NULL,
    x_source_file     VARCHAR NOT NULL
);

-- The work item a request served (span attribute aispend.work_item, Bedrock requestMetadata.work_item, a
-- LiteLLM tag work_item:<id>, usage_csv column work_item_id); NULL when the request names none.
ALTER TABLE usage_events ADD COLUMN IF NOT EXISTS work_item_id VARCHAR;
