-- core tables
CREATE TABLE users (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  username text UNIQUE NOT NULL,
  email text,
  created_at timestamptz DEFAULT now(),
  deleted_at timestamptz
);
CREATE TABLE organizations (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL,
  created_at timestamptz DEFAULT now()
);
CREATE TABLE organization_members (
  org_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  role text NOT NULL CHECK (role IN ('owner','admin','maintainer','member')),
  team text NULL,
  joined_at timestamptz DEFAULT now(),
  PRIMARY KEY (org_id, user_id)
);
CREATE INDEX idx_organization_members_user ON organization_members(user_id);
CREATE TABLE packages (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text UNIQUE NOT NULL,
  created_at timestamptz DEFAULT now()
);
CREATE TABLE playground_sessions (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid REFERENCES users(id),
  package_id uuid REFERENCES packages(id),
  created_at timestamptz DEFAULT now()
);
CREATE TABLE playground_usage (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id UUID REFERENCES users(id) NOT NULL,
  org_id UUID REFERENCES organizations(id),
  package_id UUID REFERENCES packages(id),
  package_version VARCHAR(50),
  session_id UUID REFERENCES playground_sessions(id),
  model VARCHAR(50) NOT NULL,
  tokens_used INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL,
  credits_spent INTEGER NOT NULL DEFAULT 1,
  request_size_bytes INTEGER,
  response_size_bytes INTEGER,
  input_length INTEGER,
  output_length INTEGER,
  error_occurred BOOLEAN DEFAULT FALSE,
  error_message TEXT,
  user_rating INTEGER CHECK (user_rating >= 1 AND user_rating <= 5),
  was_helpful BOOLEAN,
  user_feedback TEXT,
  comparison_mode BOOLEAN DEFAULT FALSE,
  created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW()
);
-- The design's indexes.
CREATE INDEX idx_playground_usage_user_time ON playground_usage(user_id, created_at DESC);
CREATE INDEX idx_playground_usage_org_time ON playground_usage(org_id, created_at DESC) WHERE org_id IS NOT NULL;
CREATE INDEX idx_playground_usage_package ON playground_usage(package_id) WHERE package_id IS NOT NULL;
CREATE INDEX idx_playground_usage_model ON playground_usage(model, created_at DESC);
CREATE INDEX idx_playground_usage_package_model ON playground_usage(package_id, model) WHERE package_id IS NOT NULL;
CREATE INDEX idx_playground_usage_package_version ON playground_usage(package_id, package_version) WHERE package_id IS NOT NULL;
CREATE INDEX idx_playground_usage_success ON playground_usage(error_occurred, created_at DESC);
CREATE INDEX idx_playground_usage_rating ON playground_usage(user_rating) WHERE user_rating IS NOT NULL;
-- Ours: the package window by time (rollup recomputation, trends) and retention's scan by age.
CREATE INDEX idx_playground_usage_package_time ON playground_usage(package_id, created_at) WHERE package_id IS NOT NULL;
CREATE INDEX idx_playground_usage_created ON playground_usage(created_at);

-- The UTC calendar day of a timestamp (immutable: the zone is explicit).
CREATE FUNCTION utc_day(ts timestamptz) RETURNS date LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT (ts AT TIME ZONE 'UTC')::date $$;
