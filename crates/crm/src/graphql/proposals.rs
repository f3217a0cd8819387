//! `Proposal` and `ClientFeedback`, their edges on accounts and deals, and mutations.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::Value;
use async_graphql::dynamic::{Field, FieldFuture, FieldValue, TypeRef};
use opsgraph_core::TxDb;
use opsgraph_core::batch::Loader;
use opsgraph_core::context::RequestCtx;
use opsgraph_core::gql::{
    GqlEnum, Money, SchemaParts, datetime, enum_value, list_of_field, money_field, node_mutation, node_object, opt,
    page_field, parent, payload, payload_value, prop, ref_field, ref_field_nn, scalar,
};
use opsgraph_core::loader::{LoadError, db_error, failed};
use opsgraph_core::node::Model;
use opsgraph_org::nodes::Membership;
use opsgraph_work::nodes::Project;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use uuid::Uuid;

use crate::entity::{client_feedback, proposal};
use crate::enums::ProposalStatus;
use crate::loader::{FeedbackOfAccount, ProposalsOfAccount, ProposalsOfDeal};
use crate::nodes::{Account, ClientFeedback, Deal, Proposal};
use crate::service::{feedback, proposals};

/// Average rating and count of feedback per account (one statement per level).
struct Ratings(Arc<TxDb>);

impl Loader<Uuid> for Ratings {
    type Value = (f64, i64);
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, (f64, i64)>, LoadError> {
        let rows = self
            .0
            .query_all_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT account_id, avg(rating)::float8 AS a, count(*) AS n FROM client_feedback \
                 WHERE account_id = ANY($1) GROUP BY account_id",
                [opsgraph_core::loader::keys_array(keys)],
            ))
            .await
            .map_err(db_error)?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("", "account_id").map_err(db_error)?,
                    (r.try_get("", "a").map_err(db_error)?, r.try_get("", "n").map_err(db_error)?),
                ))
            })
            .collect()
    }
}

fn average_rating() -> Field {
    Field::new("averageRating", TypeRef::named(TypeRef::FLOAT), |ctx| {
        FieldFuture::new(async move {
            let a = parent::<Model<Account>>(&ctx)?;
            let req = RequestCtx::of(&ctx)?;
            let r = req.loader(Ratings).load_one(a.id).await.map_err(|e| failed(&e))?;
            Ok(r.map(|(avg, _)| FieldValue::value((avg * 100.0).round() / 100.0)))
        })
    })
    .description("Mean feedback rating (1..5, two decimals); null without feedback.")
}

/// Registers proposals and client feedback.
pub fn register(parts: &mut SchemaParts) {
    type P = proposal::Model;
    type F = client_feedback::Model;
    let nn = TypeRef::named_nn;
    let s = || TypeRef::named(TypeRef::STRING);
    let dt = || TypeRef::named(scalar::DATE_TIME);
    parts.enumeration::<ProposalStatus>();
    parts.object(
        node_object::<Proposal>("A proposal to a client, for a deal or an account.")
            .field(ref_field_nn::<P, Account>("account", "The account.", |p| p.account_id))
            .field(ref_field::<P, Deal>("deal", "The deal.", |p| p.deal_id))
            .field(prop::<P>("title", nn(TypeRef::STRING), "Title.", |p| p.title.clone().into()))
            .field(prop::<P>("content", s(), "Content (markdown).", |p| opt(p.content.clone())))
            .field(money_field::<P>("amount", true, "Value.", |p| {
                p.amount.zip(p.currency.clone()).map(|(amount, currency)| Money { amount, currency })
            }))
            .field(prop::<P>("validUntil", TypeRef::named(scalar::DATE), "Valid until.", |p| {
                opt(p.valid_until.map(|d| d.to_string()))
            }))
            .field(prop::<P>("status", ProposalStatus::nn(), "Status (SENT past validity reads EXPIRED).", |p| {
                enum_value(proposals::status(p, chrono::Utc::now().date_naive()).as_str())
            }))
            .field(prop::<P>(
                "revision",
                nn(TypeRef::INT),
                "Revision (1 first; each change of a draft adds one).",
                |p| p.revision.into(),
            ))
            .field(prop::<P>("sentAt", dt(), "When it was sent.", |p| {
                p.sent_at.as_ref().map(datetime).unwrap_or(Value::Null)
            }))
            .field(prop::<P>("decidedAt", dt(), "When the client answered.", |p| {
                p.decided_at.as_ref().map(datetime).unwrap_or(Value::Null)
            }))
            .field(prop::<P>("version", nn(TypeRef::INT), "Optimistic-concurrency version.", |p| p.version.into())),
    );
    parts.object(
        node_object::<ClientFeedback>("A client's rating of our work, with our response.")
            .field(ref_field_nn::<F, Account>("account", "The account.", |f| f.account_id))
            .field(ref_field::<F, Project>("project", "The project it is about.", |f| f.project_id))
            .field(prop::<F>("rating", nn(TypeRef::INT), "1 (poor) to 5 (excellent).", |f| i32::from(f.rating).into()))
            .field(prop::<F>("comment", s(), "What they said.", |f| opt(f.comment.clone())))
            .field(ref_field::<F, Membership>("givenBy", "Who recorded it (the client's login, or our staff).", |f| {
                f.given_by
            }))
            .field(prop::<F>("response", s(), "Our response.", |f| opt(f.response.clone())))
            .field(prop::<F>("respondedAt", dt(), "When we responded.", |f| {
                f.responded_at.as_ref().map(datetime).unwrap_or(Value::Null)
            }))
            .field(ref_field::<F, Membership>("respondedBy", "Who responded.", |f| f.responded_by))
            .field(prop::<F>("createdAt", nn(scalar::DATE_TIME), "When it was given.", |f| datetime(&f.created_at))),
    );
    parts.node::<Proposal>().node::<ClientFeedback>();
    parts.list(&*super::PROPOSALS).list(&*super::FEEDBACK);
    parts.extend::<Account>(page_field::<Model<Account>, ProposalsOfAccount>("proposals", "Its proposals.", |a| a.id));
    parts.extend::<Account>(page_field::<Model<Account>, FeedbackOfAccount>("feedback", "Its feedback.", |a| a.id));
    parts.extend::<Account>(average_rating());
    parts.extend::<Deal>(list_of_field::<Model<Deal>, ProposalsOfDeal, Proposal>("proposals", "Its proposals.", |d| {
        d.id
    }));
    mutations(parts);
}

fn mutations(parts: &mut SchemaParts) {
    parts
        .input::<proposals::CreateProposalInput>()
        .input::<proposals::ReviseProposalInput>()
        .input::<proposals::DecideProposalInput>();
    parts.input::<feedback::GiveClientFeedbackInput>().input::<feedback::RespondToFeedbackInput>();
    parts.object(payload::<Proposal>("proposal", "Result of a mutation changing a Proposal."));
    parts.object(payload::<ClientFeedback>("feedback", "Result of a mutation changing a ClientFeedback."));
    parts.mutation(node_mutation(Proposal, "createProposal", "Draft a proposal.", |req, i| async move {
        Ok(payload_value(proposals::create(req.db.as_ref(), &req.session, i).await?))
    }));
    parts.mutation(node_mutation(
        Proposal,
        "reviseProposal",
        "Revise a draft (a new revision).",
        |req, i| async move { Ok(payload_value(proposals::revise(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.mutation(node_mutation(
        Proposal,
        "decideProposal",
        "Send a draft; record the client's acceptance (optionally winning its deal) or rejection.",
        |req, i| async move { Ok(payload_value(proposals::decide(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.mutation(node_mutation(
        ClientFeedback,
        "giveClientFeedback",
        "Record a client's rating and comment.",
        |req, i| async move { Ok(payload_value(feedback::give(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.mutation(node_mutation(
        ClientFeedback,
        "respondToClientFeedback",
        "Answer a client's feedback.",
        |req, i| async move { Ok(payload_value(feedback::respond(req.db.as_ref(), &req.session, i).await?)) },
    ));
}
