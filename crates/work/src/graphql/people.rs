//! People on the work: `ProjectMember` (allocation), watchers, feedback and kudos, with
//! their edges onto `Project`, `Task` and the org domain's `Membership`.

use crate::enums::KudosCategory;
use crate::loader::{
    FeedbackAbout, FeedbackBy, KudosTo, MembersOfProject, SharedFeedbackAbout, StaffingOfMember, WatchersOfProject,
    WatchersOfTask,
};
use crate::nodes::{Feedback, Kudos, Project, ProjectMember, Task};
use opsgraph_core::gql::GqlEnum;
use opsgraph_core::gql::scalar;
use opsgraph_core::input::Id;
use opsgraph_core::node::Model;
use opsgraph_core::node::NodeType;
use opsgraph_derive::GqlInput;
use opsgraph_org::nodes::{Membership, Organization};
use std::sync::{Arc, LazyLock};

use async_graphql::dynamic::{Field, FieldFuture, FieldValue, Object, TypeRef};
use opsgraph_core::filter::{FieldKind as K, ff};
use opsgraph_core::gql::{
    NodeFetcher, SchemaParts, datetime, enum_value, id_field, list_field, mutation, node_fetcher, node_mutation,
    node_object, opt, page_field, parent, payload, payload_value, prop, ref_field, ref_field_nn,
};
use opsgraph_core::loader::page_of;
use opsgraph_core::pagination::{ListQuery, ListSpec, SortKind as S, sk};
use opsgraph_core::{AppError, Permission, RequestCtx};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Deserialize;

use crate::entity::{feedback, kudos, project, project_member, task, watcher};
use crate::service::{members, recognition, watchers};

/// `ProjectMember` lists.
pub static PROJECT_MEMBERS: LazyLock<ListSpec<project_member::Entity>> = LazyLock::new(|| {
    use project_member::Column as C;
    ListSpec {
        node: ProjectMember::NAME,
        id: C::Id,
        filters: vec![
            ff("membershipId", C::MembershipId, K::Id(Membership::NAME)),
            ff("allocationPercent", C::AllocationPercent, K::Int),
        ],
        sorts: vec![sk("CREATED_AT", C::CreatedAt, S::DateTime), sk("ALLOCATION", C::AllocationPercent, S::Int)],
        default_sort: "CREATED_AT",
        lean: vec![],
        aggregates: vec![],
        groups: vec![],
    }
});

/// `Watcher` lists.
pub static WATCHERS: LazyLock<ListSpec<watcher::Entity>> = LazyLock::new(|| {
    use watcher::Column as C;
    ListSpec {
        node: "Watcher",
        id: C::Id,
        filters: vec![ff("membershipId", C::MembershipId, K::Id(Membership::NAME))],
        sorts: vec![sk("CREATED_AT", C::CreatedAt, S::DateTime)],
        default_sort: "CREATED_AT",
        lean: vec![],
        aggregates: vec![],
        groups: vec![],
    }
});

/// `Feedback` lists.
pub static FEEDBACK: LazyLock<ListSpec<feedback::Entity>> = LazyLock::new(|| {
    use feedback::Column as C;
    ListSpec {
        node: Feedback::NAME,
        id: C::Id,
        filters: vec![ff("rating", C::Rating, K::Int), ff("projectId", C::ProjectId, K::Id(Project::NAME))],
        sorts: vec![sk("CREATED_AT", C::CreatedAt, S::DateTime), sk("RATING", C::Rating, S::Int)],
        default_sort: "CREATED_AT",
        lean: vec![],
        aggregates: vec![],
        groups: vec![],
    }
});

/// `Kudos` lists.
pub static KUDOS: LazyLock<ListSpec<kudos::Entity>> = LazyLock::new(|| {
    use kudos::Column as C;
    ListSpec {
        node: Kudos::NAME,
        id: C::Id,
        filters: vec![
            ff("category", C::Category, K::Enum(KudosCategory::NAME)),
            ff("toId", C::ToId, K::Id(Membership::NAME)),
            ff("fromId", C::FromId, K::Id(Membership::NAME)),
        ],
        sorts: vec![sk("CREATED_AT", C::CreatedAt, S::DateTime)],
        default_sort: "CREATED_AT",
        lean: vec![],
        aggregates: vec![],
        groups: vec![],
    }
});

fn date_str(d: Option<chrono::NaiveDate>) -> async_graphql::Value {
    opt(d.map(|d| d.to_string()))
}

/// Names one project member.
#[derive(Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
#[gql(name = "ProjectMemberIdInput")]
struct IdInput {
    /// The project member.
    id: Id,
}

/// Start or stop watching a project or task.
#[derive(Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
struct WatchInput {
    /// The Project or Task.
    subject_id: Id,
    /// Who (default: you; others need manager rights).
    membership_id: Option<Id>,
}

/// Result of `watch` / `unwatch`.
struct Watching {
    membership_id: uuid::Uuid,
    watching: bool,
}

/// A feedback connection field on `Membership`, visible to the member (shared feedback
/// about them / what they wrote) and to managers (everything).
fn feedback_field(name: &str, desc: &str, received: bool) -> Field {
    let field = Field::new(name, TypeRef::named_nn("FeedbackConnection"), move |ctx| {
        FieldFuture::new(async move {
            let m = parent::<Model<Membership>>(&ctx)?;
            let req = &RequestCtx::of(&ctx)?;
            req.require(Permission::WorkRead)?;
            let q = ListQuery::from_ctx(&ctx, &FEEDBACK)?;
            let manager = req.session.can(Permission::WorkManage);
            let me = req.session.membership_id == Some(m.id);
            let conn = match (received, manager, me) {
                (true, true, _) => page_of::<FeedbackAbout>(req, m.id, q).await?,
                (true, false, true) => page_of::<SharedFeedbackAbout>(req, m.id, q).await?,
                (false, true, _) | (false, _, true) => page_of::<FeedbackBy>(req, m.id, q).await?,
                _ => return Err(AppError::Forbidden("feedback is visible to its people and managers".into()).into()),
            };
            Ok(Some(FieldValue::owned_any(conn)))
        })
    })
    .description(desc);
    FEEDBACK.args(field)
}

fn feedback_fetcher() -> NodeFetcher {
    let inner = node_fetcher::<Feedback>();
    Arc::new(move |req: Arc<RequestCtx>, ids| {
        let inner = inner.clone();
        Box::pin(async move {
            let mut found = inner(req.clone(), ids).await?;
            found.retain(|_, v| {
                v.downcast_ref::<feedback::Model>().is_some_and(|f| recognition::can_read_feedback(&req.session, f))
            });
            Ok(found)
        })
    })
}

/// Registers project members, watchers, feedback and kudos.
pub fn register(parts: &mut SchemaParts) {
    project_member_type(parts);
    inputs(parts);
    project_member_mutations(parts);
}

fn project_member_type(parts: &mut SchemaParts) {
    type PM = project_member::Model;
    type W = watcher::Model;
    type F = feedback::Model;
    type Kd = kudos::Model;
    let nn = TypeRef::named_nn;
    let s = || TypeRef::named(TypeRef::STRING);
    let date = || TypeRef::named(scalar::DATE);
    parts.list(&*PROJECT_MEMBERS).list(&*WATCHERS).list(&*FEEDBACK).list(&*KUDOS);
    parts.enumeration::<KudosCategory>();
    parts.object(
        node_object::<ProjectMember>("A member staffed on a project, with role and allocation.")
            .field(ref_field_nn::<PM, Project>("project", "The project.", |m| m.project_id))
            .field(ref_field_nn::<PM, Membership>("membership", "The member.", |m| m.membership_id))
            .field(prop::<PM>("role", s(), "Role on the project.", |m| opt(m.role.clone())))
            .field(prop::<PM>("allocationPercent", nn(TypeRef::INT), "Share of the member's capacity (0..100).", |m| {
                i32::from(m.allocation_percent).into()
            }))
            .field(prop::<PM>("startDate", date(), "First day on the project.", |m| date_str(m.start_date)))
            .field(prop::<PM>("endDate", date(), "Last day on the project.", |m| date_str(m.end_date)))
            .field(prop::<PM>("version", nn(TypeRef::INT), "Optimistic-concurrency version.", |m| m.version.into())),
    );
    parts.node::<ProjectMember>();
    parts.object(
        Object::new("Watcher")
            .description("A member following a project or task.")
            .field(ref_field_nn::<W, Membership>("membership", "Who watches.", |w| w.membership_id))
            .field(prop::<W>("createdAt", nn(scalar::DATE_TIME), "Since when.", |w| datetime(&w.created_at))),
    );
    parts.object(
        Object::new("Feedback")
            .description(
                "Rated feedback about a colleague (visible to its author, its subject when shared, and managers).",
            )
            .implement("Node")
            .field(id_field::<Feedback>())
            .field(ref_field_nn::<F, Membership>("author", "Who wrote it.", |f| f.author_id))
            .field(ref_field_nn::<F, Membership>("subject", "Who it is about.", |f| f.subject_id))
            .field(ref_field::<F, Project>("project", "The project it concerns.", |f| f.project_id))
            .field(ref_field::<F, Task>("task", "The task it concerns.", |f| f.task_id))
            .field(prop::<F>("rating", nn(TypeRef::INT), "1 (poor) .. 5 (outstanding).", |f| {
                i32::from(f.rating).into()
            }))
            .field(prop::<F>("body", s(), "Details.", |f| opt(f.body.clone())))
            .field(prop::<F>("isShared", nn(TypeRef::BOOLEAN), "Shared with its subject.", |f| f.is_shared.into()))
            .field(prop::<F>("createdAt", nn(scalar::DATE_TIME), "When it was given.", |f| datetime(&f.created_at))),
    );
    parts.node_with::<Feedback>(feedback_fetcher());
    parts.object(
        node_object::<Kudos>("Public recognition of a colleague.")
            .field(ref_field_nn::<Kd, Membership>("from", "Who gave it.", |k| k.from_id))
            .field(ref_field_nn::<Kd, Membership>("to", "Who is recognised.", |k| k.to_id))
            .field(prop::<Kd>("category", KudosCategory::nn(), "Category.", |k| enum_value(&k.category)))
            .field(prop::<Kd>("message", nn(TypeRef::STRING), "Why.", |k| k.message.clone().into()))
            .field(ref_field::<Kd, Project>("project", "The project it concerns.", |k| k.project_id))
            .field(prop::<Kd>("createdAt", nn(scalar::DATE_TIME), "When it was given.", |k| datetime(&k.created_at))),
    );
    parts.node::<Kudos>();
}

fn inputs(parts: &mut SchemaParts) {
    let nn = TypeRef::named_nn;
    parts.object(
        Object::new("WatchPayload")
            .description("Result of `watch` / `unwatch`.")
            .field(
                Field::new("membership", Membership::nn(), |ctx| {
                    FieldFuture::new(async move {
                        let w = parent::<Watching>(&ctx)?;
                        let req = &RequestCtx::of(&ctx)?;
                        let m = opsgraph_core::loader::by_id::<<Membership as NodeType>::Entity>(req, w.membership_id)
                            .await?
                            .ok_or_else(|| AppError::not_found("membership"))?;
                        Ok(Some(FieldValue::owned_any(m)))
                    })
                })
                .description("The watcher."),
            )
            .field(prop::<Watching>("watching", nn(TypeRef::BOOLEAN), "Whether they now watch it.", |w| {
                w.watching.into()
            })),
    );

    parts.extend::<Project>(page_field::<project::Model, MembersOfProject>("members", "Who is staffed.", |p| p.id));
    parts.extend::<Project>(page_field::<project::Model, WatchersOfProject>("watchers", "Who follows it.", |p| p.id));
    parts.extend::<Task>(page_field::<task::Model, WatchersOfTask>("watchers", "Who follows it.", |t| t.id));
    parts.extend::<Membership>(page_field::<Model<Membership>, StaffingOfMember>(
        "projectMemberships",
        "Projects this member is staffed on.",
        |m| m.id,
    ));
    parts.extend::<Membership>(page_field::<Model<Membership>, KudosTo>("kudosReceived", "Kudos received.", |m| m.id));
    parts.extend::<Membership>(feedback_field(
        "feedbackReceived",
        "Feedback about this member (shared feedback for the member; all of it for managers).",
        true,
    ));
    parts.extend::<Membership>(feedback_field(
        "feedbackGiven",
        "Feedback this member wrote (the member and managers).",
        false,
    ));
    parts.extend::<Organization>(list_field("kudos", &KUDOS, "The organisation's kudos wall.", |_, req| {
        let org = req.require(Permission::WorkRead)?;
        Ok(kudos::Entity::find().filter(kudos::Column::OrgId.eq(org)))
    }));

    parts.input::<members::AddProjectMemberInput>();
    parts.input::<members::UpdateProjectMemberInput>();
    parts.input::<IdInput>();
}

fn project_member_mutations(parts: &mut SchemaParts) {
    parts.input::<WatchInput>();
    parts.input::<recognition::GiveFeedbackInput>();
    parts.input::<recognition::GiveKudosInput>();
    parts.object(payload::<ProjectMember>("projectMember", "Result of a mutation changing a ProjectMember."));
    parts.object(payload::<Feedback>("feedback", "Result of `giveFeedback`."));
    parts.object(payload::<Kudos>("kudos", "Result of `giveKudos`."));
    parts.mutation(node_mutation(
        ProjectMember,
        "addProjectMember",
        "Staff a member on a project (they start watching it).",
        |req, i| async move { Ok(payload_value(members::add(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.mutation(node_mutation(
        ProjectMember,
        "updateProjectMember",
        "Change role, allocation or dates of a project member.",
        |req, i| async move { Ok(payload_value(members::update(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.mutation(node_mutation(
        ProjectMember,
        "removeProjectMember",
        "Take a member off a project.",
        |req, i: IdInput| async move { Ok(payload_value(members::remove(req.db.as_ref(), &req.session, &i.id).await?)) },
    ));
    for (name, watching, desc) in
        [("watch", true, "Start watching a project or task."), ("unwatch", false, "Stop watching a project or task.")]
    {
        parts.mutation(mutation(name, "WatchPayload", desc, move |req, i: WatchInput| async move {
            let (_, m) = watchers::set_watching(
                req.db.as_ref(),
                &req.session,
                &i.subject_id,
                i.membership_id.as_deref(),
                watching,
            )
            .await?;
            Ok(FieldValue::owned_any(Watching { membership_id: m, watching }))
        }));
    }
    parts.mutation(node_mutation(
        Feedback,
        "giveFeedback",
        "Give rated feedback to a colleague.",
        |req, i| async move { Ok(payload_value(recognition::give_feedback(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.mutation(node_mutation(Kudos, "giveKudos", "Recognise a colleague publicly.", |req, i| async move {
        Ok(payload_value(recognition::give_kudos(req.db.as_ref(), &req.session, i).await?))
    }));
}
