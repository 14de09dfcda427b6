-- 0055: the people's time and the ROI that task_roi's reported net savings rest on. Where work records measure a
-- task, its net savings were measured but the avoided cost and ROI beside them were the catalog's, so a row read
-- across did not add up (docs/evidence.md, "From verdict to ROI").

ALTER TABLE task_roi ADD COLUMN IF NOT EXISTS reported_human_cost_avoided_usd DOUBLE;  -- measured where roi_basis is, else human_cost_avoided_usd
ALTER TABLE task_roi ADD COLUMN IF NOT EXISTS reported_roi DOUBLE;                     -- reported_net_savings_usd / (allocated_cost_usd + review_cost_usd)
