//! Root query fields of the org domain: `viewer` and `organization`.

use crate::nodes::{Membership, Organization, User};
use async_graphql::dynamic::{Field, FieldFuture, FieldValue, Object, TypeRef};
use opsgraph_core::Role;
use opsgraph_core::gql::GqlEnum;
use opsgraph_core::gql::{SchemaParts, list_field};
use opsgraph_core::node::NodeType;
use opsgraph_core::pagination::{Connection, ListQuery};
use opsgraph_core::{AppError, Permission, RequestCtx};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::entity::{membership, notification, organization, user};

/// The parent value of `Viewer`.
pub struct Viewer;

/// Registers `viewer` and `organization`.
pub fn register(parts: &mut SchemaParts) {
    parts.object(viewer_inbox(viewer_identity()));
    parts.query(
        Field::new("viewer", TypeRef::named_nn("Viewer"), |_| {
            FieldFuture::new(async move { Ok(Some(FieldValue::owned_any(Viewer))) })
        })
        .description("The caller. Works unauthenticated too (all fields null)."),
    );
    parts.query(
        Field::new("organization", Organization::nn(), |ctx| {
            FieldFuture::new(async move {
                let req = &RequestCtx::of(&ctx)?;
                let org = req.require(Permission::OrgRead)?;
                let o = opsgraph_core::loader::by_id::<organization::Entity>(req, org)
                    .await?
                    .ok_or_else(|| AppError::not_found("organisation"))?;
                Ok(Some(FieldValue::owned_any(o)))
            })
        })
        .description("The active organisation."),
    );
}

/// `Viewer` with who the caller is.
fn viewer_identity() -> Object {
    Object::new("Viewer")
        .description("The caller: identity, active organisation, inbox.")
        .field(
            Field::new("user", User::nullable(), |ctx| {
                FieldFuture::new(async move {
                    let req = &RequestCtx::of(&ctx)?;
                    let Ok(id) = req.session.user_id() else {
                        return Ok(None);
                    };
                    Ok(opsgraph_core::loader::by_id::<user::Entity>(req, id).await?.map(FieldValue::owned_any))
                })
            })
            .description("The signed-in user (null for API keys)."),
        )
        .field(
            Field::new("membership", Membership::nullable(), |ctx| {
                FieldFuture::new(async move {
                    let req = &RequestCtx::of(&ctx)?;
                    let Some(id) = req.session.membership_id else {
                        return Ok(None);
                    };
                    Ok(opsgraph_core::loader::by_id::<membership::Entity>(req, id).await?.map(FieldValue::owned_any))
                })
            })
            .description("The caller's membership in the active organisation."),
        )
        .field(
            Field::new("organization", Organization::nullable(), |ctx| {
                FieldFuture::new(async move {
                    let req = &RequestCtx::of(&ctx)?;
                    let Some(id) = req.session.org_id else {
                        return Ok(None);
                    };
                    Ok(opsgraph_core::loader::by_id::<organization::Entity>(req, id).await?.map(FieldValue::owned_any))
                })
            })
            .description("The active organisation."),
        )
}

/// `Viewer`'s inbox fields.
fn viewer_inbox(viewer: Object) -> Object {
    viewer
        .field(
            Field::new("role", TypeRef::named(Role::NAME), |ctx| {
                FieldFuture::new(async move {
                    let req = &RequestCtx::of(&ctx)?;
                    Ok(req.session.role.map(|r| FieldValue::value(opsgraph_core::gql::enum_value(r.as_str()))))
                })
            })
            .description("The caller's effective role in the active organisation."),
        )
        .field(
            super::members::MEMBERS.args(
                Field::new("memberships", TypeRef::named_nn("MembershipConnection"), |ctx| {
                    FieldFuture::new(async move {
                        let req = &RequestCtx::of(&ctx)?;
                        let q = ListQuery::from_ctx(&ctx, &super::members::MEMBERS)?;
                        let conn = match req.session.user_id() {
                            Ok(uid) => {
                                opsgraph_core::loader::page_of::<crate::loader::MembershipsOfUser>(req, uid, q).await?
                            }
                            Err(_) => Connection::empty(q.want_total),
                        };
                        Ok(Some(FieldValue::owned_any(conn)))
                    })
                })
                .description("All the caller's memberships, in every organisation (to switch between them)."),
            ),
        )
        .field(list_field(
            "notifications",
            &super::inbox::NOTIFICATIONS,
            "The caller's inbox, newest first by default when ordered DESC.",
            |_, req| {
                let org = req.require(Permission::NotificationsOwn)?;
                let me =
                    req.session.membership_id.ok_or_else(|| AppError::Forbidden("API keys have no inbox".into()))?;
                Ok(notification::Entity::find()
                    .filter(notification::Column::OrgId.eq(org))
                    .filter(notification::Column::MembershipId.eq(me)))
            },
        ))
        .field(
            Field::new("unreadNotificationCount", TypeRef::named_nn(TypeRef::INT), |ctx| {
                FieldFuture::new(async move {
                    let req = &RequestCtx::of(&ctx)?;
                    let org = req.require(Permission::NotificationsOwn)?;
                    let Some(me) = req.session.membership_id else {
                        return Ok(Some(FieldValue::value(0)));
                    };
                    let n = notification::Entity::find()
                        .filter(notification::Column::OrgId.eq(org))
                        .filter(notification::Column::MembershipId.eq(me))
                        .filter(notification::Column::ReadAt.is_null())
                        .filter(notification::Column::ArchivedAt.is_null())
                        .count(req.db.as_ref())
                        .await
                        .map_err(AppError::from)?;
                    Ok(Some(FieldValue::value(n as i64)))
                })
            })
            .description("Unread, unarchived notifications in the inbox."),
        )
}
