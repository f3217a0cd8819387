//! SQL snippets shared by migrations: tenant Row Level Security and grants.

/// Enables and FORCES Row Level Security on a tenant table keyed by `org_id`.
pub fn tenant_rls(table: &str) -> String {
    format!(
        "ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;\n\
         ALTER TABLE {table} FORCE ROW LEVEL SECURITY;\n\
         CREATE POLICY tenant_isolation ON {table} USING (org_id = app_org_id()) WITH CHECK (org_id = app_org_id());\n"
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
