//! Work, connected: a project's client account, and a won deal that becomes a project
//! (with its client and its value as budget). Projects are reached through work's
//! services; crm checks its own side (the account, the deal).

use crate::entity::{deal, pipeline_stage};
use crate::enums::StageKind;
use crate::nodes::{Account, Deal};
use crate::service::{accounts, deals};
use opsgraph_core::input::Id;
use opsgraph_core::node::NodeType;
use opsgraph_core::write::Write;
use opsgraph_core::{AppError, AppResult, Permission, Session};
use opsgraph_derive::GqlInput;
use opsgraph_work::nodes::Project;
use opsgraph_work::service::projects::{self as work, ClientLink, CreateProjectInput};
use sea_orm::{ConnectionTrait, EntityTrait, Set};
use serde::Deserialize;

/// Set or clear the client account of a project.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct SetProjectAccountInput {
    /// The project.
    pub project_id: Id,
    /// The client account (null: none).
    pub account_id: Option<Id>,
}

/// Links a project to a client account (or unlinks it).
pub async fn set_project_account(
    db: &impl ConnectionTrait,
    session: &Session,
    i: SetProjectAccountInput,
) -> AppResult<opsgraph_core::node::Model<Project>> {
    let org = session.require(Permission::CrmWrite)?;
    let project = Project::decode(&i.project_id, "projectId")?;
    let account = match &i.account_id {
        Some(g) => Some(
            accounts::get(db, org, Account::decode(g, "accountId")?)
                .await
                .map_err(|_| AppError::bad_input("accountId", "no such account"))?,
        ),
        None => None,
    };
    let link = ClientLink { account: Some(account.map(|a| (a.id, a.name))), budget: None };
    work::link_client(db, session, project, link).await
}

/// Start the project a won deal sold.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct ConvertDealToProjectInput {
    /// The deal (in a WON stage, not converted yet).
    pub deal_id: Id,
    /// The project's key (2-10 letters or digits).
    pub key: String,
    /// The project's name (default: the deal's).
    pub name: Option<String>,
    /// Manager (Membership; default the deal's owner).
    pub manager_id: Option<Id>,
}

/// Creates the project of a won deal: client = the deal's account, budget = its value;
/// the deal then points at it (`Deal.project`). CONFLICT when the deal is not won or was
/// converted before.
pub async fn convert(
    db: &impl ConnectionTrait,
    session: &Session,
    i: ConvertDealToProjectInput,
) -> AppResult<deal::Model> {
    let w = Write::new(db, session, Permission::CrmWrite)?;
    let d = deals::get(db, w.org, Deal::decode(&i.deal_id, "dealId")?).await?;
    let stage =
        pipeline_stage::Entity::find_by_id(d.stage_id).one(db).await?.ok_or_else(|| AppError::not_found("stage"))?;
    if stage.kind != StageKind::Won.as_str() {
        return Err(AppError::Conflict("only a won deal becomes a project; move it to a WON stage first".into()));
    }
    if d.project_id.is_some() {
        return Err(AppError::Conflict("this deal was converted to a project already".into()));
    }
    let account = match d.account_id {
        Some(a) => Some(accounts::get(db, w.org, a).await?),
        None => None,
    };
    let input = CreateProjectInput {
        key: i.key,
        name: i.name.unwrap_or_else(|| d.name.clone()),
        description: Some(format!("Started from the deal \"{}\".", d.name)),
        status: None,
        manager_id: i.manager_id.or_else(|| d.owner_id.map(Id::of::<opsgraph_org::nodes::Membership>)),
        team_id: None,
        start_date: None,
        end_date: None,
        deadline: None,
        client_name: account.as_ref().map(|a| a.name.clone()),
        idempotency_key: None,
    };
    let project = work::create(db, session, input).await?;
    let link =
        ClientLink { account: account.map(|a| Some((a.id, a.name))), budget: Some((d.amount, d.currency.clone())) };
    work::link_client(db, session, project.id, link).await?;
    let mut am: deal::ActiveModel = d.clone().into();
    am.project_id = Set(Some(project.id));
    let after = w.update::<Deal, _>("deal.convert", d.clone(), am, d.version).await?.after;
    deals::emit(&w, &after, "deal.converted", serde_json::json!({ "projectId": Project::gid(project.id) })).await?;
    Ok(after)
}
