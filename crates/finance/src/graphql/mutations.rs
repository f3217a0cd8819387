//! The finance mutations, each with its `<Type>Payload`.

use opsgraph_core::gql::{SchemaParts, node_mutation, payload, payload_value};

use crate::nodes::{FiscalPeriod, FiscalYear, Invoice, Payment};
use crate::service::fiscal::{self, CreateFiscalYearInput};
use crate::service::invoices::{
    self, CreateInvoiceInput, InvoiceLineInput, IssueCreditNoteInput, IssueInvoiceInput, UpdateInvoiceInput,
    VoidInvoiceInput,
};
use crate::service::payments::{self, RecordPaymentInput, RefundPaymentInput};

opsgraph_core::id_input!(
    /// Names one fiscal period.
    FiscalPeriodIdInput,
    "The period."
);
opsgraph_core::id_input!(
    /// Names one invoice.
    InvoiceIdInput,
    "The invoice."
);

/// Registers the mutations and their inputs and payloads.
pub fn register(parts: &mut SchemaParts) {
    parts.input::<CreateFiscalYearInput>().input::<FiscalPeriodIdInput>().input::<InvoiceIdInput>();
    parts.input::<InvoiceLineInput>().input::<CreateInvoiceInput>().input::<UpdateInvoiceInput>();
    parts.input::<IssueInvoiceInput>().input::<VoidInvoiceInput>().input::<IssueCreditNoteInput>();
    parts.input::<RecordPaymentInput>().input::<RefundPaymentInput>();
    parts.object(payload::<FiscalYear>("fiscalYear", "Result of a mutation changing a FiscalYear."));
    parts.object(payload::<FiscalPeriod>("fiscalPeriod", "Result of a mutation changing a FiscalPeriod."));
    parts.object(payload::<Invoice>("invoice", "Result of a mutation changing an Invoice."));
    parts.object(payload::<Payment>("payment", "Result of a mutation recording a Payment."));
    calendar(parts);
    invoice_mutations(parts);
    parts.mutation(node_mutation(
        Payment,
        "recordPayment",
        "Record a payment (over-payment becomes account credit).",
        |req, i| async move { Ok(payload_value(payments::record(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.mutation(node_mutation(Payment, "refundPayment", "Give back part of a payment.", |req, i| async move {
        Ok(payload_value(payments::refund(req.db.as_ref(), &req.session, i).await?))
    }));
}

fn calendar(parts: &mut SchemaParts) {
    parts.mutation(node_mutation(
        FiscalYear,
        "createFiscalYear",
        "Create a fiscal year with its twelve periods.",
        |req, i| async move { Ok(payload_value(fiscal::create_year(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.mutation(node_mutation(
        FiscalPeriod,
        "closeFiscalPeriod",
        "Close a period: nothing dated in it can be posted any more.",
        |req, i: FiscalPeriodIdInput| async move {
            Ok(payload_value(fiscal::set_closed(req.db.as_ref(), &req.session, &i.id, true).await?))
        },
    ));
    parts.mutation(node_mutation(
        FiscalPeriod,
        "reopenFiscalPeriod",
        "Reopen a closed period.",
        |req, i: FiscalPeriodIdInput| async move {
            Ok(payload_value(fiscal::set_closed(req.db.as_ref(), &req.session, &i.id, false).await?))
        },
    ));
}

fn invoice_mutations(parts: &mut SchemaParts) {
    parts.mutation(node_mutation(Invoice, "createInvoice", "Draft an invoice with its lines.", |req, i| async move {
        Ok(payload_value(invoices::create(req.db.as_ref(), &req.session, i).await?))
    }));
    parts.mutation(node_mutation(
        Invoice,
        "updateInvoice",
        "Change a draft (lines replace lines).",
        |req, i| async move { Ok(payload_value(invoices::update(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.mutation(node_mutation(
        Invoice,
        "issueInvoice",
        "Issue a draft: it gets its number and becomes final.",
        |req, i| async move { Ok(payload_value(invoices::issue(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.mutation(node_mutation(
        Invoice,
        "sendInvoice",
        "Mark an issued invoice sent.",
        |req, i: InvoiceIdInput| async move {
            Ok(payload_value(invoices::send(req.db.as_ref(), &req.session, &i.id).await?))
        },
    ));
    parts.mutation(node_mutation(
        Invoice,
        "voidInvoice",
        "Void an issued invoice nothing was paid or credited on.",
        |req, i| async move { Ok(payload_value(invoices::void(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.mutation(node_mutation(
        Invoice,
        "issueCreditNote",
        "Correct an issued invoice with a credit note.",
        |req, i| async move { Ok(payload_value(invoices::credit(req.db.as_ref(), &req.session, i).await?)) },
    ));
}
