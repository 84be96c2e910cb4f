-- idempotency keys of ingestion requests
--
-- `Idempotency-Key` on ingestion: the key, a digest of the request body and the answer are
-- stored in the same transaction as the batch's rows, so a retry of a batch whose answer got
-- lost (a timeout, a dropped connection) returns the first answer and inserts nothing.
CREATE TABLE ingest_requests (
  key text PRIMARY KEY,
  body_sha256 bytea NOT NULL,
  ids uuid[] NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_ingest_requests_created ON ingest_requests (created_at);
