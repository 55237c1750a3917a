-- The runner claims the oldest queued rows of a region. With only (status, region) to go on,
-- every claim sorted all of the region's queued rows (and checked each for a warm-up) to
-- take the first few: a cost that grew with the backlog. Kept in claim order, the queued rows
-- of a region are read from the front until the claim is full. The condition is the claim
-- statement's own, word for word, so both databases know the index applies.
CREATE INDEX executions_claim_order ON executions (region, updated_at, id)
    WHERE lease_owner IS NULL AND status IN ('pending', 'retrying');
