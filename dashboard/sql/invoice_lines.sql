-- Whether any invoice is loaded at all (a person's own agent logs come with none). No parameters.
SELECT CAST(count(*) AS BIGINT) AS days FROM spend_daily
