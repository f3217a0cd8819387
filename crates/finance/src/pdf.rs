//! The document people send: an issued invoice or credit note as a one-page A4 PDF
//! (`pdf-writer`, pure Rust, uncompressed text so it can be read back). Long invoices
//! continue on further pages.

use opsgraph_core::{AppError, AppResult, Permission, Session};
use pdf_writer::{Content, Name, Pdf, Rect, Ref, Str};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::entity::{invoice, invoice_line};
use crate::service::invoices;

/// Lines of text that fit on one page.
const PER_PAGE: usize = 38;

/// The PDF of invoice `id` as the caller may see it, with its file name.
pub async fn invoice_pdf(db: &impl ConnectionTrait, session: &Session, id: Uuid) -> AppResult<(String, Vec<u8>)> {
    let org = session.require(Permission::InvoicesRead)?;
    let inv = invoices::get(db, org, id).await?;
    let Some(number) = inv.number.clone() else {
        return Err(AppError::bad_input("id", "a draft has no document yet: issue it first"));
    };
    let lines = invoices::lines_of(db, inv.id).await?;
    // A soft-deleted account's invoices still print, without its name.
    let account = match opsgraph_crm::service::accounts::get(db, org, inv.account_id).await {
        Ok(a) => a.name,
        Err(AppError::NotFound(_)) => String::new(),
        Err(e) => return Err(e),
    };
    let issuer = opsgraph_org::service::organization::name(db, org).await?;
    Ok((format!("{number}.pdf"), render(&issuer, &account, &inv, &lines)))
}

/// The text of the document, one entry per printed line.
pub fn text(issuer: &str, account: &str, inv: &invoice::Model, lines: &[invoice_line::Model]) -> Vec<String> {
    let title = if inv.kind == "CREDIT_NOTE" { "CREDIT NOTE" } else { "INVOICE" };
    let date = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    let mut out = vec![
        issuer.to_owned(),
        format!("{title} {}", inv.number.clone().unwrap_or_default()),
        format!("Billed to: {account}"),
        format!("Issued: {}   Due: {}", date(inv.issue_date), date(inv.due_date)),
        String::new(),
        "Description | Quantity | Unit price | Tax % | Amount".to_owned(),
    ];
    for l in lines {
        out.push(format!(
            "{} | {} | {} | {} | {}",
            l.description,
            l.quantity.normalize(),
            l.unit_price,
            l.tax_rate.normalize(),
            l.amount
        ));
    }
    out.push(String::new());
    out.push(format!("Subtotal: {} {}", inv.subtotal, inv.currency));
    out.push(format!("Tax: {} {}", inv.tax_total, inv.currency));
    out.push(format!("Total: {} {}", inv.total, inv.currency));
    if let Some(n) = &inv.notes {
        out.push(String::new());
        out.push(n.clone());
    }
    out
}

/// Printable WinAnsi text (Helvetica's encoding): other characters become `?`.
fn printable(s: &str) -> Vec<u8> {
    s.chars().map(|c| if (' '..='~').contains(&c) { c as u8 } else { b'?' }).collect()
}

fn render(issuer: &str, account: &str, inv: &invoice::Model, lines: &[invoice_line::Model]) -> Vec<u8> {
    let text = text(issuer, account, inv, lines);
    let pages: Vec<&[String]> = text.chunks(PER_PAGE).collect();
    let mut pdf = Pdf::new();
    let (catalog, tree, font) = (Ref::new(1), Ref::new(2), Ref::new(3));
    let ids: Vec<(Ref, Ref)> = (0..pages.len() as i32).map(|i| (Ref::new(4 + 2 * i), Ref::new(5 + 2 * i))).collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids(ids.iter().map(|(p, _)| *p)).count(ids.len() as i32);
    pdf.type1_font(font).base_font(Name(b"Helvetica"));
    for (chunk, (page_id, content_id)) in pages.iter().zip(&ids) {
        let mut page = pdf.page(*page_id);
        page.media_box(Rect::new(0.0, 0.0, 595.0, 842.0));
        page.parent(tree);
        page.contents(*content_id);
        page.resources().fonts().pair(Name(b"F1"), font);
        drop(page);
        let mut content = Content::new();
        content.begin_text();
        content.set_font(Name(b"F1"), 11.0);
        content.set_leading(18.0);
        content.next_line(56.0, 780.0);
        for line in chunk.iter() {
            content.show(Str(&printable(line)));
            content.next_line_using_leading();
        }
        content.end_text();
        pdf.stream(*content_id, &content.finish());
    }
    pdf.finish()
}
