-- OpenTelemetry GenAI spans (OTLP JSON lines, .jsonl.gz) as usage_events rows: DuckDB's own reading of the files
-- the otel_genai reader reads, the floor bench/end_to_end.py compares it with. Model ids stay as logged
-- (normalizing and pricing are not reading); input tokens exclude cache reads and writes, as usage_events counts
-- them. Span attributes only: the bench's files carry no aispend attribute on the resource. A line holds up to
-- 500 spans (about 0.6 MB), well under the 64 MB object limit. Parameter: the files.
WITH r AS (
    SELECT filename, unnest(resourceSpans) AS r
    FROM read_json(?, format = 'newline_delimited', filename = true, maximum_object_size = 67108864,
        columns = {resourceSpans: 'STRUCT(scopeSpans STRUCT(spans STRUCT(traceId VARCHAR, startTimeUnixNano VARCHAR,
            endTimeUnixNano VARCHAR, attributes STRUCT("key" VARCHAR, "value" STRUCT(stringValue VARCHAR,
            intValue VARCHAR, boolValue BOOLEAN))[], status STRUCT(code INTEGER))[])[])[]'})
),
scopes AS (SELECT filename, unnest(r.scopeSpans) AS scope FROM r),
spans AS (SELECT filename, unnest(scope.spans) AS span FROM scopes),
kv AS (
    SELECT filename, span,
        list_transform(span.attributes, a -> a.key) AS k,
        list_transform(span.attributes, a -> coalesce(a.value.stringValue, a.value.intValue,
                                                      CAST(a.value.boolValue AS VARCHAR))) AS v
    FROM spans
),
typed AS (
    SELECT *,
        coalesce(CAST(v[list_position(k, 'gen_ai.usage.cache_read.input_tokens')] AS BIGINT), 0) AS cache_read,
        coalesce(CAST(v[list_position(k, 'gen_ai.usage.cache_creation.input_tokens')] AS BIGINT), 0) AS cache_write,
        lower(v[list_position(k, 'aispend.outcome')]) AS outcome_text
    FROM kv
)
SELECT
    make_timestamp(CAST(span.startTimeUnixNano AS BIGINT) // 1000) AS event_time,
    v[list_position(k, 'gen_ai.provider.name')] AS provider,
    CAST(NULL AS VARCHAR) AS model,
    coalesce(v[list_position(k, 'gen_ai.response.model')], v[list_position(k, 'gen_ai.request.model')]) AS raw_model,
    coalesce(v[list_position(k, 'aispend.task')], 'unattributed') AS task,
    coalesce(v[list_position(k, 'aispend.run_id')], span.traceId) AS run_id,
    v[list_position(k, 'aispend.team')] AS team,
    v[list_position(k, 'user.id')] AS user_id,
    v[list_position(k, 'aispend.project')] AS project,
    v[list_position(k, 'gen_ai.response.id')] AS request_id,
    CAST(1 AS BIGINT) AS request_count,
    greatest(coalesce(CAST(v[list_position(k, 'gen_ai.usage.input_tokens')] AS BIGINT), 0) - cache_read - cache_write,
             0) AS input_tokens,
    cache_read AS cache_read_tokens,
    cache_write AS cache_write_tokens,
    coalesce(CAST(v[list_position(k, 'gen_ai.usage.output_tokens')] AS BIGINT), 0) AS output_tokens,
    coalesce(CAST(v[list_position(k, 'gen_ai.usage.reasoning.output_tokens')] AS BIGINT), 0) AS reasoning_tokens,
    coalesce(lower(v[list_position(k, 'aispend.batch')]) IN ('true', '1', 'yes'), false) AS is_batch,
    CASE WHEN span.status.code = 2 OR v[list_position(k, 'error.type')] IS NOT NULL THEN 'error' ELSE 'ok' END AS status,
    CASE WHEN outcome_text IN ('success', 'failure') THEN outcome_text END AS outcome,
    (CAST(span.endTimeUnixNano AS BIGINT) - CAST(span.startTimeUnixNano AS BIGINT)) / 1e6 AS latency_ms,
    CAST(NULL AS DOUBLE) AS cost_usd,
    CAST(NULL AS VARCHAR) AS price_source,
    'otel' AS x_source,
    filename AS x_source_file,
    CAST(NULL AS VARCHAR) AS service_tier
FROM typed
