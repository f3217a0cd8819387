//! The crm mutations: industries, accounts, contacts, pipelines and deals (each with its
//! `<Type>Payload`), and upsert by external reference for accounts, contacts and deals.

use crate::service::merge::{self, MergeInput, MergeReport};
use async_graphql::dynamic::{FieldValue, Object, TypeRef};
use opsgraph_core::gql::{SchemaParts, mutation, node_mutation, payload, payload_value, prop, ref_field_nn};
use opsgraph_core::sync::upsert;

use crate::nodes::{Account, Contact, Deal, Industry, Pipeline};
use crate::service::pipelines::StageInput;
use crate::service::{accounts, contacts, deals, industries, pipelines, projects};
use opsgraph_work::nodes::Project;

opsgraph_core::id_input!(
    /// Names one account.
    AccountIdInput,
    "The account."
);
opsgraph_core::id_input!(
    /// Names one contact.
    ContactIdInput,
    "The contact."
);
opsgraph_core::id_input!(
    /// Names one deal.
    DealIdInput,
    "The deal."
);

/// Registers the mutations and their inputs and payloads.
pub fn register(parts: &mut SchemaParts) {
    parts.input::<industries::CreateIndustryInput>().input::<accounts::CreateAccountInput>();
    parts.input::<accounts::UpdateAccountInput>().input::<AccountIdInput>();
    parts.input::<contacts::CreateContactInput>().input::<contacts::UpdateContactInput>().input::<ContactIdInput>();
    parts.input::<StageInput>().input::<pipelines::CreatePipelineInput>();
    parts.input::<deals::CreateDealInput>().input::<deals::UpdateDealInput>().input::<deals::MoveDealInput>();
    parts.input::<DealIdInput>();
    parts.object(payload::<Industry>("industry", "Result of a mutation changing an Industry."));
    parts.object(payload::<Account>("account", "Result of a mutation changing an Account."));
    parts.object(payload::<Contact>("contact", "Result of a mutation changing a Contact."));
    parts.object(payload::<Pipeline>("pipeline", "Result of a mutation changing a Pipeline."));
    parts.object(payload::<Deal>("deal", "Result of a mutation changing a Deal."));
    account_mutations(parts);
    deal_mutations(parts);
    merges(parts);
    upsert::register::<Account>(parts);
    upsert::register::<Contact>(parts);
    upsert::register::<Deal>(parts);
}

fn account_mutations(parts: &mut SchemaParts) {
    parts.mutation(node_mutation(Industry, "createIndustry", "Add an industry to the catalog.", |req, i| async move {
        Ok(payload_value(industries::create(req.db.as_ref(), &req.session, i).await?))
    }));
    parts.mutation(node_mutation(Account, "createAccount", "Add a client company.", |req, i| async move {
        Ok(payload_value(accounts::create(req.db.as_ref(), &req.session, i).await?))
    }));
    parts.mutation(node_mutation(Account, "updateAccount", "Change an account.", |req, i| async move {
        Ok(payload_value(accounts::update(req.db.as_ref(), &req.session, i).await?))
    }));
    parts.mutation(node_mutation(
        Account,
        "deleteAccount",
        "Soft-delete an account.",
        |req, i: AccountIdInput| async move {
            Ok(payload_value(accounts::set_deleted(req.db.as_ref(), &req.session, &i.id, true).await?))
        },
    ));
    parts.mutation(node_mutation(
        Account,
        "restoreAccount",
        "Restore a soft-deleted account.",
        |req, i: AccountIdInput| async move {
            Ok(payload_value(accounts::set_deleted(req.db.as_ref(), &req.session, &i.id, false).await?))
        },
    ));
    parts.mutation(node_mutation(Contact, "createContact", "Add a contact or lead.", |req, i| async move {
        Ok(payload_value(contacts::create(req.db.as_ref(), &req.session, i).await?))
    }));
    parts.mutation(node_mutation(Contact, "updateContact", "Change a contact.", |req, i| async move {
        Ok(payload_value(contacts::update(req.db.as_ref(), &req.session, i).await?))
    }));
    parts.mutation(node_mutation(
        Contact,
        "deleteContact",
        "Soft-delete a contact.",
        |req, i: ContactIdInput| async move {
            Ok(payload_value(contacts::delete(req.db.as_ref(), &req.session, &i.id).await?))
        },
    ));
}

fn deal_mutations(parts: &mut SchemaParts) {
    parts.mutation(node_mutation(
        Pipeline,
        "createPipeline",
        "Create a pipeline with its stages.",
        |req, i| async move { Ok(payload_value(pipelines::create(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.mutation(node_mutation(Deal, "createDeal", "Open a deal.", |req, i| async move {
        Ok(payload_value(deals::create(req.db.as_ref(), &req.session, i).await?))
    }));
    parts.mutation(node_mutation(Deal, "updateDeal", "Change a deal (its stage: moveDeal).", |req, i| async move {
        Ok(payload_value(deals::update(req.db.as_ref(), &req.session, i).await?))
    }));
    parts.mutation(node_mutation(
        Deal,
        "moveDeal",
        "Move a deal on its board: another stage (recorded in its history; WON or LOST closes it) and/or another place.",
        |req, i| async move { Ok(payload_value(deals::move_deal(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.input::<projects::SetProjectAccountInput>().input::<projects::ConvertDealToProjectInput>();
    parts.mutation(node_mutation(Project, "setProjectAccount", "Link a project to its client account (or unlink it).", |req, i| async move {
        Ok(payload_value(projects::set_project_account(req.db.as_ref(), &req.session, i).await?))
    }));
    parts.mutation(node_mutation(
        Deal,
        "convertDealToProject",
        "Start the project a won deal sold: its client is the deal's account, its budget the deal's value.",
        |req, i| async move { Ok(payload_value(projects::convert(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.mutation(node_mutation(Deal, "deleteDeal", "Soft-delete a deal.", |req, i: DealIdInput| async move {
        Ok(payload_value(deals::delete(req.db.as_ref(), &req.session, &i.id).await?))
    }));
}

fn merge_payload<N: opsgraph_core::node::NodeType>(name: &str, field: &str) -> Object
where
    opsgraph_core::node::Model<N>: Clone + Send + Sync + 'static,
{
    let int = || TypeRef::named_nn(TypeRef::INT);
    Object::new(name)
        .description(format!("What merging into a {} did (or, in a dry run, would do).", N::NAME))
        .field(ref_field_nn::<MergeReport, N>(field, "The target, which stays.", |r| r.target))
        .field(prop::<MergeReport>("dryRun", TypeRef::named_nn(TypeRef::BOOLEAN), "Nothing was written.", |r| {
            r.dry_run.into()
        }))
        .field(prop::<MergeReport>("contacts", int(), "Contacts moved to the target.", |r| {
            i32::try_from(r.contacts).unwrap_or(i32::MAX).into()
        }))
        .field(prop::<MergeReport>("deals", int(), "Deals moved to the target.", |r| {
            i32::try_from(r.deals).unwrap_or(i32::MAX).into()
        }))
        .field(prop::<MergeReport>("interactions", int(), "Interactions moved to the target.", |r| {
            i32::try_from(r.interactions).unwrap_or(i32::MAX).into()
        }))
        .field(prop::<MergeReport>("projects", int(), "Projects moved to the target.", |r| {
            i32::try_from(r.projects).unwrap_or(i32::MAX).into()
        }))
        .field(prop::<MergeReport>(
            "filledFields",
            TypeRef::named_nn_list_nn(TypeRef::STRING),
            "Target fields that took the source's value.",
            |r| async_graphql::Value::List(r.filled.iter().map(|f| async_graphql::Value::String(f.clone())).collect()),
        ))
}

fn merges(parts: &mut SchemaParts) {
    parts.input::<MergeInput>();
    parts.object(merge_payload::<Account>("AccountMergePayload", "account"));
    parts.object(merge_payload::<Contact>("ContactMergePayload", "contact"));
    parts.mutation(mutation(
        "mergeAccounts",
        "AccountMergePayload",
        "Merge a duplicate account into another: its contacts, deals, interactions and projects move; `dryRun` only reports.",
        |req, i| async move { Ok(FieldValue::owned_any(merge::accounts(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.mutation(mutation(
        "mergeContacts",
        "ContactMergePayload",
        "Merge a duplicate contact into another: its deals and interactions move; `dryRun` only reports.",
        |req, i| async move { Ok(FieldValue::owned_any(merge::contacts(req.db.as_ref(), &req.session, i).await?)) },
    ));
}
