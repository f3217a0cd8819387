//! The org domain: organizations, users, memberships, teams, skills, API keys, audit log,
//! notifications, settings, refresh tokens and login attempts.

use sea_orm_migration::prelude::*;

use crate::sql::{GRANT_APP, tenant_rls, updated_at_trigger};

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLES: &str = r#"
CREATE TABLE organizations (
  id uuid PRIMARY KEY,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  slug text NOT NULL CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
  domain text CHECK (length(domain) <= 253),
  plan_tier text NOT NULL DEFAULT 'FREE' CHECK (plan_tier IN ('FREE','STARTER','PROFESSIONAL','ENTERPRISE')),
  default_currency char(3) NOT NULL DEFAULT 'USD' CHECK (default_currency ~ '^[A-Z]{3}$'),
  fiscal_year_start_month smallint NOT NULL DEFAULT 1 CHECK (fiscal_year_start_month BETWEEN 1 AND 12),
  timezone text NOT NULL DEFAULT 'UTC',
  is_active boolean NOT NULL DEFAULT true,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz
);
CREATE UNIQUE INDEX organizations_slug_key ON organizations (slug);

CREATE TABLE users (
  id uuid PRIMARY KEY,
  email text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
  first_name text NOT NULL DEFAULT '' CHECK (length(first_name) <= 100),
  last_name text NOT NULL DEFAULT '' CHECK (length(last_name) <= 100),
  avatar_url text,
  password_hash text,
  preferences jsonb NOT NULL DEFAULT '{}',
  is_active boolean NOT NULL DEFAULT true,
  last_login_at timestamptz,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE memberships (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES users (id),
  role text NOT NULL CHECK (role IN ('OWNER','ADMIN','MANAGER','MEMBER','VIEWER','CLIENT')),
  job_title text CHECK (length(job_title) <= 200),
  department text CHECK (length(department) <= 200),
  manager_id uuid,
  hire_date date,
  cost_rate numeric(18,2) CHECK (cost_rate >= 0),
  bill_rate numeric(18,2) CHECK (bill_rate >= 0),
  rate_currency char(3) CHECK (rate_currency ~ '^[A-Z]{3}$'),
  invited_by uuid REFERENCES users (id),
  joined_at timestamptz,
  is_active boolean NOT NULL DEFAULT true,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT memberships_org_id_id_key UNIQUE (org_id, id),
  CONSTRAINT memberships_org_id_user_id_key UNIQUE (org_id, user_id),
  CONSTRAINT memberships_org_id_manager_id_fkey FOREIGN KEY (org_id, manager_id) REFERENCES memberships (org_id, id),
  CHECK (manager_id IS DISTINCT FROM id)
);
CREATE INDEX memberships_user_id_idx ON memberships (user_id);

CREATE TABLE teams (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  kind text NOT NULL DEFAULT 'TEAM' CHECK (kind IN ('TEAM','STUDIO','CREW','DEPARTMENT','AREA','PRACTICE')),
  description text CHECK (length(description) <= 5000),
  parent_id uuid,
  lead_id uuid,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT teams_org_id_id_key UNIQUE (org_id, id),
  CONSTRAINT teams_org_id_name_key UNIQUE (org_id, name),
  CONSTRAINT teams_org_id_parent_id_fkey FOREIGN KEY (org_id, parent_id) REFERENCES teams (org_id, id),
  CONSTRAINT teams_org_id_lead_id_fkey FOREIGN KEY (org_id, lead_id) REFERENCES memberships (org_id, id),
  CHECK (parent_id IS DISTINCT FROM id)
);

CREATE TABLE team_members (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  team_id uuid NOT NULL,
  membership_id uuid NOT NULL,
  role text CHECK (length(role) <= 100),
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT team_members_membership_id_key UNIQUE (org_id, team_id, membership_id),
  CONSTRAINT team_members_org_id_team_id_fkey FOREIGN KEY (org_id, team_id) REFERENCES teams (org_id, id) ON DELETE CASCADE,
  CONSTRAINT team_members_org_id_membership_id_fkey FOREIGN KEY (org_id, membership_id) REFERENCES memberships (org_id, id) ON DELETE CASCADE
);
CREATE INDEX team_members_membership_idx ON team_members (org_id, membership_id);

CREATE TABLE skills (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  kind text NOT NULL DEFAULT 'SKILL' CHECK (kind IN ('SKILL','DISCIPLINE','TITLE')),
  category text CHECK (length(category) <= 100),
  description text CHECK (length(description) <= 2000),
  parent_id uuid,
  level text CHECK (length(level) <= 50),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT skills_org_id_id_key UNIQUE (org_id, id),
  CONSTRAINT skills_name_key UNIQUE (org_id, kind, name),
  CONSTRAINT skills_org_id_parent_id_fkey FOREIGN KEY (org_id, parent_id) REFERENCES skills (org_id, id)
);

CREATE TABLE member_skills (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  membership_id uuid NOT NULL,
  skill_id uuid NOT NULL,
  proficiency smallint NOT NULL CHECK (proficiency BETWEEN 0 AND 10),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT member_skills_skill_id_key UNIQUE (org_id, membership_id, skill_id),
  CONSTRAINT member_skills_org_id_membership_id_fkey FOREIGN KEY (org_id, membership_id) REFERENCES memberships (org_id, id) ON DELETE CASCADE,
  CONSTRAINT member_skills_org_id_skill_id_fkey FOREIGN KEY (org_id, skill_id) REFERENCES skills (org_id, id) ON DELETE CASCADE
);
CREATE INDEX member_skills_skill_idx ON member_skills (org_id, skill_id);

CREATE TABLE api_keys (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  prefix text NOT NULL,
  secret_hash bytea NOT NULL,
  scope text NOT NULL CHECK (scope IN ('READ','WRITE','ADMIN')),
  created_by uuid,
  expires_at timestamptz,
  last_used_at timestamptz,
  revoked_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT api_keys_org_id_id_key UNIQUE (org_id, id),
  CONSTRAINT api_keys_org_id_created_by_fkey FOREIGN KEY (org_id, created_by) REFERENCES memberships (org_id, id)
);
CREATE UNIQUE INDEX api_keys_prefix_key ON api_keys (prefix);

CREATE TABLE audit_log (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  actor_type text NOT NULL CHECK (actor_type IN ('user','api_key','agent','system','anonymous')),
  actor_user_id uuid,
  actor_membership_id uuid,
  api_key_id uuid,
  action text NOT NULL,
  entity_type text NOT NULL,
  entity_id uuid,
  changes jsonb NOT NULL DEFAULT '{}',
  ip text,
  user_agent text,
  request_id text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_org_created_idx ON audit_log (org_id, created_at DESC, id DESC);
CREATE INDEX audit_log_entity_idx ON audit_log (org_id, entity_type, entity_id);

CREATE TABLE notifications (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  membership_id uuid NOT NULL,
  kind text NOT NULL DEFAULT 'INFO' CHECK (kind IN ('INFO','SUCCESS','WARNING','ERROR','MENTION','ASSIGNMENT','REMINDER','STATUS_CHANGE')),
  title text NOT NULL CHECK (length(title) BETWEEN 1 AND 255),
  body text,
  link text,
  subject_type text,
  subject_id uuid,
  data jsonb NOT NULL DEFAULT '{}',
  read_at timestamptz,
  archived_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT notifications_org_id_membership_id_fkey FOREIGN KEY (org_id, membership_id) REFERENCES memberships (org_id, id) ON DELETE CASCADE
);
CREATE INDEX notifications_inbox_idx ON notifications (org_id, membership_id, created_at DESC, id DESC);
CREATE INDEX notifications_unread_idx ON notifications (org_id, membership_id) WHERE read_at IS NULL AND archived_at IS NULL;

CREATE TABLE org_settings (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  key text NOT NULL CHECK (key ~ '^[a-z][a-z0-9_.]{0,99}$'),
  value jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT org_settings_key_key UNIQUE (org_id, key)
);

CREATE TABLE refresh_tokens (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  family_id uuid NOT NULL,
  token_hash bytea NOT NULL UNIQUE,
  org_id uuid,
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz,
  replaced_by uuid,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);

CREATE TABLE login_attempts (
  id bigserial PRIMARY KEY,
  email text NOT NULL,
  ip text NOT NULL,
  succeeded boolean NOT NULL,
  at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_attempts_email_idx ON login_attempts (lower(email), at);
CREATE INDEX login_attempts_ip_idx ON login_attempts (ip, at);
"#;

const POLICIES: &str = r#"
ALTER TABLE organizations ENABLE ROW LEVEL SECURITY;
ALTER TABLE organizations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON organizations
  USING (id = app_org_id() OR EXISTS (
    SELECT 1 FROM memberships m WHERE m.org_id = organizations.id AND m.user_id = app_user_id() AND m.is_active))
  WITH CHECK (id = app_org_id());

ALTER TABLE memberships ENABLE ROW LEVEL SECURITY;
ALTER TABLE memberships FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON memberships
  USING (org_id = app_org_id() OR user_id = app_user_id())
  WITH CHECK (org_id = app_org_id());

ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON api_keys
  USING (org_id = app_org_id() OR prefix = app_api_key_prefix())
  WITH CHECK (org_id = app_org_id());
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut sql = String::from(TABLES);
        sql.push_str(POLICIES);
        for t in ["teams", "team_members", "skills", "member_skills", "audit_log", "notifications", "org_settings"] {
            sql.push_str(&tenant_rls(t));
        }
        for t in ["organizations", "users", "memberships", "teams", "skills", "member_skills", "org_settings"] {
            sql.push_str(&updated_at_trigger(t));
        }
        sql.push_str(GRANT_APP);
        sql.push_str("REVOKE UPDATE, DELETE ON audit_log FROM opsgraph_app;\n");
        manager.get_connection().execute_unprepared(&sql).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "DROP TABLE IF EXISTS login_attempts, refresh_tokens, org_settings, notifications, audit_log, api_keys, \
                 member_skills, skills, team_members, teams, memberships, users, organizations CASCADE;",
            )
            .await?;
        Ok(())
    }
}
