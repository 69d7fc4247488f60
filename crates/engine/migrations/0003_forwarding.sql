-- Key a client sends so that a retried submission finds the job its first
-- attempt created instead of queueing the work twice.
ALTER TABLE jobs ADD COLUMN idempotency_key TEXT;
CREATE UNIQUE INDEX jobs_idempotency_key ON jobs (idempotency_key) WHERE idempotency_key IS NOT NULL;
