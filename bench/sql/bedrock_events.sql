-- Bedrock model invocation logs (JSON lines, .json.gz) as usage_events rows: DuckDB's own reading of the files the
-- bedrock_invocation_logs reader reads. The record's structs are unnested; bodies are not in the column list, so
-- they are skipped, as the reader skips them. Bedrock's input count already excludes cache. Parameter: the files.
WITH records AS (
    SELECT filename, timestamp, requestId, modelId, identity.arn AS arn, errorCode,
        unnest(input), unnest(output), unnest(requestMetadata)
    FROM read_json(?, format = 'newline_delimited', filename = true,
        columns = {timestamp: 'VARCHAR', identity: 'STRUCT(arn VARCHAR)', requestId: 'VARCHAR', modelId: 'VARCHAR',
                   input: 'STRUCT(inputTokenCount BIGINT, cacheReadInputTokenCount BIGINT, cacheWriteInputTokenCount BIGINT)',
                   output: 'STRUCT(outputTokenCount BIGINT)',
                   requestMetadata: 'STRUCT(task VARCHAR, team VARCHAR, run_id VARCHAR, outcome VARCHAR, project VARCHAR)',
                   errorCode: 'VARCHAR'})
)
SELECT
    strptime(timestamp, '%Y-%m-%dT%H:%M:%SZ') AS event_time,
    'aws' AS provider,
    CAST(NULL AS VARCHAR) AS model,
    modelId AS raw_model,
    coalesce(task, 'unattributed') AS task,
    run_id,
    team,
    arn AS user_id,
    project,
    requestId AS request_id,
    CAST(1 AS BIGINT) AS request_count,
    coalesce(inputTokenCount, 0) AS input_tokens,
    coalesce(cacheReadInputTokenCount, 0) AS cache_read_tokens,
    coalesce(cacheWriteInputTokenCount, 0) AS cache_write_tokens,
    coalesce(outputTokenCount, 0) AS output_tokens,
    CAST(0 AS BIGINT) AS reasoning_tokens,
    false AS is_batch,
    CASE WHEN errorCode IS NOT NULL THEN 'error' ELSE 'ok' END AS status,
    CASE WHEN lower(outcome) IN ('success', 'failure') THEN lower(outcome) END AS outcome,
    CAST(NULL AS DOUBLE) AS latency_ms,
    CAST(NULL AS DOUBLE) AS cost_usd,
    CAST(NULL AS VARCHAR) AS price_source,
    'bedrock' AS x_source,
    filename AS x_source_file,
    CAST(NULL AS VARCHAR) AS service_tier
FROM records
