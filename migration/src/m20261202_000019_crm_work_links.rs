//! Work, connected to crm: the project's client seam (`client_name` until crm existed)
//! becomes an account per distinct client name, `projects.client_account_id` a real
//! reference, and a deal can point at the project it became.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
INSERT INTO accounts (id, org_id, name, status)
SELECT gen_random_uuid(), s.org_id, s.client_name, 'ACTIVE'
FROM (SELECT DISTINCT org_id, client_name FROM projects WHERE client_name IS NOT NULL AND client_account_id IS NULL) s;
UPDATE projects p SET client_account_id = a.id
FROM accounts a WHERE a.org_id = p.org_id AND a.name = p.client_name AND p.client_account_id IS NULL;
ALTER TABLE projects ADD CONSTRAINT projects_client_account_fkey
  FOREIGN KEY (org_id, client_account_id) REFERENCES accounts (org_id, id);
CREATE INDEX projects_client_account_idx ON projects (org_id, client_account_id);
ALTER TABLE deals ADD COLUMN project_id uuid;
ALTER TABLE deals ADD CONSTRAINT deals_project_fkey FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id);
CREATE UNIQUE INDEX deals_project_key ON deals (project_id) WHERE project_id IS NOT NULL;
"#;

crate::sql::sql_migration!(
    UP,
    "DROP INDEX IF EXISTS deals_project_key; ALTER TABLE deals DROP COLUMN IF EXISTS project_id; \
                 DROP INDEX IF EXISTS projects_client_account_idx; \
                 ALTER TABLE projects DROP CONSTRAINT IF EXISTS projects_client_account_fkey;",
);
