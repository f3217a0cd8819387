//! What integrations write in org: members and teams created or updated by an outside
//! system's reference (an HR system's employee number, a directory's group id); see
//! `opsgraph_core::sync::upsert`. Each maps onto org's own services, so the same rules,
//! audit rows and events apply.

use chrono::NaiveDate;
use opsgraph_core::db::TxDb;
use opsgraph_core::input::{Id, patch};
use opsgraph_core::node::NodeType;
use opsgraph_core::sync::ExternalRefInput;
use opsgraph_core::sync::upsert::{Upsert, required, unchanged};
use opsgraph_core::{AppResult, Role, Session};
use opsgraph_derive::GqlInput;
use rust_decimal::Decimal;
use sea_orm::EntityTrait;
use serde::Deserialize;
use uuid::Uuid;

use crate::entity::{membership, team, user};
use crate::enums::TeamKind;
use crate::nodes::{Membership, Team};
use crate::service::invitations;
use crate::service::members::{self, AddMemberInput, UpdateMemberInput};
use crate::service::teams::{self, CreateTeamInput, UpdateTeamInput};

/// Create or update the member an outside system's reference names. Absent fields keep
/// their value, null clears; `email` and `role` are needed to create.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct UpsertMembershipInput {
    /// The member's id in the outside system (an employee number).
    pub external_ref: ExternalRefInput,
    /// The version you last read (stale = CONFLICT); omit to update whatever is there.
    pub expected_version: Option<i32>,
    /// Their e-mail (set on create; an existing account is reused; cannot change).
    pub email: Option<String>,
    /// Given name (for a new account).
    pub first_name: Option<String>,
    /// Family name (for a new account).
    pub last_name: Option<String>,
    /// Role.
    pub role: Option<Role>,
    /// Active (false deactivates).
    pub is_active: Option<bool>,
    /// Job title.
    #[serde(default, deserialize_with = "patch")]
    pub job_title: Option<Option<String>>,
    /// Department.
    #[serde(default, deserialize_with = "patch")]
    pub department: Option<Option<String>>,
    /// Line manager (Membership).
    #[serde(default, deserialize_with = "patch")]
    pub manager_id: Option<Option<Id>>,
    /// Hire date.
    #[serde(default, deserialize_with = "patch")]
    pub hire_date: Option<Option<NaiveDate>>,
    /// Internal cost per hour.
    #[serde(default, deserialize_with = "patch")]
    pub cost_rate: Option<Option<Decimal>>,
    /// Billing rate per hour.
    #[serde(default, deserialize_with = "patch")]
    pub bill_rate: Option<Option<Decimal>>,
    /// First day changed rates apply (default today).
    #[serde(default)]
    pub rates_valid_from: Option<NaiveDate>,
}

impl Upsert for Membership {
    type Input = UpsertMembershipInput;
    const FIELD: &'static str = "membership";

    async fn create(db: &TxDb, session: &Session, i: &Self::Input) -> AppResult<membership::Model> {
        let input = AddMemberInput {
            email: required(&i.email, "email")?,
            first_name: i.first_name.clone(),
            last_name: i.last_name.clone(),
            role: required(&i.role, "role")?,
            job_title: i.job_title.clone().flatten(),
            department: i.department.clone().flatten(),
            manager_id: i.manager_id.clone().flatten(),
            hire_date: i.hire_date.flatten(),
            cost_rate: i.cost_rate.flatten(),
            bill_rate: i.bill_rate.flatten(),
        };
        let m = members::add(db, session, input).await?;
        invitations::send(db, session, m.org_id, m.id, &i.email.clone().unwrap_or_default()).await?;
        match i.is_active {
            Some(false) => members::set_active(db, session, &Membership::gid(m.id), false).await,
            _ => Ok(m),
        }
    }

    async fn update(
        db: &TxDb,
        session: &Session,
        id: Uuid,
        expected: Option<i32>,
        i: &Self::Input,
    ) -> AppResult<Option<(membership::Model, bool)>> {
        let Some(current) = membership::Entity::find_by_id(id).one(db).await? else { return Ok(None) };
        if let Some(email) = &i.email {
            let account = user::Entity::find_by_id(current.user_id).one(db).await?;
            let same = account.is_some_and(|u| u.email.eq_ignore_ascii_case(email.trim()));
            unchanged(Some(same), true, "email")?;
        }
        let gid = Membership::gid(id);
        let input = UpdateMemberInput {
            id: Id(gid.clone()),
            expected_version: expected.unwrap_or(current.version),
            job_title: i.job_title.clone(),
            department: i.department.clone(),
            manager_id: i.manager_id.clone(),
            hire_date: i.hire_date,
            cost_rate: i.cost_rate,
            bill_rate: i.bill_rate,
            rates_valid_from: i.rates_valid_from,
        };
        let mut row = members::update(db, session, input).await?;
        if let Some(role) = i.role
            && role.as_str() != row.role
        {
            row = members::change_role(db, session, &gid, role, row.version).await?;
        }
        if let Some(active) = i.is_active
            && active != row.is_active
        {
            row = members::set_active(db, session, &gid, active).await?;
        }
        let changed = row.version != current.version;
        Ok(Some((row, changed)))
    }
}

/// Create or update the team an outside system's reference names. Absent fields keep
/// their value, null clears; `name` is needed to create.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct UpsertTeamInput {
    /// The team's id in the outside system.
    pub external_ref: ExternalRefInput,
    /// The version you last read (stale = CONFLICT); omit to update whatever is there.
    pub expected_version: Option<i32>,
    /// Unique name.
    pub name: Option<String>,
    /// Kind.
    pub kind: Option<TeamKind>,
    /// Description.
    #[serde(default, deserialize_with = "patch")]
    pub description: Option<Option<String>>,
    /// Enclosing team.
    #[serde(default, deserialize_with = "patch")]
    pub parent_id: Option<Option<Id>>,
    /// Lead (Membership).
    #[serde(default, deserialize_with = "patch")]
    pub lead_id: Option<Option<Id>>,
}

impl Upsert for Team {
    type Input = UpsertTeamInput;
    const FIELD: &'static str = "team";

    async fn create(db: &TxDb, session: &Session, i: &Self::Input) -> AppResult<team::Model> {
        let input = CreateTeamInput {
            name: required(&i.name, "name")?,
            kind: i.kind,
            description: i.description.clone().flatten(),
            parent_id: i.parent_id.clone().flatten(),
            lead_id: i.lead_id.clone().flatten(),
        };
        teams::create(db, session, input).await
    }

    async fn update(
        db: &TxDb,
        session: &Session,
        id: Uuid,
        expected: Option<i32>,
        i: &Self::Input,
    ) -> AppResult<Option<(team::Model, bool)>> {
        let Some(current) = team::Entity::find_by_id(id).one(db).await? else { return Ok(None) };
        let input = UpdateTeamInput {
            id: Id(Team::gid(id)),
            expected_version: expected.unwrap_or(current.version),
            name: i.name.clone(),
            kind: i.kind,
            description: i.description.clone(),
            parent_id: i.parent_id.clone(),
            lead_id: i.lead_id.clone(),
        };
        let row = teams::update(db, session, input).await?;
        let changed = row.version != current.version;
        Ok(Some((row, changed)))
    }
}
