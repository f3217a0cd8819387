//! The client portal: `Viewer.clientAccount` (the account a CLIENT login reads),
//! `Contact.portalMember` and `setPortalAccess`.

use async_graphql::dynamic::{Field, FieldFuture, FieldValue};
use opsgraph_core::context::RequestCtx;
use opsgraph_core::gql::{SchemaParts, node_mutation, payload_value, ref_field};
use opsgraph_core::node::{Model, NodeType};
use opsgraph_org::nodes::Membership;

use crate::nodes::{Account, Contact};
use crate::service::portal::{self, SetPortalAccessInput};

/// Registers the portal's fields and mutation.
pub fn register(parts: &mut SchemaParts) {
    parts.extend_named(
        "Viewer",
        Field::new("clientAccount", Account::nullable(), |ctx| {
            FieldFuture::new(async move {
                let req = RequestCtx::of(&ctx)?;
                Ok(portal::client_account(req.db.as_ref(), &req.session).await?.map(FieldValue::owned_any))
            })
        })
        .description(
            "For a client login: the account it reads in the portal (its projects, their client-visible \
             tasks and milestones, sent proposals, feedback). Null for staff.",
        ),
    );
    parts.extend::<Contact>(ref_field::<Model<Contact>, Membership>(
        "portalMember",
        "The CLIENT login linked to this contact (see setPortalAccess).",
        |c| c.membership_id,
    ));
    parts.input::<SetPortalAccessInput>();
    parts.mutation(node_mutation(
        Contact,
        "setPortalAccess",
        "Give a contact a client portal login (a CLIENT member, invited by e-mail) or take it away (admins).",
        |req, i| async move { Ok(payload_value(portal::set_access(req.db.as_ref(), &req.session, i).await?)) },
    ));
}
