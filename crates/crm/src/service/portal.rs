//! The client portal. Giving a contact portal access gives it a CLIENT membership linked
//! to the contact (invited by e-mail); that member then reads its account's projects,
//! their client-visible tasks and milestones, the account's sent proposals and its
//! feedback. Row Level Security enforces the reads (migration 000025); the guards here
//! check the writes a client may make again, in Rust.

use opsgraph_core::input::Id;
use opsgraph_core::node::NodeType;
use opsgraph_core::write::Write;
use opsgraph_core::{AppError, AppResult, Permission, Role, Session};
use opsgraph_derive::GqlInput;
use opsgraph_org::nodes::Membership;
use opsgraph_org::service::{invitations, members};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde::Deserialize;
use uuid::Uuid;

use crate::entity::{account, contact};
use crate::nodes::Contact;
use crate::service::{accounts, contacts};

/// Give a contact access to the client portal, or take it away.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct SetPortalAccessInput {
    /// The contact (needs an e-mail address and an account).
    pub contact_id: Id,
    /// true: link a CLIENT membership (created and invited by e-mail when the address has
    /// none; reactivated when it was deactivated). false: unlink and deactivate it.
    pub enabled: bool,
}

/// Grants or revokes portal access (admins with crm access). Idempotent.
pub async fn set_access(
    db: &impl ConnectionTrait,
    session: &Session,
    i: SetPortalAccessInput,
) -> AppResult<contact::Model> {
    let w = Write::new(db, session, Permission::MembersManage)?;
    session.require(Permission::CrmWrite)?;
    let current = contacts::get(db, w.org, Contact::decode(&i.contact_id, "contactId")?).await?;
    let membership = match (i.enabled, current.membership_id) {
        (true, Some(m)) => Some(activate(db, session, w.org, m).await?),
        (true, None) => Some(client_member(db, session, &current).await?),
        (false, Some(m)) => {
            let gid = Membership::gid(m);
            if members::get(db, w.org, m).await?.is_active {
                members::set_active(db, session, &gid, false).await?;
            }
            None
        }
        (false, None) => return Ok(current),
    };
    if membership == current.membership_id {
        return Ok(current);
    }
    let mut am: contact::ActiveModel = current.clone().into();
    am.membership_id = Set(membership);
    let after = w.update::<Contact, _>("contact.portal_access", current.clone(), am, current.version).await?.after;
    let kind = if i.enabled { "contact.portal_granted" } else { "contact.portal_revoked" };
    w.changed::<Contact>(kind, after.id, None).await?;
    Ok(after)
}

/// Reactivates membership `m` if it was deactivated; returns it.
async fn activate(db: &impl ConnectionTrait, session: &Session, org: Uuid, m: Uuid) -> AppResult<Uuid> {
    if !members::get(db, org, m).await?.is_active {
        members::set_active(db, session, &Membership::gid(m), true).await?;
    }
    Ok(m)
}

/// The CLIENT membership of the contact's e-mail address: an existing one (which must be a
/// CLIENT) or a new one, invited by e-mail.
async fn client_member(db: &impl ConnectionTrait, session: &Session, c: &contact::Model) -> AppResult<Uuid> {
    let email =
        c.email.as_deref().ok_or_else(|| AppError::bad_input("contactId", "the contact has no e-mail address"))?;
    if c.account_id.is_none() {
        return Err(AppError::bad_input("contactId", "the contact belongs to no account"));
    }
    match members::find_by_email(db, c.org_id, email).await? {
        Some(m) if m.role != Role::Client.as_str() => {
            Err(AppError::bad_input("contactId", format!("{email} is a {} of this organisation, not a client", m.role)))
        }
        Some(m) => {
            let linked = contact::Entity::find().filter(contact::Column::MembershipId.eq(m.id)).one(db).await?;
            if linked.is_some_and(|o| o.id != c.id) {
                return Err(AppError::Conflict(format!("{email} already has portal access through another contact")));
            }
            activate(db, session, c.org_id, m.id).await
        }
        None => {
            let input = members::AddMemberInput {
                email: email.to_owned(),
                first_name: Some(c.first_name.clone()),
                last_name: Some(c.last_name.clone()),
                role: Role::Client,
                job_title: c.title.clone(),
                department: None,
                manager_id: None,
                hire_date: None,
                cost_rate: None,
                bill_rate: None,
            };
            let m = members::add(db, session, input).await?;
            invitations::send(db, session, m.org_id, m.id, email).await?;
            Ok(m.id)
        }
    }
}

/// For a CLIENT session, the account of the contact it is linked to (FORBIDDEN when it is
/// linked to none); `None` for staff.
pub async fn client_account(db: &impl ConnectionTrait, session: &Session) -> AppResult<Option<account::Model>> {
    if session.role != Some(Role::Client) {
        return Ok(None);
    }
    let org = session.org_id()?;
    let member = session.membership_id.ok_or_else(|| AppError::Forbidden("no membership".into()))?;
    let linked = contact::Entity::find()
        .filter(contact::Column::OrgId.eq(org))
        .filter(contact::Column::MembershipId.eq(member))
        .filter(contact::Column::DeletedAt.is_null())
        .one(db)
        .await?;
    let none = || AppError::Forbidden("this client login is linked to no account".into());
    let account_id = linked.and_then(|c| c.account_id).ok_or_else(none)?;
    Ok(Some(accounts::get(db, org, account_id).await.map_err(|_| none())?))
}

/// A CLIENT may act only on its own account (staff pass).
pub async fn guard_account(db: &impl ConnectionTrait, session: &Session, account_id: Uuid) -> AppResult<()> {
    match client_account(db, session).await? {
        Some(a) if a.id != account_id => Err(AppError::Forbidden("a client acts only for its own account".into())),
        _ => Ok(()),
    }
}
