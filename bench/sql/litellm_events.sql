-- LiteLLM spend logs (a LiteLLM_SpendLogs CSV export) as usage_events rows: DuckDB's own reading of the files the
-- litellm_spend reader reads. prompt_tokens include cache reads and writes (current LiteLLM), so input tokens are
-- prompt_tokens less both; the metadata JSON is decoded once per row. The bench writes no proxy cache hits. The
-- CSV dialect is given, as the reader knows it: sniffing it costs DuckDB about 0.2 s a file.
-- Parameter: the files.
WITH rows AS (
    SELECT filename, request_id, startTime, endTime, model, custom_llm_provider, "user", team_id, status,
        CAST(prompt_tokens AS BIGINT) AS prompt, CAST(completion_tokens AS BIGINT) AS completion,
        json_extract_string(request_tags, '$[0]') AS first_tag,
        from_json(metadata, '{"user_api_key_team_alias": "VARCHAR",
            "usage_object": {"cache_read_input_tokens": "BIGINT", "cache_creation_input_tokens": "BIGINT",
                             "completion_tokens_details": {"reasoning_tokens": "BIGINT"}},
            "spend_logs_metadata": {"task": "VARCHAR", "team": "VARCHAR", "run_id": "VARCHAR", "outcome": "VARCHAR",
                                    "project": "VARCHAR"}}') AS m
    FROM read_csv(?, header = true, filename = true, all_varchar = true, delim = ',', quote = '"', escape = '"')
),
typed AS (
    SELECT *,
        coalesce(m.usage_object.cache_read_input_tokens, 0) AS cache_read,
        coalesce(m.usage_object.cache_creation_input_tokens, 0) AS cache_write,
        strptime(startTime, '%Y-%m-%d %H:%M:%S.%f+00') AS start_at,
        strptime(endTime, '%Y-%m-%d %H:%M:%S.%f+00') AS end_at
    FROM rows
)
SELECT
    start_at AS event_time,
    custom_llm_provider AS provider,
    CAST(NULL AS VARCHAR) AS model,
    model AS raw_model,
    coalesce(CASE WHEN starts_with(first_tag, 'task:') THEN substr(first_tag, 6) END, m.spend_logs_metadata.task,
             'unattributed') AS task,
    m.spend_logs_metadata.run_id AS run_id,
    coalesce(m.spend_logs_metadata.team, m.user_api_key_team_alias, team_id) AS team,
    "user" AS user_id,
    m.spend_logs_metadata.project AS project,
    request_id,
    CAST(1 AS BIGINT) AS request_count,
    greatest(prompt - cache_read - cache_write, 0) AS input_tokens,
    cache_read AS cache_read_tokens,
    cache_write AS cache_write_tokens,
    completion AS output_tokens,
    coalesce(m.usage_object.completion_tokens_details.reasoning_tokens, 0) AS reasoning_tokens,
    false AS is_batch,
    CASE WHEN lower(status) IN ('failure', 'error', 'failed') THEN 'error' ELSE 'ok' END AS status,
    CASE WHEN lower(m.spend_logs_metadata.outcome) IN ('success', 'failure') THEN lower(m.spend_logs_metadata.outcome)
    END AS outcome,
    (epoch_us(end_at) - epoch_us(start_at)) / 1000.0 AS latency_ms,
    CAST(NULL AS DOUBLE) AS cost_usd,
    CAST(NULL AS VARCHAR) AS price_source,
    'litellm' AS x_source,
    filename AS x_source_file,
    CAST(NULL AS VARCHAR) AS service_tier
FROM typed
