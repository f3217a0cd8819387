//! The work domain's GraphQL contribution, including the edges it owns onto org types
//! (`Membership.managedProjects`, `Team.projects`).

use crate::enums::ProjectStatus;
use crate::loader::{ProjectsOfManager, ProjectsOfTeam};
use crate::nodes::Project;
use opsgraph_core::gql::GqlEnum;
use opsgraph_core::gql::scalar;
use opsgraph_core::input::Id;
use opsgraph_core::node::Model;
use opsgraph_core::node::NodeType;
use opsgraph_derive::GqlInput;
use opsgraph_org::nodes::{Membership, Organization, Team};
use std::sync::LazyLock;

use async_graphql::dynamic::{Field, FieldFuture, FieldValue, Object, TypeRef};
use opsgraph_core::Permission;
use opsgraph_core::filter::{FieldKind as K, ff};
use opsgraph_core::gql::{
    Money, SchemaParts, datetime, enum_value, list_field, money_field, node_mutation, node_object, opt, page_field,
    parent, payload, payload_value, prop, ref_col,
};
use opsgraph_core::pagination::{ListSpec, SortKind as S, sk};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Select};

pub mod chat;
pub mod collab;
pub mod delivery;
pub mod dependencies;
pub mod live;
pub mod okrs;
pub mod people;
pub mod performance;
pub mod tasks;
pub mod time;

use crate::entity::project;
use crate::service::projects;

/// `Project` lists.
pub static PROJECTS: LazyLock<ListSpec<project::Entity>> = LazyLock::new(|| {
    use project::Column as C;
    ListSpec {
        node: Project::NAME,
        id: C::Id,
        filters: vec![
            ff("key", C::Key, K::Text),
            ff("name", C::Name, K::Text),
            ff("status", C::Status, K::Enum(ProjectStatus::NAME)),
            ff("managerId", C::ManagerId, K::Id(Membership::NAME)),
            ff("teamId", C::TeamId, K::Id(Team::NAME)),
            ff("startDate", C::StartDate, K::Date),
            ff("endDate", C::EndDate, K::Date),
            ff("deadline", C::Deadline, K::Date),
            ff("tasks", C::Id, K::Many(&tasks::TASKS_OF_PROJECT)),
        ],
        sorts: vec![
            sk("NAME", C::Name, S::Text),
            sk("KEY", C::Key, S::Text),
            sk("CREATED_AT", C::CreatedAt, S::DateTime),
            sk("DEADLINE", C::Deadline, S::DateOrLast),
        ],
        default_sort: "NAME",
        // The columns of the Project fields of `project_type` and of work's connections
        // from a project; anything else reads whole rows.
        lean: vec![
            ("key", vec![C::Key]),
            ("name", vec![C::Name]),
            ("description", vec![C::Description]),
            ("status", vec![C::Status]),
            ("manager", vec![C::ManagerId]),
            ("team", vec![C::TeamId]),
            ("startDate", vec![C::StartDate]),
            ("endDate", vec![C::EndDate]),
            ("kind", vec![C::Kind]),
            ("deadline", vec![C::Deadline]),
            ("tags", vec![C::Tags]),
            ("isDeleted", vec![C::DeletedAt]),
            ("version", vec![C::Version]),
            ("createdAt", vec![C::CreatedAt]),
            ("updatedAt", vec![C::UpdatedAt]),
            ("tasks", vec![]),
            ("milestones", vec![]),
            ("risks", vec![]),
        ],
        aggregates: vec![],
        groups: vec![],
    }
});

fn live(select: Select<project::Entity>) -> Select<project::Entity> {
    select.filter(project::Column::DeletedAt.is_null())
}

/// Names one project.
#[derive(serde::Deserialize, GqlInput)]
#[gql(name = "ProjectIdInput")]
struct IdInput {
    /// The project.
    id: Id,
}

/// Adds the work types, queries, mutations and edges onto org types.
pub fn register(parts: &mut SchemaParts) {
    project_type(parts);
    project_mutations(parts);
    project_mutations_2(parts);
}

fn project_type(parts: &mut SchemaParts) {
    type P = project::Model;
    let nn = TypeRef::named_nn;
    parts.enumeration::<ProjectStatus>();
    parts.list(&*PROJECTS);
    parts.object(
        node_object::<Project>("A client engagement or internal initiative.")
            .field(prop::<P>("key", nn(TypeRef::STRING), "Short key, prefix of task numbers (`ACME-42`).", |p| {
                p.key.clone().into()
            }))
            .field(prop::<P>("name", nn(TypeRef::STRING), "Name.", |p| p.name.clone().into()))
            .field(prop::<P>("description", TypeRef::named(TypeRef::STRING), "Description.", |p| {
                opt(p.description.clone())
            }))
            .field(prop::<P>("status", ProjectStatus::nn(), "Lifecycle status.", |p| enum_value(&p.status)))
            .field(ref_col::<Project, Membership>("manager", "The project manager.", project::Column::ManagerId))
            .field(ref_col::<Project, Team>("team", "The owning team.", project::Column::TeamId))
            .field(prop::<P>("startDate", TypeRef::named(scalar::DATE), "Start date.", |p| {
                opt(p.start_date.map(|d| d.to_string()))
            }))
            .field(prop::<P>("endDate", TypeRef::named(scalar::DATE), "End date.", |p| {
                opt(p.end_date.map(|d| d.to_string()))
            }))
            .field(prop::<P>("kind", nn(TypeRef::STRING), "ENGAGEMENT, INTERNAL or INITIATIVE.", |p| {
                p.kind.clone().into()
            }))
            .field(prop::<P>("deadline", TypeRef::named(scalar::DATE), "Contractual deadline.", |p| {
                opt(p.deadline.map(|d| d.to_string()))
            }))
            .field(prop::<P>("tags", TypeRef::named_nn_list_nn(TypeRef::STRING), "Tags.", |p| p.tags.clone().into()))
            .field(money_field::<P>(
                "budget",
                true,
                "Budget (from the deal it was sold in, or set by a manager).",
                |p| p.budget_amount.zip(p.budget_currency.clone()).map(|(amount, currency)| Money { amount, currency }),
            ))
            .field(
                Field::new("client", TypeRef::named("ProjectClient"), |ctx| {
                    FieldFuture::new(async move {
                        let p = parent::<P>(&ctx)?;
                        Ok((p.client_account_id.is_some() || p.client_name.is_some())
                            .then(|| FieldValue::borrowed_any(p)))
                    })
                })
                .description("The client (seam until the crm domain links accounts); null for internal work."),
            )
            .field(prop::<P>("isDeleted", nn(TypeRef::BOOLEAN), "Soft-deleted (restorable).", |p| {
                p.deleted_at.is_some().into()
            }))
            .field(prop::<P>("version", nn(TypeRef::INT), "Optimistic-concurrency version.", |p| p.version.into()))
            .field(prop::<P>("createdAt", nn(scalar::DATE_TIME), "When it was created.", |p| datetime(&p.created_at)))
            .field(prop::<P>("updatedAt", nn(scalar::DATE_TIME), "When it last changed.", |p| datetime(&p.updated_at))),
    );
    parts.object(
        Object::new("ProjectClient")
            .description(
                "Who the project is for. A seam: `name` is held on the project until the crm domain \
                 owns client accounts and contributes `Project.clientAccount`.",
            )
            .field(prop::<P>("accountId", TypeRef::named(TypeRef::ID), "The crm client account, once linked.", |p| {
                p.client_account_id.map(|id| opsgraph_core::gql::gid_named("Account", id)).unwrap_or_default()
            }))
            .field(prop::<P>("name", TypeRef::named(TypeRef::STRING), "Client name.", |p| opt(p.client_name.clone()))),
    );
}

fn project_mutations(parts: &mut SchemaParts) {
    parts.node::<Project>();
    parts.extend::<Membership>(page_field::<Model<Membership>, ProjectsOfManager>(
        "managedProjects",
        "Projects this member manages.",
        |m| m.id,
    ));
    parts.extend::<Team>(page_field::<Model<Team>, ProjectsOfTeam>("projects", "Projects this team owns.", |t| t.id));
    parts.extend::<Organization>(list_field(
        "projects",
        &PROJECTS,
        "Projects of the organisation (for a CLIENT: the ones they are on).",
        |_, req| {
            let org = req.require(Permission::ProjectsRead)?;
            Ok(live(project::Entity::find()).filter(project::Column::OrgId.eq(org)))
        },
    ));
    parts.input::<projects::CreateProjectInput>();
    parts.object(payload::<Project>("project", "Result of a mutation changing a Project."));
    parts.input::<projects::UpdateProjectInput>();
    parts.input::<IdInput>();
    parts.mutation(node_mutation(Project, "updateProject", "Change a project.", |req, i| async move {
        Ok(payload_value(projects::update(req.db.as_ref(), &req.session, i).await?))
    }));
    parts.mutation(node_mutation(
        Project,
        "deleteProject",
        "Soft-delete a project (it and its tasks leave every list until restored).",
        |req, i: IdInput| async move {
            Ok(payload_value(projects::set_deleted(req.db.as_ref(), &req.session, &i.id, true).await?))
        },
    ));
    parts.mutation(node_mutation(
        Project,
        "restoreProject",
        "Restore a soft-deleted project.",
        |req, i: IdInput| async move {
            Ok(payload_value(projects::set_deleted(req.db.as_ref(), &req.session, &i.id, false).await?))
        },
    ));
    tasks::register(parts);
    dependencies::register(parts);
    delivery::register(parts);
    people::register(parts);
    collab::register(parts);
    chat::register(parts);
}

fn project_mutations_2(parts: &mut SchemaParts) {
    okrs::register(parts);
    time::register(parts);
    performance::register(parts);
    live::register(parts);
    opsgraph_core::sync::upsert::register::<Project>(parts);
    opsgraph_core::sync::upsert::register::<crate::nodes::Task>(parts);
    opsgraph_core::sync::upsert::register::<crate::nodes::TimeEntry>(parts);
    parts.mutation(node_mutation(Project, "createProject", "Create a project.", |req, i| async move {
        Ok(payload_value(projects::create(req.db.as_ref(), &req.session, i).await?))
    }));
}
