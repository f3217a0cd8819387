//! `Invoice`, `InvoiceLine`, `Payment`, `AccountCredit`.

use async_graphql::Value;
use async_graphql::dynamic::TypeRef;
use opsgraph_core::gql::{
    GqlEnum, Money, SchemaParts, datetime, enum_value, list_of_field, money_field, node_object, opt, prop, ref_field,
    ref_field_nn, scalar,
};
use opsgraph_crm::nodes::Account;
use opsgraph_org::nodes::Membership;
use opsgraph_work::nodes::Project;
use rust_decimal::Decimal;

use crate::entity::{account_credit, invoice, invoice_line, payment};
use crate::enums::{InvoiceKind, InvoiceStatus, PaymentKind, PaymentMethod};
use crate::loader::{CreditNotesOf, LinesOf, PaymentsOf};
use crate::nodes::{AccountCredit, Invoice, InvoiceLine, Payment};
use crate::service::invoices::{is_overdue, open_amount};

fn money(amount: Decimal, currency: &str) -> Option<Money> {
    Some(Money { amount, currency: currency.to_owned() })
}

fn date(d: Option<chrono::NaiveDate>) -> Value {
    d.map(|d| Value::String(d.to_string())).unwrap_or(Value::Null)
}

/// Registers the invoice types.
pub fn register(parts: &mut SchemaParts) {
    super::enums(parts);
    invoice_object(parts);
    parts.object(
        node_object::<InvoiceLine>("One line of an invoice; amount and tax are rounded to cents per line.")
            .field(prop::<L>("position", nn(TypeRef::INT), "Order on the invoice.", |l| l.position.into()))
            .field(prop::<L>("description", nn(TypeRef::STRING), "What is billed.", |l| l.description.clone().into()))
            .field(prop::<L>("quantity", nn(scalar::DECIMAL), "How many.", |l| {
                l.quantity.normalize().to_string().into()
            }))
            .field(prop::<L>("unitPrice", nn(scalar::DECIMAL), "Price of one.", |l| l.unit_price.to_string().into()))
            .field(prop::<L>("taxRate", nn(scalar::DECIMAL), "Tax rate in percent.", |l| {
                l.tax_rate.normalize().to_string().into()
            }))
            .field(prop::<L>("amount", nn(scalar::DECIMAL), "Quantity x unit price.", |l| l.amount.to_string().into()))
            .field(prop::<L>("taxAmount", nn(scalar::DECIMAL), "Its tax.", |l| l.tax_amount.to_string().into()))
            .field(ref_field::<L, Project>("project", "The project it bills.", |l| l.project_id)),
    );
    parts.object(
        node_object::<Payment>("A payment of an invoice, or a refund of one.")
            .field(ref_field_nn::<P, Invoice>("invoice", "The invoice.", |p| p.invoice_id))
            .field(prop::<P>("kind", PaymentKind::nn(), "Payment or refund.", |p| enum_value(&p.kind)))
            .field(money_field::<P>("amount", false, "Amount received (or paid back).", |p| {
                money(p.amount, &p.currency)
            }))
            .field(money_field::<P>("applied", false, "What went to the invoice (the rest became credit).", |p| {
                money(p.applied, &p.currency)
            }))
            .field(prop::<P>("method", PaymentMethod::nn(), "How.", |p| enum_value(&p.method)))
            .field(prop::<P>("externalRef", TypeRef::named(TypeRef::STRING), "The bank's or provider's id.", |p| {
                opt(p.external_ref.clone())
            }))
            .field(prop::<P>("paidOn", nn(scalar::DATE), "When.", |p| Value::String(p.paid_on.to_string())))
            .field(ref_field::<P, Payment>("refundOf", "The payment a refund gives back.", |p| p.refund_of_id))
            .field(ref_field::<P, Membership>("recordedBy", "Who recorded it.", |p| p.recorded_by))
            .field(prop::<P>("note", TypeRef::named(TypeRef::STRING), "A note.", |p| opt(p.note.clone()))),
    );
    parts.object(
        node_object::<AccountCredit>(
            "Credit an account holds: an over-payment, or a credit note beyond what was unpaid.",
        )
        .field(ref_field_nn::<C, Account>("account", "The account.", |c| c.account_id))
        .field(money_field::<C>("amount", false, "How much.", |c| money(c.amount, &c.currency)))
        .field(prop::<C>("reason", nn(TypeRef::STRING), "Where it came from.", |c| c.reason.clone().into()))
        .field(prop::<C>("createdAt", nn(scalar::DATE_TIME), "When.", |c| datetime(&c.created_at))),
    );
    parts.node::<Invoice>().node::<InvoiceLine>().node::<Payment>().node::<AccountCredit>();
}

type I = invoice::Model;
type L = invoice_line::Model;
type P = payment::Model;
type C = account_credit::Model;

fn nn(name: &str) -> TypeRef {
    TypeRef::named_nn(name)
}

fn invoice_object(parts: &mut SchemaParts) {
    let s = || TypeRef::named(TypeRef::STRING);
    let dt = || TypeRef::named(scalar::DATE_TIME);
    parts.object(
        node_object::<Invoice>(
            "An invoice or a credit note: final once issued, numbered without gaps per series and year.",
        )
        .field(prop::<I>("kind", InvoiceKind::nn(), "Invoice or credit note.", |i| enum_value(&i.kind)))
        .field(prop::<I>("number", s(), "INV-2026-0001 (null while a draft).", |i| opt(i.number.clone())))
        .field(ref_field_nn::<I, Account>("account", "The client account.", |i| i.account_id))
        .field(ref_field::<I, Project>("project", "The project it bills.", |i| i.project_id))
        .field(ref_field::<I, Invoice>("creditOf", "The invoice a credit note corrects.", |i| i.credit_of_id))
        .field(prop::<I>("status", InvoiceStatus::nn(), "Where it stands (see isOverdue).", |i| enum_value(&i.status)))
        .field(prop::<I>("isOverdue", nn(TypeRef::BOOLEAN), "Past due with something still open.", |i| {
            is_overdue(i, chrono::Utc::now().date_naive()).into()
        }))
        .field(prop::<I>("currency", nn(TypeRef::STRING), "ISO 4217 currency.", |i| i.currency.clone().into()))
        .field(prop::<I>("issueDate", TypeRef::named(scalar::DATE), "Issue date.", |i| date(i.issue_date)))
        .field(prop::<I>("dueDate", TypeRef::named(scalar::DATE), "Due date.", |i| date(i.due_date)))
        .field(money_field::<I>("subtotal", false, "Sum of the lines' amounts.", |i| money(i.subtotal, &i.currency)))
        .field(money_field::<I>("taxTotal", false, "Sum of the lines' taxes.", |i| money(i.tax_total, &i.currency)))
        .field(money_field::<I>("total", false, "Subtotal + tax.", |i| money(i.total, &i.currency)))
        .field(money_field::<I>("paidTotal", false, "Paid (net of refunds).", |i| money(i.paid_total, &i.currency)))
        .field(money_field::<I>("creditedTotal", false, "Credited by credit notes.", |i| {
            money(i.credited_total, &i.currency)
        }))
        .field(money_field::<I>("outstanding", false, "Still open: total - paid - credited.", |i| {
            money(open_amount(i), &i.currency)
        }))
        .field(prop::<I>(
            "rateToOrganizationCurrency",
            TypeRef::named(scalar::DECIMAL),
            "The exchange rate of the issue date (snapshot).",
            |i| opt(i.rate_to_org.map(|r| r.normalize().to_string())),
        ))
        .field(prop::<I>("notes", s(), "Notes printed on it.", |i| opt(i.notes.clone())))
        .field(list_of_field::<I, LinesOf, InvoiceLine>("lines", "Its lines, in order.", |i| i.id))
        .field(list_of_field::<I, PaymentsOf, Payment>("payments", "Payments and refunds, oldest first.", |i| i.id))
        .field(list_of_field::<I, CreditNotesOf, Invoice>("creditNotes", "Credit notes correcting it.", |i| i.id))
        .field(prop::<I>("issuedAt", dt(), "When it was issued.", |i| {
            i.issued_at.as_ref().map(datetime).unwrap_or(Value::Null)
        }))
        .field(prop::<I>("sentAt", dt(), "When it was sent.", |i| {
            i.sent_at.as_ref().map(datetime).unwrap_or(Value::Null)
        }))
        .field(prop::<I>("voidedAt", dt(), "When it was voided.", |i| {
            i.voided_at.as_ref().map(datetime).unwrap_or(Value::Null)
        }))
        .field(prop::<I>("voidReason", s(), "Why it was voided.", |i| opt(i.void_reason.clone())))
        .field(prop::<I>("version", nn(TypeRef::INT), "Optimistic-concurrency version.", |i| i.version.into()))
        .field(prop::<I>("createdAt", nn(scalar::DATE_TIME), "When it was drafted.", |i| datetime(&i.created_at))),
    );
}
