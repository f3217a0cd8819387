//! Threaded `Comment`s (with mentions), task `ChecklistItem`s and `ChangeRequest`s.

use crate::enums::{ChangeRequestStatus, CommentKind};
use crate::loader::{ChangeRequestsOf, ChecklistOf, CommentsOfProject, CommentsOfTask, MentionsOf, RepliesOf};
use crate::nodes::{ChangeRequest, ChecklistItem, Comment, Project, Task};
use opsgraph_core::aggregate::{GroupKind as G, agg, agg_money, gf};
use opsgraph_core::gql::GqlEnum;
use opsgraph_core::gql::scalar;
use opsgraph_core::node::NodeType;
use opsgraph_org::nodes::Membership;
use std::sync::LazyLock;

use async_graphql::dynamic::{Field, FieldFuture, FieldValue, Object, TypeRef};
use opsgraph_core::filter::{FieldKind as K, ff};
use opsgraph_core::gql::{
    Money, SchemaParts, datetime, enum_value, id_field, list_of_field, node_mutation, node_object, opt, page_field,
    parent, payload, payload_value, prop, ref_field, ref_field_nn, through_field,
};
use opsgraph_core::pagination::{ListSpec, SortKind as S, sk};

use crate::entity::{change_request, checklist_item, comment, project, task};
use crate::service::{change_requests, checklists, comments};

/// `Comment` lists.
pub static COMMENTS: LazyLock<ListSpec<comment::Entity>> = LazyLock::new(|| {
    use comment::Column as C;
    ListSpec {
        node: Comment::NAME,
        id: C::Id,
        filters: vec![
            ff("kind", C::Kind, K::Enum(CommentKind::NAME)),
            ff("authorId", C::AuthorId, K::Id(Membership::NAME)),
            ff("createdAt", C::CreatedAt, K::DateTime),
        ],
        sorts: vec![sk("CREATED_AT", C::CreatedAt, S::DateTime)],
        default_sort: "CREATED_AT",
        lean: vec![],
        aggregates: vec![],
        groups: vec![],
    }
});

/// `ChangeRequest` lists.
pub static CHANGE_REQUESTS: LazyLock<ListSpec<change_request::Entity>> = LazyLock::new(|| {
    use change_request::Column as C;
    ListSpec {
        node: ChangeRequest::NAME,
        id: C::Id,
        filters: vec![ff("status", C::Status, K::Enum(ChangeRequestStatus::NAME))],
        sorts: vec![sk("CREATED_AT", C::CreatedAt, S::DateTime)],
        default_sort: "CREATED_AT",
        lean: vec![],
        aggregates: vec![
            agg("scheduleImpactDays", C::ScheduleImpactDays),
            agg_money("costImpact", C::CostImpactAmount, C::CostImpactCurrency),
        ],
        groups: vec![
            gf("STATUS", C::Status, G::Enum(&ChangeRequestStatus::VALUES)),
            gf("CREATED_AT", C::CreatedAt, G::Date),
        ],
    }
});

fn when(t: &Option<chrono::DateTime<chrono::FixedOffset>>) -> async_graphql::Value {
    t.as_ref().map(datetime).unwrap_or_default()
}

opsgraph_core::id_input!(
    /// Names one comment.
    CommentIdInput,
    "The comment."
);
opsgraph_core::id_input!(
    /// Names one checklist item.
    ChecklistItemIdInput,
    "The item."
);

/// Registers comments, checklists and change requests.
pub fn register(parts: &mut SchemaParts) {
    checklist_item_type(parts);
    change_request_type(parts);
    comment_mutations(parts);
    checklist_item_mutations(parts);
}

fn checklist_item_type(parts: &mut SchemaParts) {
    type C = comment::Model;
    type Ci = checklist_item::Model;
    let nn = TypeRef::named_nn;
    parts.list(&*COMMENTS).list(&*CHANGE_REQUESTS);
    parts.enumeration::<CommentKind>();
    parts.enumeration::<ChangeRequestStatus>();
    parts.object(
        Object::new("Comment")
            .description(
                "A threaded comment on a task or project. Deleted comments keep their place with an empty body.",
            )
            .implement("Node")
            .field(id_field::<Comment>())
            .field(ref_field_nn::<C, Project>("project", "The project.", |c| c.project_id))
            .field(ref_field::<C, Task>("task", "The task (null for project-level comments).", |c| c.task_id))
            .field(ref_field::<C, Comment>("parent", "The thread's root comment.", |c| c.parent_id))
            .field(page_field::<C, RepliesOf>("replies", "Replies, oldest first.", |c| c.id))
            .field(prop::<C>("kind", CommentKind::nn(), "Kind.", |c| enum_value(&c.kind)))
            .field(ref_field::<C, Membership>("author", "Who wrote it.", |c| c.author_id))
            .field(prop::<C>("body", nn(TypeRef::STRING), "Markdown body (empty once deleted).", |c| {
                if c.deleted_at.is_some() { String::new().into() } else { c.body.clone().into() }
            }))
            .field(through_field::<C, MentionsOf, Membership>(
                "mentions",
                "Members mentioned with @handle.",
                |c| c.id,
                |m| Some(m.membership_id),
            ))
            .field(prop::<C>("editedAt", TypeRef::named(scalar::DATE_TIME), "When it was last edited.", |c| {
                when(&c.edited_at)
            }))
            .field(prop::<C>("isDeleted", nn(TypeRef::BOOLEAN), "Deleted by its author or a manager.", |c| {
                c.deleted_at.is_some().into()
            }))
            .field(prop::<C>("version", nn(TypeRef::INT), "Optimistic-concurrency version.", |c| c.version.into()))
            .field(prop::<C>("createdAt", nn(scalar::DATE_TIME), "When it was posted.", |c| datetime(&c.created_at))),
    );
    parts.node::<Comment>();
    parts.object(
        node_object::<ChecklistItem>("One line of a task's checklist.")
            .field(ref_field_nn::<Ci, Task>("task", "The task.", |c| c.task_id))
            .field(prop::<Ci>("body", nn(TypeRef::STRING), "What to check.", |c| c.body.clone().into()))
            .field(prop::<Ci>("isDone", nn(TypeRef::BOOLEAN), "Ticked.", |c| c.is_done.into()))
            .field(prop::<Ci>("doneAt", TypeRef::named(scalar::DATE_TIME), "When it was ticked.", |c| when(&c.done_at)))
            .field(ref_field::<Ci, Membership>("doneBy", "Who ticked it.", |c| c.done_by))
            .field(prop::<Ci>("position", nn(TypeRef::FLOAT), "Order within the checklist.", |c| c.position.into()))
            .field(prop::<Ci>("version", nn(TypeRef::INT), "Optimistic-concurrency version.", |c| c.version.into())),
    );
    parts.node::<ChecklistItem>();
}

fn change_request_type(parts: &mut SchemaParts) {
    type Cr = change_request::Model;
    let nn = TypeRef::named_nn;
    let s = || TypeRef::named(TypeRef::STRING);
    parts.object(
        node_object::<ChangeRequest>("A proposed change of a project's scope, with its impact and decision.")
            .field(ref_field_nn::<Cr, Project>("project", "The project.", |c| c.project_id))
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
            .field(prop::<Cr>("status", ChangeRequestStatus::nn(), "Status.", |c| enum_value(&c.status)))
            .field(ref_field::<Cr, Membership>("requestedBy", "Who proposed it.", |c| c.requested_by))
            .field(ref_field::<Cr, Membership>("decidedBy", "Who decided.", |c| c.decided_by))
            .field(prop::<Cr>("decidedAt", TypeRef::named(scalar::DATE_TIME), "When it was decided.", |c| {
                when(&c.decided_at)
            }))
            .field(prop::<Cr>("decisionNote", s(), "Why.", |c| opt(c.decision_note.clone())))
            .field(prop::<Cr>("version", nn(TypeRef::INT), "Optimistic-concurrency version.", |c| c.version.into()))
            .field(prop::<Cr>("createdAt", nn(scalar::DATE_TIME), "When it was proposed.", |c| {
                datetime(&c.created_at)
            })),
    );
    parts.node::<ChangeRequest>();
    parts.extend::<Task>(page_field::<task::Model, CommentsOfTask>(
        "comments",
        "Comment threads, oldest first.",
        |t| t.id,
    ));
    parts.extend::<Project>(page_field::<project::Model, CommentsOfProject>(
        "comments",
        "Project-level updates, reports and comments.",
        |p| p.id,
    ));
    parts.extend::<Task>(list_of_field::<task::Model, ChecklistOf, ChecklistItem>(
        "checklist",
        "The checklist, in order.",
        |t| t.id,
    ));
    parts.extend::<Project>(page_field::<project::Model, ChangeRequestsOf>(
        "changeRequests",
        "Proposed scope changes.",
        |p| p.id,
    ));
}

fn comment_mutations(parts: &mut SchemaParts) {
    parts.input::<comments::AddCommentInput>();
    parts.input::<comments::EditCommentInput>();
    parts.input::<CommentIdInput>();
    parts.input::<checklists::AddChecklistItemInput>();
    parts.input::<checklists::UpdateChecklistItemInput>();
    parts.input::<ChecklistItemIdInput>();
    parts.input::<change_requests::MoneyInput>();
    parts.input::<change_requests::ProposeChangeRequestInput>();
    parts.input::<change_requests::DecideChangeRequestInput>();
    parts.object(payload::<Comment>("comment", "Result of a mutation changing a Comment."));
    parts.object(payload::<ChecklistItem>("checklistItem", "Result of a mutation changing a ChecklistItem."));
    parts.object(payload::<ChangeRequest>("changeRequest", "Result of a mutation changing a ChangeRequest."));
    parts.mutation(node_mutation(
        Comment,
        "addComment",
        "Comment on a task or project, or reply to a comment.",
        |req, i| async move { Ok(payload_value(comments::add(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.mutation(node_mutation(Comment, "editComment", "Edit your comment.", |req, i| async move {
        Ok(payload_value(comments::edit(req.db.as_ref(), &req.session, i).await?))
    }));
    parts.mutation(node_mutation(
        Comment,
        "deleteComment",
        "Delete a comment (its author or a manager).",
        |req, i: CommentIdInput| async move {
            Ok(payload_value(comments::delete(req.db.as_ref(), &req.session, &i.id).await?))
        },
    ));
    parts.mutation(node_mutation(
        ChecklistItem,
        "addChecklistItem",
        "Append an item to a task's checklist.",
        |req, i| async move { Ok(payload_value(checklists::add(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.mutation(node_mutation(
        ChecklistItem,
        "updateChecklistItem",
        "Edit, tick or reorder a checklist item.",
        |req, i| async move { Ok(payload_value(checklists::update(req.db.as_ref(), &req.session, i).await?)) },
    ));
}

fn checklist_item_mutations(parts: &mut SchemaParts) {
    parts.mutation(node_mutation(
        ChecklistItem,
        "removeChecklistItem",
        "Remove a checklist item.",
        |req, i: ChecklistItemIdInput| async move {
            Ok(payload_value(checklists::remove(req.db.as_ref(), &req.session, &i.id).await?))
        },
    ));
    parts.mutation(node_mutation(
        ChangeRequest,
        "proposeChangeRequest",
        "Propose a change to a project's scope.",
        |req, i| async move { Ok(payload_value(change_requests::propose(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.mutation(node_mutation(
        ChangeRequest,
        "decideChangeRequest",
        "Approve, reject or withdraw a proposed change.",
        |req, i| async move { Ok(payload_value(change_requests::decide(req.db.as_ref(), &req.session, i).await?)) },
    ));
}
