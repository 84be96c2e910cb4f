-- fencing tokens of the worker jobs
--
-- The fencing token of each worker job's lease, as last written by a holder. A job's write
-- transaction raises it to its own token first (taking the row's lock) and is refused when a
-- newer token is there already: a holder that lost its lease (paused, partitioned) cannot
-- write after a newer holder did.
CREATE TABLE job_fences (
  job text PRIMARY KEY,
  fence bigint NOT NULL,
  written_at timestamptz NOT NULL DEFAULT now()
);
