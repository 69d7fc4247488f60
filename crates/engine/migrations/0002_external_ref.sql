-- Reference of a job's work at another service (a provider's prediction id,
-- a remote server's job id), so that a run after a restart resumes that work
-- instead of paying for it again.
ALTER TABLE jobs ADD COLUMN external_ref TEXT;
