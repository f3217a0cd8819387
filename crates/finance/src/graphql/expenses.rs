//! `Expense`, the expense lists, and the expense and billing mutations.

use std::sync::LazyLock;

use async_graphql::Value;
use async_graphql::dynamic::TypeRef;
use opsgraph_core::aggregate::{GroupKind as G, agg_money, gf};
use opsgraph_core::filter::{FieldKind as K, ff};
use opsgraph_core::gql::{
    GqlEnum, Money, SchemaParts, datetime, enum_value, list_field, money_field, node_mutation, node_object, opt,
    page_field_for, payload, payload_value, prop, ref_field, ref_field_nn, scalar,
};
use opsgraph_core::node::{Model, NodeType};
use opsgraph_core::pagination::{ListSpec, SortKind as S, sk};
use opsgraph_core::{AppError, Permission};
use opsgraph_org::nodes::{Membership, Organization};
use opsgraph_work::nodes::Project;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::entity::expense;
use crate::enums::{ExpenseCategory, ExpenseStatus};
use crate::loader::ExpensesOfMember;
use crate::nodes::{Expense, Invoice};
use crate::service::billing::{self, BillProjectInput};
use crate::service::expenses::{self, DecideExpenseInput, SubmitExpenseInput};

/// `Expense` lists (newest first by default).
pub static EXPENSES: LazyLock<ListSpec<expense::Entity>> = LazyLock::new(|| {
    use expense::Column as C;
    ListSpec {
        node: Expense::NAME,
        id: C::Id,
        filters: vec![
            ff("status", C::Status, K::Enum(ExpenseStatus::NAME)),
            ff("category", C::Category, K::Enum(ExpenseCategory::NAME)),
            ff("memberId", C::MemberId, K::Id(Membership::NAME)),
            ff("projectId", C::ProjectId, K::Id(Project::NAME)),
            ff("billable", C::Billable, K::Boolean),
            ff("spentOn", C::SpentOn, K::Date),
        ],
        sorts: vec![sk("SPENT_ON", C::SpentOn, S::Date), sk("CREATED_AT", C::CreatedAt, S::DateTime)],
        default_sort: "CREATED_AT",
        lean: vec![],
        aggregates: vec![agg_money("amount", C::Amount, C::Currency)],
        groups: vec![
            gf("STATUS", C::Status, G::Enum(&ExpenseStatus::VALUES)),
            gf("CATEGORY", C::Category, G::Enum(&ExpenseCategory::VALUES)),
            gf("MEMBER", C::MemberId, G::Id(Membership::NAME)),
            gf("PROJECT", C::ProjectId, G::Id(Project::NAME)),
            gf("SPENT_ON", C::SpentOn, G::Date),
        ],
    }
});

opsgraph_core::id_input!(
    /// Names one expense.
    ExpenseIdInput,
    "The expense."
);

/// Registers expenses and billing.
pub fn register(parts: &mut SchemaParts) {
    type E = expense::Model;
    let nn = TypeRef::named_nn;
    let s = || TypeRef::named(TypeRef::STRING);
    parts.enumeration::<ExpenseCategory>().enumeration::<ExpenseStatus>();
    parts.object(
        node_object::<Expense>(
            "Money a member spent: approved by someone else, then reimbursed; billable ones are invoiced.",
        )
        .field(ref_field_nn::<E, Membership>("member", "Who spent it.", |e| e.member_id))
        .field(ref_field::<E, Project>("project", "The project it was for.", |e| e.project_id))
        .field(prop::<E>("category", ExpenseCategory::nn(), "What for.", |e| enum_value(&e.category)))
        .field(prop::<E>("description", nn(TypeRef::STRING), "What it was.", |e| e.description.clone().into()))
        .field(prop::<E>("vendor", s(), "Who was paid.", |e| opt(e.vendor.clone())))
        .field(money_field::<E>("amount", false, "How much.", |e| {
            Some(Money { amount: e.amount, currency: e.currency.clone() })
        }))
        .field(prop::<E>("spentOn", nn(scalar::DATE), "When.", |e| Value::String(e.spent_on.to_string())))
        .field(prop::<E>("receiptUrl", s(), "The receipt.", |e| opt(e.receipt_url.clone())))
        .field(prop::<E>("billable", nn(TypeRef::BOOLEAN), "Billed on to the client.", |e| e.billable.into()))
        .field(prop::<E>("status", ExpenseStatus::nn(), "Where it stands.", |e| enum_value(&e.status)))
        .field(ref_field::<E, Membership>("decidedBy", "Who approved or rejected it.", |e| e.decided_by))
        .field(prop::<E>("decidedAt", TypeRef::named(scalar::DATE_TIME), "When.", |e| {
            e.decided_at.as_ref().map(datetime).unwrap_or(Value::Null)
        }))
        .field(prop::<E>("decisionNote", s(), "Why.", |e| opt(e.decision_note.clone())))
        .field(prop::<E>("version", nn(TypeRef::INT), "Optimistic-concurrency version.", |e| e.version.into())),
    );
    parts.node::<Expense>();
    parts.list(&*EXPENSES);
    parts.extend::<Organization>(list_field(
        "expenses",
        &EXPENSES,
        "Every member's expenses (finance readers).",
        |_, req| Ok(expense::Entity::find().filter(expense::Column::OrgId.eq(req.require(Permission::FinanceRead)?))),
    ));
    parts.query(list_field("myExpenses", &EXPENSES, "The caller's own expenses.", |_, req| {
        let org = req.require(Permission::WorkRead)?;
        let me = req.session.membership_id.ok_or_else(|| AppError::Forbidden("expenses belong to members".into()))?;
        Ok(expense::Entity::find().filter(expense::Column::OrgId.eq(org)).filter(expense::Column::MemberId.eq(me)))
    }));
    parts.extend::<Membership>(page_field_for::<Model<Membership>, ExpensesOfMember>(
        Some(Permission::FinanceRead),
        "expenses",
        "Their expenses (finance readers; members read their own with myExpenses).",
        |m| m.id,
    ));
    mutations(parts);
}

fn mutations(parts: &mut SchemaParts) {
    parts.input::<SubmitExpenseInput>().input::<DecideExpenseInput>().input::<ExpenseIdInput>();
    parts.input::<BillProjectInput>();
    parts.object(payload::<Expense>("expense", "Result of a mutation changing an Expense."));
    parts.mutation(node_mutation(Expense, "submitExpense", "Submit an expense of yours.", |req, i| async move {
        Ok(payload_value(expenses::submit(req.db.as_ref(), &req.session, i).await?))
    }));
    parts.mutation(node_mutation(
        Expense,
        "decideExpense",
        "Approve or reject an expense (never your own).",
        |req, i| async move { Ok(payload_value(expenses::decide(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.mutation(node_mutation(
        Expense,
        "reimburseExpense",
        "Mark an approved expense paid back.",
        |req, i: ExpenseIdInput| async move {
            Ok(payload_value(expenses::reimburse(req.db.as_ref(), &req.session, &i.id).await?))
        },
    ));
    parts.mutation(node_mutation(
        Invoice,
        "billProject",
        "Draft the invoice of a project's uninvoiced billable time (per member, at their bill rate) and rebillable \
         expenses in a date range; each item is billed at most once.",
        |req, i| async move { Ok(payload_value(billing::bill_project(req.db.as_ref(), &req.session, i).await?)) },
    ));
}
