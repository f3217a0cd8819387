//! Live entity streams of the work domain: `taskChanged(projectId)` and
//! `projectChanged(id)`, resumable from an event sequence number, each event re-checked
//! against the subscriber's current access to the project.

use crate::nodes::{Project, Task};
use opsgraph_core::node::NodeType;
use opsgraph_org::nodes::Membership;
use std::sync::Arc;

use async_graphql::dynamic::{InputValue, Object, SubscriptionField, SubscriptionFieldFuture, TypeRef};
use async_graphql::{Value, dynamic::ResolverContext};
use opsgraph_core::gql::{SchemaParts, gid, prop, ref_field, ref_field_nn};
use opsgraph_core::live::{Hub, LiveEvent, LiveSession, Outbox, after_arg, after_input, event_object, follow};
use opsgraph_core::{AppError, Permission};

use crate::live::{recheck_project, start_project};

type E = Arc<LiveEvent>;

fn common(name: &str, desc: &str) -> Object {
    event_object(name, desc)
        .field(ref_field::<E, Membership>("actor", "Who did it (null for the system).", |e| e.actor_membership_id))
}

/// Follows project `project_id`'s events that `keep` selects, after checking access.
async fn follow_project<'a>(
    ctx: &ResolverContext<'a>,
    project_id: uuid::Uuid,
    keep: impl Fn(&LiveEvent) -> bool + Send + Sync + 'static,
) -> async_graphql::Result<
    futures_util::stream::BoxStream<'a, async_graphql::Result<async_graphql::dynamic::FieldValue<'a>>>,
> {
    let live = LiveSession::of(ctx)?;
    let session = live.session.clone();
    let org = session.require(Permission::WorkRead)?;
    let after = after_arg(ctx)?;
    let hub = ctx.data::<Hub<Outbox>>().map_err(|_| AppError::internal("event hub missing"))?;
    start_project(&hub.start_scope(org), &session, project_id).await?;
    let cursor =
        hub.subscribe(live.tenant(), org, after).await?.keep(move |e| e.project_id == Some(project_id) && keep(e));
    Ok(follow(ctx, cursor, move |d| {
        let session = session.clone();
        async move { recheck_project(&d.scope, &session, project_id).await.map(|_| true) }
    })?)
}

/// Registers the event types and the two streams.
pub fn register(parts: &mut SchemaParts) {
    let nn = TypeRef::named_nn;
    parts.object(
        common("TaskEvent", "Something that happened to a task.")
            .field(prop::<E>("taskId", nn(TypeRef::ID), "The task's global ID (also when it was deleted).", |e| {
                gid::<Task>(e.subject_id)
            }))
            .field(ref_field::<E, Task>("task", "The task as it is now.", |e| Some(e.subject_id))),
    );
    parts.object(
        common("ProjectEvent", "Something that happened in a project.")
            .field(prop::<E>(
                "subjectType",
                nn(TypeRef::STRING),
                "The type of what changed (`Task`, `Risk`, …).",
                |e| Value::String(e.subject_type.clone()),
            ))
            .field(prop::<E>("subjectId", nn(TypeRef::ID), "The global ID of what changed.", |e| {
                opsgraph_core::gql::gid_named(&e.subject_type, e.subject_id)
            }))
            .field(ref_field_nn::<E, Project>("project", "The project as it is now.", |e| {
                e.project_id.unwrap_or_default()
            })),
    );
    parts.subscription(
        SubscriptionField::new("taskChanged", nn("TaskEvent"), |ctx| {
            SubscriptionFieldFuture::new(async move {
                let raw = ctx.args.try_get("projectId")?.string()?.to_owned();
                let project_id = Project::decode(&raw, "projectId")?;
                follow_project(&ctx, project_id, |e| e.subject_type == "Task").await
            })
        })
        .argument(InputValue::new("projectId", nn(TypeRef::ID)).description("The project whose tasks to follow."))
        .argument(after_input())
        .description(
            "Changes to the tasks of a project (created, assigned, updated, status changed, deleted, restored, \
             due, overdue), in commit order. For the people on the project and managers; each event is re-checked, \
             and losing access ends the stream with FORBIDDEN.",
        ),
    );
    parts.subscription(
        SubscriptionField::new("projectChanged", nn("ProjectEvent"), |ctx| {
            SubscriptionFieldFuture::new(async move {
                let raw = ctx.args.try_get("id")?.string()?.to_owned();
                let project_id = Project::decode(&raw, "id")?;
                follow_project(&ctx, project_id, |_| true).await
            })
        })
        .argument(InputValue::new("id", nn(TypeRef::ID)).description("The project to follow."))
        .argument(after_input())
        .description(
            "Everything that happens in a project — the project itself, its tasks, members, comments, milestones, \
             risks, change requests — in commit order. Same access rule as `taskChanged`.",
        ),
    );
}
