//! Reporting: KPI definitions (a named aggregate of the graph with a target and a period)
//! and their measurements; saved queries (a stored GraphQL document run with the viewer's
//! rights); dashboards with ordered widgets; report templates and the reports generated
//! from them (the file kept as bytes, downloaded by whoever generated it).
//!
//! Who sees what is decided here too: KPIs are the organisation's; a saved query, a
//! dashboard or a report template is its owner's until shared with the organisation; a
//! widget follows its dashboard; a generated report is its requester's alone (it holds
//! what they could see).

use sea_orm_migration::prelude::*;

use crate::sql::{GRANT_APP, tenant_table, updated_at_trigger};

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE kpis (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  description text CHECK (length(description) <= 2000),
  metric text NOT NULL CHECK (length(metric) BETWEEN 1 AND 100),
  params jsonb NOT NULL DEFAULT '{}',
  target numeric(20, 4),
  direction text NOT NULL DEFAULT 'HIGHER_IS_BETTER' CHECK (direction IN ('HIGHER_IS_BETTER', 'LOWER_IS_BETTER')),
  period text NOT NULL CHECK (period IN ('DAY', 'WEEK', 'MONTH', 'QUARTER', 'YEAR')),
  owner_id uuid,
  active boolean NOT NULL DEFAULT true,
  last_measured_at timestamptz,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, id),
  FOREIGN KEY (org_id, owner_id) REFERENCES memberships (org_id, id) ON DELETE SET NULL (owner_id)
);
CREATE UNIQUE INDEX kpis_name_key ON kpis (org_id, lower(name));
CREATE INDEX kpis_due_idx ON kpis (org_id, last_measured_at) WHERE active;

CREATE TABLE kpi_measurements (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  kpi_id uuid NOT NULL,
  period_start date NOT NULL,
  period_end date NOT NULL,
  value numeric(20, 4) NOT NULL,
  target numeric(20, 4),
  source text NOT NULL CHECK (source IN ('SCHEDULE', 'ON_DEMAND')),
  measured_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, id),
  UNIQUE (kpi_id, period_start),
  CHECK (period_end >= period_start),
  FOREIGN KEY (org_id, kpi_id) REFERENCES kpis (org_id, id) ON DELETE CASCADE
);

CREATE TABLE saved_queries (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  owner_id uuid,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  description text CHECK (length(description) <= 2000),
  document text NOT NULL CHECK (length(document) BETWEEN 1 AND 20000),
  variables jsonb NOT NULL DEFAULT '{}',
  shared boolean NOT NULL DEFAULT false,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, id),
  FOREIGN KEY (org_id, owner_id) REFERENCES memberships (org_id, id) ON DELETE SET NULL (owner_id)
);
CREATE INDEX saved_queries_owner_idx ON saved_queries (org_id, owner_id);

CREATE TABLE dashboards (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  owner_id uuid,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  description text CHECK (length(description) <= 2000),
  shared boolean NOT NULL DEFAULT false,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, id),
  FOREIGN KEY (org_id, owner_id) REFERENCES memberships (org_id, id) ON DELETE SET NULL (owner_id)
);
CREATE INDEX dashboards_owner_idx ON dashboards (org_id, owner_id);

CREATE TABLE dashboard_widgets (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  dashboard_id uuid NOT NULL,
  position integer NOT NULL CHECK (position >= 0),
  kind text NOT NULL CHECK (kind IN ('KPI', 'CHART', 'LIST')),
  title text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
  kpi_id uuid,
  saved_query_id uuid,
  layout jsonb NOT NULL DEFAULT '{}',
  chart jsonb,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, id),
  CHECK ((kind = 'KPI') = (kpi_id IS NOT NULL)),
  CHECK ((kind = 'KPI') = (saved_query_id IS NULL)),
  FOREIGN KEY (org_id, dashboard_id) REFERENCES dashboards (org_id, id) ON DELETE CASCADE,
  FOREIGN KEY (org_id, kpi_id) REFERENCES kpis (org_id, id) ON DELETE CASCADE,
  FOREIGN KEY (org_id, saved_query_id) REFERENCES saved_queries (org_id, id) ON DELETE CASCADE
);
CREATE INDEX dashboard_widgets_dashboard_idx ON dashboard_widgets (dashboard_id, position);

CREATE TABLE report_templates (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  owner_id uuid,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  description text CHECK (length(description) <= 2000),
  saved_query_id uuid NOT NULL,
  rows_path text NOT NULL CHECK (length(rows_path) BETWEEN 1 AND 500),
  columns jsonb NOT NULL,
  chart jsonb,
  shared boolean NOT NULL DEFAULT false,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, id),
  FOREIGN KEY (org_id, owner_id) REFERENCES memberships (org_id, id) ON DELETE SET NULL (owner_id),
  FOREIGN KEY (org_id, saved_query_id) REFERENCES saved_queries (org_id, id) ON DELETE CASCADE
);

CREATE TABLE generated_reports (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  template_id uuid,
  requested_by uuid,
  format text NOT NULL CHECK (format IN ('CSV', 'PDF')),
  file_name text NOT NULL,
  content_type text NOT NULL,
  content bytea NOT NULL,
  byte_size integer NOT NULL,
  row_count integer NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, id),
  FOREIGN KEY (org_id, template_id) REFERENCES report_templates (org_id, id) ON DELETE SET NULL (template_id),
  FOREIGN KEY (org_id, requested_by) REFERENCES memberships (org_id, id) ON DELETE CASCADE
);
CREATE INDEX generated_reports_requester_idx ON generated_reports (org_id, requested_by, created_at);
"#;

const TABLES: [&str; 7] = [
    "kpis",
    "kpi_measurements",
    "saved_queries",
    "dashboards",
    "dashboard_widgets",
    "report_templates",
    "generated_reports",
];

/// An owned row is seen by its owner, or by everyone once shared.
const OWNED_VISIBLE: &str = "shared OR owner_id = (SELECT app_member())";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut sql = String::from(UP);
        for t in TABLES {
            sql.push_str(&tenant_table(t));
        }
        for t in ["kpis", "saved_queries", "dashboards", "dashboard_widgets", "report_templates"] {
            sql.push_str(&updated_at_trigger(t));
        }
        for t in ["saved_queries", "dashboards", "report_templates"] {
            sql.push_str(&format!("CREATE POLICY visible ON {t} AS RESTRICTIVE USING ({OWNED_VISIBLE});\n"));
        }
        sql.push_str(
            "CREATE POLICY visible ON dashboard_widgets AS RESTRICTIVE \
               USING (dashboard_id IN (SELECT d.id FROM dashboards d));\n",
        );
        sql.push_str(
            "CREATE POLICY visible ON generated_reports AS RESTRICTIVE \
               USING (requested_by = (SELECT app_member()));\n",
        );
        sql.push_str(GRANT_APP);
        manager.get_connection().execute_unprepared(&sql).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "DROP TABLE IF EXISTS generated_reports, report_templates, dashboard_widgets, dashboards, \
                 saved_queries, kpi_measurements, kpis;",
            )
            .await?;
        Ok(())
    }
}
