#![allow(elided_lifetimes_in_paths)] // sea-orm-migration's async_trait signatures take `&SchemaManager` without a lifetime
//! Database migrations, one file per change, never edited after they land. Migrations
//! are plain SQL and import no entities, so old migrations never change when entities do.

use sea_orm_migration::prelude::*;

mod m20261123_000001_platform;
mod m20261123_000002_org;
mod m20261123_000003_work_projects;
mod m20261123_000004_invitations;
mod m20261123_000005_work_tasks;
mod m20261123_000006_task_dependencies;
mod m20261123_000007_milestones_risks;
mod m20261123_000008_idempotency_keys;
mod m20261123_000009_domain_events;
mod m20261123_000010_work_collaboration;
mod m20261123_000011_okrs_time;
mod m20261123_000012_notification_dispatch;
mod m20261123_000013_reminders;
mod m20261123_000014_live;
mod m20261124_000015_client_scope;
mod m20261124_000016_signup_verification;
mod m20261202_000017_external_refs;
mod m20261202_000018_crm;
mod m20261202_000019_crm_work_links;
mod m20261202_000020_crm_interactions;
mod m20261202_000021_exchange_rates;
mod m20261202_000022_crm_proposals_feedback;
mod m20261202_000023_crm_segments;
mod m20261202_000024_crm_lead_rules;
mod m20261202_000025_client_portal;
mod m20261202_000026_crm_conversations;
mod m20261202_000027_finance;
mod m20261202_000028_finance_expenses;
mod m20261202_000029_finance_forecasts;
mod m20261202_000030_member_rates;
mod m20261202_000031_knowledge;
mod m20261203_000032_embedding_models;
mod m20261203_000033_ai_conversations;
mod m20261203_000034_ai_runs;
mod m20261203_000035_ai_workflows;
mod m20261203_000036_agent_teams;
mod m20261203_000037_persisted_queries;
mod m20261203_000038_webhooks;
mod m20261203_000039_team_chat;
mod m20261203_000040_reporting;
mod m20261204_000041_my_work_order;
mod m20261204_000042_bearer_check;
pub mod sql;

/// The migrator of the whole platform.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_platform::Migration),
            Box::new(m20261123_000002_org::Migration),
            Box::new(m20261123_000003_work_projects::Migration),
            Box::new(m20261123_000004_invitations::Migration),
            Box::new(m20261123_000005_work_tasks::Migration),
            Box::new(m20261123_000006_task_dependencies::Migration),
            Box::new(m20261123_000007_milestones_risks::Migration),
            Box::new(m20261123_000008_idempotency_keys::Migration),
            Box::new(m20261123_000009_domain_events::Migration),
            Box::new(m20261123_000010_work_collaboration::Migration),
            Box::new(m20261123_000011_okrs_time::Migration),
            Box::new(m20261123_000012_notification_dispatch::Migration),
            Box::new(m20261123_000013_reminders::Migration),
            Box::new(m20261123_000014_live::Migration),
            Box::new(m20261124_000015_client_scope::Migration),
            Box::new(m20261124_000016_signup_verification::Migration),
            Box::new(m20261202_000017_external_refs::Migration),
            Box::new(m20261202_000018_crm::Migration),
            Box::new(m20261202_000019_crm_work_links::Migration),
            Box::new(m20261202_000020_crm_interactions::Migration),
            Box::new(m20261202_000021_exchange_rates::Migration),
            Box::new(m20261202_000022_crm_proposals_feedback::Migration),
            Box::new(m20261202_000023_crm_segments::Migration),
            Box::new(m20261202_000024_crm_lead_rules::Migration),
            Box::new(m20261202_000025_client_portal::Migration),
            Box::new(m20261202_000026_crm_conversations::Migration),
            Box::new(m20261202_000027_finance::Migration),
            Box::new(m20261202_000028_finance_expenses::Migration),
            Box::new(m20261202_000029_finance_forecasts::Migration),
            Box::new(m20261202_000030_member_rates::Migration),
            Box::new(m20261202_000031_knowledge::Migration),
            Box::new(m20261203_000032_embedding_models::Migration),
            Box::new(m20261203_000033_ai_conversations::Migration),
            Box::new(m20261203_000034_ai_runs::Migration),
            Box::new(m20261203_000035_ai_workflows::Migration),
            Box::new(m20261203_000036_agent_teams::Migration),
            Box::new(m20261203_000037_persisted_queries::Migration),
            Box::new(m20261203_000038_webhooks::Migration),
            Box::new(m20261203_000039_team_chat::Migration),
            Box::new(m20261203_000040_reporting::Migration),
            Box::new(m20261204_000041_my_work_order::Migration),
            Box::new(m20261204_000042_bearer_check::Migration),
        ]
    }
}

/// A stable fingerprint of the migrations (their names and source), e.g. for naming test
/// templates.
pub fn fingerprint() -> String {
    let mut names: Vec<String> = Migrator::migrations().iter().map(|m| m.name().to_owned()).collect();
    names.push(env!("MIGRATION_SOURCE_HASH").to_owned());
    let mut h: u64 = 0xcbf29ce484222325;
    for b in names.join(",").bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{h:016x}")
}
