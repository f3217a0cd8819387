//! Threaded `Comment`s (with mentions), task `ChecklistItem`s and `ChangeRequest`s.

use std::sync::LazyLock;

use async_graphql::dynamic::{Field, FieldFuture, FieldValue, Object, TypeRef};
use opsgraph_core::filter::{FieldKind as K, enum_filter_input, ff};
use opsgraph_core::gql::{
    Money, SchemaParts, datetime, enum_type, enum_value, id_field, input_object, list_of_field, mutation, node_fetcher,
    opt, page_field, parent, payload, payload_value, prop, ref_field, ref_field_nn, through_field,
};
use opsgraph_core::pagination::{ListSpec, SortKind as S, sk};
use opsgraph_core::{Permission, relation};
use opsgraph_org::entity::membership;
use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};
use serde::Deserialize;

use crate::entity::{change_request, checklist_item, comment, comment_mention, project, task};
use crate::service::{change_requests, checklists, comments};

/// `Comment` lists.
pub static COMMENTS: LazyLock<ListSpec<comment::Entity>> = LazyLock::new(|| {
    use comment::Column as C;
    ListSpec {
        node: "Comment",
        id: C::Id,
        filters: vec![
            ff("kind", C::Kind, K::Enum("CommentKind")),
            ff("authorId", C::AuthorId, K::Id("Membership")),
            ff("createdAt", C::CreatedAt, K::DateTime),
        ],
        sorts: vec![sk("CREATED_AT", C::CreatedAt, S::DateTime)],
        default_sort: "CREATED_AT",
    }
});

/// `ChangeRequest` lists.
pub static CHANGE_REQUESTS: LazyLock<ListSpec<change_request::Entity>> = LazyLock::new(|| {
    use change_request::Column as C;
    ListSpec {
        node: "ChangeRequest",
        id: C::Id,
        filters: vec![ff("status", C::Status, K::Enum("ChangeRequestStatus"))],
        sorts: vec![sk("CREATED_AT", C::CreatedAt, S::DateTime)],
        default_sort: "CREATED_AT",
    }
});

relation!(
    /// Root comments of a task (replies hang under them); deleted roots stay so threads keep their place.
    CommentsOfTask, comment, TaskId, spec = COMMENTS, scope = |s| s.filter(comment::Column::ParentId.is_null())
);
relation!(
    /// Root project-level comments (status updates and reports), not those on its tasks.
    CommentsOfProject, comment, ProjectId, spec = COMMENTS,
    scope = |s| s.filter(comment::Column::ParentId.is_null()).filter(comment::Column::TaskId.is_null())
);
relation!(
    /// Replies of a root comment.
    RepliesOf, comment, ParentId, spec = COMMENTS
);
relation!(
    /// Mentions of a comment.
    MentionsOf, comment_mention, CommentId
);
relation!(
    /// A task's checklist, in order.
    ChecklistOf, checklist_item, TaskId,
    scope = |s| s.order_by_asc(checklist_item::Column::Position).order_by_asc(checklist_item::Column::Id)
);
relation!(
    /// Change requests of a project.
    ChangeRequestsOf, change_request, ProjectId, spec = CHANGE_REQUESTS
);

fn when(t: &Option<chrono::DateTime<chrono::FixedOffset>>) -> async_graphql::Value {
    t.as_ref().map(datetime).unwrap_or_default()
}

#[derive(Deserialize)]
struct IdInput {
    id: String,
}

/// Registers comments, checklists and change requests.
pub fn register(parts: &mut SchemaParts) {
    type C = comment::Model;
    type Ci = checklist_item::Model;
    type Cr = change_request::Model;
    let nn = TypeRef::named_nn;
    let s = || TypeRef::named(TypeRef::STRING);
    let id_nn = || TypeRef::named_nn(TypeRef::ID);
    let id = || TypeRef::named(TypeRef::ID);
    parts.list(&*COMMENTS).list(&*CHANGE_REQUESTS);
    parts.ty(enum_type(
        "CommentKind",
        "What a comment is.",
        &[("COMMENT", "A discussion comment."), ("UPDATE", "A status update."), ("REPORT", "A report.")],
    ));
    parts.ty(enum_type(
        "ChangeRequestStatus",
        "Where a change request stands.",
        &[
            ("PROPOSED", "Awaiting a decision."),
            ("APPROVED", "Accepted into scope."),
            ("REJECTED", "Declined."),
            ("WITHDRAWN", "Withdrawn by its requester."),
        ],
    ));
    parts.ty(enum_filter_input("CommentKind"));
    parts.ty(enum_filter_input("ChangeRequestStatus"));
    parts.object(
        Object::new("Comment")
            .description(
                "A threaded comment on a task or project. Deleted comments keep their place with an empty body.",
            )
            .implement("Node")
            .field(id_field::<C>("Comment", |c| c.id))
            .field(ref_field_nn::<C, project::Entity>("project", "Project", "The project.", |c| c.project_id))
            .field(ref_field::<C, task::Entity>("task", "Task", "The task (null for project-level comments).", |c| {
                c.task_id
            }))
            .field(ref_field::<C, comment::Entity>("parent", "Comment", "The thread's root comment.", |c| c.parent_id))
            .field(page_field::<C, RepliesOf>("replies", "Replies, oldest first.", |c| c.id))
            .field(prop::<C>("kind", nn("CommentKind"), "Kind.", |c| enum_value(&c.kind)))
            .field(ref_field::<C, membership::Entity>("author", "Membership", "Who wrote it.", |c| c.author_id))
            .field(prop::<C>("body", nn(TypeRef::STRING), "Markdown body (empty once deleted).", |c| {
                if c.deleted_at.is_some() { String::new().into() } else { c.body.clone().into() }
            }))
            .field(through_field::<C, MentionsOf, membership::Entity>(
                "mentions",
                "Membership",
                "Members mentioned with @handle.",
                |c| c.id,
                |m| Some(m.membership_id),
            ))
            .field(prop::<C>("editedAt", TypeRef::named("DateTime"), "When it was last edited.", |c| {
                when(&c.edited_at)
            }))
            .field(prop::<C>("isDeleted", nn(TypeRef::BOOLEAN), "Deleted by its author or a manager.", |c| {
                c.deleted_at.is_some().into()
            }))
            .field(prop::<C>("version", nn(TypeRef::INT), "Optimistic-concurrency version.", |c| c.version.into()))
            .field(prop::<C>("createdAt", nn("DateTime"), "When it was posted.", |c| datetime(&c.created_at))),
    );
    parts.node("Comment", node_fetcher::<comment::Entity>(Permission::WorkRead, |c| c.org_id));
    parts.object(
        Object::new("ChecklistItem")
            .description("One line of a task's checklist.")
            .implement("Node")
            .field(id_field::<Ci>("ChecklistItem", |c| c.id))
            .field(ref_field_nn::<Ci, task::Entity>("task", "Task", "The task.", |c| c.task_id))
            .field(prop::<Ci>("body", nn(TypeRef::STRING), "What to check.", |c| c.body.clone().into()))
            .field(prop::<Ci>("isDone", nn(TypeRef::BOOLEAN), "Ticked.", |c| c.is_done.into()))
            .field(prop::<Ci>("doneAt", TypeRef::named("DateTime"), "When it was ticked.", |c| when(&c.done_at)))
            .field(ref_field::<Ci, membership::Entity>("doneBy", "Membership", "Who ticked it.", |c| c.done_by))
            .field(prop::<Ci>("position", nn(TypeRef::FLOAT), "Order within the checklist.", |c| c.position.into()))
            .field(prop::<Ci>("version", nn(TypeRef::INT), "Optimistic-concurrency version.", |c| c.version.into())),
    );
    parts.node("ChecklistItem", node_fetcher::<checklist_item::Entity>(Permission::WorkRead, |c| c.org_id));
    parts.object(
        Object::new("ChangeRequest")
            .description("A proposed change of a project's scope, with its impact and decision.")
            .implement("Node")
            .field(id_field::<Cr>("ChangeRequest", |c| c.id))
            .field(ref_field_nn::<Cr, project::Entity>("project", "Project", "The project.", |c| c.project_id))
            .field(prop::<Cr>("title", nn(TypeRef::STRING), "Title.", |c| c.title.clone().into()))
            .field(prop::<Cr>("description", s(), "What changes.", |c| opt(c.description.clone())))
            .field(prop::<Cr>("impact", s(), "Impact on scope, quality or people.", |c| opt(c.impact.clone())))
            .field(prop::<Cr>("scheduleImpactDays", nn(TypeRef::INT), "Days the schedule moves.", |c| {
                c.schedule_impact_days.into()
            }))
            .field(
                Field::new("costImpact", TypeRef::named("Money"), |ctx| {
                    FieldFuture::new(async move {
                        let c = parent::<Cr>(&ctx)?;
                        Ok(match (c.cost_impact_amount, &c.cost_impact_currency) {
                            (Some(amount), Some(cur)) => {
                                Some(FieldValue::owned_any(Money { amount, currency: cur.clone() }))
                            }
                            _ => None,
                        })
                    })
                })
                .description("Cost impact (negative: saving)."),
            )
            .field(prop::<Cr>("status", nn("ChangeRequestStatus"), "Status.", |c| enum_value(&c.status)))
            .field(ref_field::<Cr, membership::Entity>("requestedBy", "Membership", "Who proposed it.", |c| {
                c.requested_by
            }))
            .field(ref_field::<Cr, membership::Entity>("decidedBy", "Membership", "Who decided.", |c| c.decided_by))
            .field(prop::<Cr>("decidedAt", TypeRef::named("DateTime"), "When it was decided.", |c| when(&c.decided_at)))
            .field(prop::<Cr>("decisionNote", s(), "Why.", |c| opt(c.decision_note.clone())))
            .field(prop::<Cr>("version", nn(TypeRef::INT), "Optimistic-concurrency version.", |c| c.version.into()))
            .field(prop::<Cr>("createdAt", nn("DateTime"), "When it was proposed.", |c| datetime(&c.created_at))),
    );
    parts.node("ChangeRequest", node_fetcher::<change_request::Entity>(Permission::WorkRead, |c| c.org_id));
    parts.extend(
        "Task",
        page_field::<task::Model, CommentsOfTask>("comments", "Comment threads, oldest first.", |t| t.id),
    );
    parts.extend(
        "Project",
        page_field::<project::Model, CommentsOfProject>(
            "comments",
            "Project-level updates, reports and comments.",
            |p| p.id,
        ),
    );
    parts.extend(
        "Task",
        list_of_field::<task::Model, ChecklistOf>("checklist", "ChecklistItem", "The checklist, in order.", |t| t.id),
    );
    parts.extend(
        "Project",
        page_field::<project::Model, ChangeRequestsOf>("changeRequests", "Proposed scope changes.", |p| p.id),
    );

    parts.ty(input_object(
        "AddCommentInput",
        "Post a comment or reply; `@handle` (an e-mail or its local part) mentions a member.",
        &[
            ("subjectId", id(), "The Task or Project (omit when replying)."),
            ("parentId", id(), "The comment replied to."),
            ("kind", TypeRef::named("CommentKind"), "Kind (default COMMENT)."),
            ("body", nn(TypeRef::STRING), "Markdown body."),
            ("idempotencyKey", s(), "Retrying with the same key returns the first result instead of a duplicate."),
        ],
    ));
    parts.ty(input_object(
        "EditCommentInput",
        "Edit your comment.",
        &[
            ("id", id_nn(), "The comment."),
            ("expectedVersion", nn(TypeRef::INT), "The version you last read."),
            ("body", nn(TypeRef::STRING), "The new body."),
        ],
    ));
    parts.ty(input_object("CommentIdInput", "Names one comment.", &[("id", id_nn(), "The comment.")]));
    parts.ty(input_object(
        "AddChecklistItemInput",
        "Append a checklist item.",
        &[
            ("taskId", id_nn(), "The task."),
            ("body", nn(TypeRef::STRING), "What to check."),
            ("idempotencyKey", s(), "Retrying with the same key returns the first result instead of a duplicate."),
        ],
    ));
    parts.ty(input_object(
        "UpdateChecklistItemInput",
        "Edit, tick or reorder a checklist item.",
        &[
            ("id", id_nn(), "The item."),
            ("expectedVersion", nn(TypeRef::INT), "The version you last read."),
            ("body", s(), "New text."),
            ("isDone", TypeRef::named(TypeRef::BOOLEAN), "Ticked or not."),
            ("afterId", id(), "Move right after this item (null: to the top; omit: stay)."),
        ],
    ));
    parts.ty(input_object("ChecklistItemIdInput", "Names one checklist item.", &[("id", id_nn(), "The item.")]));
    parts.ty(input_object(
        "MoneyInput",
        "An exact amount of money.",
        &[("amount", nn("Decimal"), "The amount."), ("currency", nn(TypeRef::STRING), "ISO 4217 code.")],
    ));
    parts.ty(input_object(
        "ProposeChangeRequestInput",
        "Propose a scope change.",
        &[
            ("projectId", id_nn(), "The project."),
            ("title", nn(TypeRef::STRING), "Title."),
            ("description", s(), "What changes."),
            ("impact", s(), "Impact on scope, quality or people."),
            ("scheduleImpactDays", TypeRef::named(TypeRef::INT), "Days the schedule moves (negative: earlier)."),
            ("costImpact", TypeRef::named("MoneyInput"), "Cost impact (negative: saving)."),
            ("idempotencyKey", s(), "Retrying with the same key returns the first result instead of a duplicate."),
        ],
    ));
    parts.ty(input_object(
        "DecideChangeRequestInput",
        "Approve or reject (managers), or withdraw (the requester) a proposed change.",
        &[
            ("id", id_nn(), "The change request."),
            ("expectedVersion", nn(TypeRef::INT), "The version you last read."),
            ("status", nn("ChangeRequestStatus"), "APPROVED, REJECTED or WITHDRAWN."),
            ("note", s(), "Why."),
        ],
    ));
    parts.object(payload("CommentPayload", "comment", "Comment", "Result of a mutation changing a Comment."));
    parts.object(payload(
        "ChecklistItemPayload",
        "checklistItem",
        "ChecklistItem",
        "Result of a mutation changing a ChecklistItem.",
    ));
    parts.object(payload(
        "ChangeRequestPayload",
        "changeRequest",
        "ChangeRequest",
        "Result of a mutation changing a ChangeRequest.",
    ));
    parts.mutation(mutation(
        "addComment",
        "AddCommentInput",
        "CommentPayload",
        "Comment on a task or project, or reply to a comment.",
        |req, i| async move { Ok(payload_value(comments::add(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.mutation(mutation(
        "editComment",
        "EditCommentInput",
        "CommentPayload",
        "Edit your comment.",
        |req, i| async move { Ok(payload_value(comments::edit(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.mutation(mutation(
        "deleteComment",
        "CommentIdInput",
        "CommentPayload",
        "Delete a comment (its author or a manager).",
        |req, i: IdInput| async move { Ok(payload_value(comments::delete(req.db.as_ref(), &req.session, &i.id).await?)) },
    ));
    parts.mutation(mutation(
        "addChecklistItem",
        "AddChecklistItemInput",
        "ChecklistItemPayload",
        "Append an item to a task's checklist.",
        |req, i| async move { Ok(payload_value(checklists::add(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.mutation(mutation(
        "updateChecklistItem",
        "UpdateChecklistItemInput",
        "ChecklistItemPayload",
        "Edit, tick or reorder a checklist item.",
        |req, i| async move { Ok(payload_value(checklists::update(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.mutation(mutation(
        "removeChecklistItem",
        "ChecklistItemIdInput",
        "ChecklistItemPayload",
        "Remove a checklist item.",
        |req, i: IdInput| async move { Ok(payload_value(checklists::remove(req.db.as_ref(), &req.session, &i.id).await?)) },
    ));
    parts.mutation(mutation(
        "proposeChangeRequest",
        "ProposeChangeRequestInput",
        "ChangeRequestPayload",
        "Propose a change to a project's scope.",
        |req, i| async move { Ok(payload_value(change_requests::propose(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.mutation(mutation(
        "decideChangeRequest",
        "DecideChangeRequestInput",
        "ChangeRequestPayload",
        "Approve, reject or withdraw a proposed change.",
        |req, i| async move { Ok(payload_value(change_requests::decide(req.db.as_ref(), &req.session, i).await?)) },
    ));
}
