//! Lead rules: a contact's lead score is the sum of the points of the active scoring rules
//! it matches (recomputed on every change of the contact), and a new contact without an
//! owner gets the member of the first active routing rule it matches (by position).

use crate::entity::{contact, lead_rule};
use crate::enums::{LeadField, LeadOperator, LeadRuleKind};
use crate::nodes::LeadRule;
use opsgraph_core::input::Id;
use opsgraph_core::node::NodeType;
use opsgraph_core::write::Write;
use opsgraph_core::{AppError, AppResult, Permission, Session, validate};
use opsgraph_derive::GqlInput;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::Deserialize;
use uuid::Uuid;

/// Add a lead rule.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct CreateLeadRuleInput {
    /// SCORING or ROUTING.
    pub kind: LeadRuleKind,
    /// Name.
    pub name: String,
    /// The contact field it looks at.
    pub field: LeadField,
    /// How it compares.
    pub operator: LeadOperator,
    /// The value it looks for.
    pub value: String,
    /// Points a match adds (SCORING; -1000..1000).
    pub points: Option<i32>,
    /// The member a match is given to (ROUTING).
    pub assign_to_id: Option<Id>,
    /// Order among routing rules (lowest first).
    pub position: Option<i32>,
    /// Retrying with the same key returns the first result instead of a duplicate.
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

/// Adds a rule (CrmManage); scores of existing contacts follow on their next change.
pub async fn create(
    db: &impl ConnectionTrait,
    session: &Session,
    i: CreateLeadRuleInput,
) -> AppResult<lead_rule::Model> {
    let w = Write::new(db, session, Permission::CrmManage)?;
    let key_text = i.idempotency_key.clone();
    let key = ("createLeadRule", key_text.as_deref());
    if let Some(id) = w.replay(key.0, key.1).await? {
        return opsgraph_core::db::find_in_org::<lead_rule::Entity>(db, lead_rule::Column::OrgId, w.org, id, "rule")
            .await;
    }
    let points = i.points.unwrap_or(0);
    if !(-1000..=1000).contains(&points) {
        return Err(AppError::bad_input("points", "points must be -1000..1000"));
    }
    let assign = opsgraph_org::service::members::resolve(db, w.org, i.assign_to_id.as_deref(), "assignToId").await?;
    if i.kind == LeadRuleKind::Routing && assign.is_none() {
        return Err(AppError::bad_input("assignToId", "a routing rule names the member it assigns to"));
    }
    let row = lead_rule::ActiveModel {
        id: Set(opsgraph_core::id::new_id()),
        org_id: Set(w.org),
        kind: Set(i.kind.as_str().to_owned()),
        name: Set(validate::text("name", &i.name, 1, 200, false)?),
        field: Set(i.field.as_str().to_owned()),
        operator: Set(i.operator.as_str().to_owned()),
        value: Set(validate::text("value", &i.value, 1, 200, false)?),
        points: Set(points),
        assign_to: Set(assign),
        position: Set(i.position.unwrap_or(0)),
        ..Default::default()
    }
    .insert(db)
    .await?;
    w.created::<LeadRule>("lead_rule.create", &row, key).await?;
    w.changed::<LeadRule>("lead_rule.created", row.id, None).await?;
    Ok(row)
}

/// The values of `field` on a contact.
fn values(c: &contact::Model, field: &str) -> Vec<String> {
    let one = |v: &Option<String>| v.iter().cloned().collect::<Vec<_>>();
    match field {
        "SOURCE" => one(&c.source),
        "TITLE" => one(&c.title),
        "COMPANY" => one(&c.company),
        "STATUS" => vec![c.status.clone()],
        "EMAIL" => one(&c.email),
        _ => c.tags.clone(),
    }
}

/// Whether `rule` matches contact `c` (ignoring case).
pub fn matches(rule: &lead_rule::Model, c: &contact::Model) -> bool {
    let want = rule.value.to_lowercase();
    values(c, &rule.field).iter().map(|v| v.to_lowercase()).any(|v| match rule.operator.as_str() {
        "EQUALS" => v == want,
        "CONTAINS" => v.contains(&want),
        _ => v.ends_with(&want),
    })
}

/// The active rules of `org`, routing ones by position.
pub async fn active(db: &impl ConnectionTrait, org: Uuid) -> AppResult<Vec<lead_rule::Model>> {
    Ok(lead_rule::Entity::find()
        .filter(lead_rule::Column::OrgId.eq(org))
        .filter(lead_rule::Column::IsActive.eq(true))
        .order_by_asc(lead_rule::Column::Position)
        .order_by_asc(lead_rule::Column::CreatedAt)
        .all(db)
        .await?)
}

/// The lead score of `c` under `rules`.
pub fn score(rules: &[lead_rule::Model], c: &contact::Model) -> i32 {
    rules.iter().filter(|r| r.kind == "SCORING" && matches(r, c)).map(|r| r.points).sum()
}

/// The owner the first matching routing rule gives `c`.
pub fn route(rules: &[lead_rule::Model], c: &contact::Model) -> Option<Uuid> {
    rules.iter().find(|r| r.kind == "ROUTING" && matches(r, c)).and_then(|r| r.assign_to)
}

/// Deletes a rule.
pub async fn delete(db: &impl ConnectionTrait, session: &Session, gid: &str) -> AppResult<lead_rule::Model> {
    let w = Write::new(db, session, Permission::CrmManage)?;
    let id = LeadRule::decode(gid, "id")?;
    let row = opsgraph_core::db::find_in_org::<lead_rule::Entity>(db, lead_rule::Column::OrgId, w.org, id, "lead rule")
        .await?;
    let row = w.delete::<LeadRule>("lead_rule.delete", row).await?;
    w.changed::<LeadRule>("lead_rule.deleted", row.id, None).await?;
    Ok(row)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(kind: &str, field: &str, op: &str, value: &str, points: i32) -> lead_rule::Model {
        let t = chrono::Utc::now().fixed_offset();
        lead_rule::Model {
            id: Uuid::nil(),
            org_id: Uuid::nil(),
            kind: kind.into(),
            name: "r".into(),
            field: field.into(),
            operator: op.into(),
            value: value.into(),
            points,
            assign_to: (kind == "ROUTING").then(Uuid::nil),
            position: 0,
            is_active: true,
            created_at: t,
        }
    }

    fn contact(email: &str, title: &str, tags: &[&str]) -> contact::Model {
        let t = chrono::Utc::now().fixed_offset();
        contact::Model {
            id: Uuid::nil(),
            org_id: Uuid::nil(),
            account_id: None,
            first_name: "A".into(),
            last_name: String::new(),
            email: Some(email.into()),
            phone: None,
            title: Some(title.into()),
            company: None,
            source: None,
            status: "LEAD".into(),
            owner_id: None,
            lead_score: 0,
            last_contacted_at: None,
            tags: tags.iter().map(|s| (*s).to_owned()).collect(),
            custom_fields: serde_json::json!({}),
            merged_into_id: None,
            membership_id: None,
            version: 1,
            created_at: t,
            updated_at: t,
            deleted_at: None,
        }
    }

    #[test]
    fn scores_sum_matching_rules_ignoring_case() {
        let rules = [
            rule("SCORING", "TITLE", "CONTAINS", "chief", 30),
            rule("SCORING", "EMAIL", "ENDS_WITH", "@BIG.example", 20),
            rule("SCORING", "TAG", "EQUALS", "vip", 50),
            rule("ROUTING", "EMAIL", "ENDS_WITH", "@big.example", 0),
        ];
        assert_eq!(score(&rules, &contact("a@big.example", "Chief Data Officer", &["VIP"])), 100);
        assert_eq!(score(&rules, &contact("a@small.example", "Engineer", &[])), 0);
        assert_eq!(route(&rules, &contact("a@big.example", "x", &[])), Some(Uuid::nil()));
        assert_eq!(route(&rules, &contact("a@small.example", "x", &[])), None);
    }
}
