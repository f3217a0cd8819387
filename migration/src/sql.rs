//! SQL snippets shared by migrations: tenant Row Level Security and grants.

/// Enables and FORCES Row Level Security on a tenant table keyed by `org_id`.
/// Frozen: the applied migrations up to 000014 use it; new tables use [`tenant_table`].
pub fn tenant_rls(table: &str) -> String {
    format!(
        "ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;\n\
         ALTER TABLE {table} FORCE ROW LEVEL SECURITY;\n\
         CREATE POLICY tenant_isolation ON {table} USING (org_id = app_org_id()) WITH CHECK (org_id = app_org_id());\n"
    )
}

/// Row Level Security for a new tenant table: its organisation only, and nothing for a
/// CLIENT session (replace `client_scope` when clients should see some rows).
pub fn tenant_table(table: &str) -> String {
    format!(
        "{}CREATE POLICY client_scope ON {table} AS RESTRICTIVE USING (app_client_member() IS NULL);\n",
        tenant_rls(table)
    )
}

/// Grants the application role access to every table and sequence created so far.
pub const GRANT_APP: &str = "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO opsgraph_app;\n\
     GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO opsgraph_app;\n\
     REVOKE INSERT, UPDATE, DELETE ON seaql_migrations FROM opsgraph_app;\n";

/// `updated_at` maintained by the database.
pub fn updated_at_trigger(table: &str) -> String {
    format!(
        "CREATE TRIGGER {table}_updated_at BEFORE UPDATE ON {table} FOR EACH ROW EXECUTE FUNCTION set_updated_at();\n"
    )
}

/// The `MigrationTrait` of a migration written as SQL only: `up` runs `$up`, `down` runs
/// `$down` (each one simple-protocol message).
macro_rules! sql_migration {
    ($up:expr, $down:expr $(,)?) => {
        #[async_trait::async_trait]
        impl MigrationTrait for Migration {
            async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
                manager.get_connection().execute_unprepared($up).await?;
                Ok(())
            }

            async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
                manager.get_connection().execute_unprepared($down).await?;
                Ok(())
            }
        }
    };
}
pub(crate) use sql_migration;
