//! `Project.financials` (the project's money, derived live), its forecasts, and the
//! organisation's P&L by month.

use std::sync::Arc;

use async_graphql::Value;
use async_graphql::dynamic::{Field, FieldFuture, FieldValue, InputValue, Object, TypeRef};
use opsgraph_core::context::RequestCtx;
use opsgraph_core::gql::{
    Money, SchemaParts, date_arg, list_of_field_for, money_field, node_mutation, node_object, opt, parent, payload,
    payload_value, prop, ref_field_nn, scalar,
};
use opsgraph_core::loader::failed;
use opsgraph_core::node::{Model, NodeType};
use opsgraph_core::{AppError, AppResult, Permission};
use opsgraph_org::nodes::Organization;
use opsgraph_work::nodes::Project;
use rust_decimal::Decimal;

use crate::entity::forecast;
use crate::loader::ForecastsOf;
use crate::nodes::{FiscalPeriod, Forecast};
use crate::service::financials::{Financials, FinancialsLoader};
use crate::service::forecasts::{self, SetForecastInput};
use crate::service::pnl;

/// The figures with the project's budget (in the organisation's currency, if it is).
struct Figures(Arc<Financials>, Option<Decimal>);

/// The range asked: a fiscal period's days, or `from`/`to`.
async fn range(
    ctx: &async_graphql::dynamic::ResolverContext<'_>,
    req: &RequestCtx,
    org: uuid::Uuid,
) -> AppResult<(Option<chrono::NaiveDate>, Option<chrono::NaiveDate>)> {
    let Some(gid) = ctx.args.get("period").filter(|v| !v.is_null()) else {
        return Ok((date_arg(ctx, "from")?, date_arg(ctx, "to")?));
    };
    let id =
        FiscalPeriod::decode(gid.string().map_err(|_| AppError::bad_input("period", "expected an ID"))?, "period")?;
    let p = opsgraph_core::loader::by_id::<<FiscalPeriod as NodeType>::Entity>(req, id)
        .await?
        .filter(|p| p.org_id == org)
        .ok_or_else(|| AppError::not_found("fiscal period"))?;
    Ok((Some(p.start_date), Some(p.end_date)))
}

fn financials_field() -> Field {
    Field::new("financials", TypeRef::named_nn("ProjectFinancials"), |ctx| {
        FieldFuture::new(async move {
            let p = parent::<Model<Project>>(&ctx)?;
            let req = RequestCtx::of(&ctx)?;
            let org = req.require(Permission::FinanceRead)?;
            let currency = opsgraph_org::loader::default_currency(&req, org).await?;
            let (from, to) = range(&ctx, &req, org).await?;
            let budget = p.budget_amount.filter(|_| p.budget_currency.as_deref() == Some(currency.as_str()));
            let key = (p.id, org, currency, from, to);
            let f = req.loader(FinancialsLoader).load_one(key).await.map_err(|e| failed(&e))?;
            let f = f.ok_or_else(|| AppError::internal("no financials"))?;
            Ok(Some(FieldValue::owned_any(Figures(f, budget))))
        })
    })
    .argument(InputValue::new("period", TypeRef::named(TypeRef::ID)).description("A fiscal period (its days)."))
    .argument(InputValue::new("from", TypeRef::named(scalar::DATE)).description("From this day (without `period`)."))
    .argument(InputValue::new("to", TypeRef::named(scalar::DATE)).description("To this day (without `period`)."))
    .description(
        "Invoiced, paid, outstanding, expenses, labour cost, margin and burn, derived live in the organisation's \
         currency (finance readers).",
    )
}

/// Registers `ProjectFinancials` and `Project.financials`.
pub fn register(parts: &mut SchemaParts) {
    type F = Figures;
    parts.object(
        Object::new("ProjectFinancials")
            .description("A project's money over a range, in the organisation's currency.")
            .field(money_field::<F>("invoiced", false, "Invoiced, net of credit notes.", |f| money(f.0.invoiced, f)))
            .field(money_field::<F>("paid", false, "Paid on its invoices.", |f| money(f.0.paid, f)))
            .field(money_field::<F>("outstanding", false, "Still open on its invoices.", |f| money(f.0.outstanding, f)))
            .field(money_field::<F>("expenses", false, "Approved expenses.", |f| money(f.0.expenses, f)))
            .field(money_field::<F>("labourCost", false, "Hours x each member's cost rate.", |f| {
                money(f.0.labour_cost, f)
            }))
            .field(money_field::<F>("margin", false, "Invoiced - labour - expenses.", |f| money(f.0.margin(), f)))
            .field(money_field::<F>(
                "budget",
                true,
                "The project's budget (when in the organisation's currency).",
                |f| f.1.map(|b| Money { amount: b, currency: f.0.currency.clone() }),
            ))
            .field(prop::<F>("hours", TypeRef::named_nn(scalar::DECIMAL), "Hours logged.", |f| {
                f.0.hours.normalize().to_string().into()
            }))
            .field(prop::<F>("marginPercent", TypeRef::named(scalar::DECIMAL), "Margin / invoiced, in percent.", |f| {
                percent(f.0.margin_percent())
            }))
            .field(prop::<F>(
                "burnPercent",
                TypeRef::named(scalar::DECIMAL),
                "(Labour + expenses) / budget, in percent.",
                |f| percent(f.0.burn_percent(f.1)),
            ))
            .field(prop::<F>(
                "unconvertedDocuments",
                TypeRef::named_nn(TypeRef::INT),
                "Invoices and expenses left out for want of a rate.",
                |f| f.0.unconverted.into(),
            )),
    );
    parts.extend::<Project>(financials_field());
    forecasts(parts);
    pnl(parts);
}

/// One month of the P&L with the currency of its amounts.
struct PnlRow(pnl::Month, String);

fn pnl(parts: &mut SchemaParts) {
    type R = PnlRow;
    parts.object(
        Object::new("PnlMonth")
            .description("One month of the organisation's P&L, in its currency.")
            .field(prop::<R>("month", TypeRef::named_nn(scalar::DATE), "The month's first day.", |r| {
                r.0.month.map(|d| Value::String(d.to_string())).unwrap_or(Value::Null)
            }))
            .field(money_field::<R>("revenue", false, "Invoiced, net of credit notes.", |r| pnl_money(r.0.revenue, r)))
            .field(money_field::<R>("labourCost", false, "Hours x cost rates.", |r| pnl_money(r.0.labour_cost, r)))
            .field(money_field::<R>("expenses", false, "Approved expenses.", |r| pnl_money(r.0.expenses, r)))
            .field(money_field::<R>("margin", false, "Revenue - labour - expenses.", |r| pnl_money(r.0.margin(), r)))
            .field(prop::<R>(
                "unconvertedDocuments",
                TypeRef::named_nn(TypeRef::INT),
                "Left out for want of a rate.",
                |r| r.0.unconverted.into(),
            )),
    );
    parts.extend::<Organization>(
        Field::new("profitAndLoss", TypeRef::named_nn_list_nn("PnlMonth"), |ctx| {
            FieldFuture::new(async move {
                let req = RequestCtx::of(&ctx)?;
                let today = chrono::Utc::now().date_naive();
                let to = date_arg(&ctx, "to")?.unwrap_or(today);
                let year_before = to.checked_sub_months(chrono::Months::new(11)).unwrap_or(to);
                let from = date_arg(&ctx, "from")?.unwrap_or(year_before);
                let (currency, months) = pnl::by_month(req.db.as_ref(), &req.session, from, to).await?;
                Ok(Some(FieldValue::list(
                    months.into_iter().map(move |m| FieldValue::owned_any(PnlRow(m, currency.clone()))),
                )))
            })
        })
        .argument(
            InputValue::new("from", TypeRef::named(scalar::DATE))
                .description("First month (any day of it; default: eleven months before `to`)."),
        )
        .argument(
            InputValue::new("to", TypeRef::named(scalar::DATE))
                .description("Last month (default: this month; at most 36 months in all)."),
        )
        .description(
            "Revenue, labour cost, expenses and margin by month, in the organisation's currency (finance readers).",
        ),
    );
}

fn pnl_money(v: Decimal, r: &PnlRow) -> Option<Money> {
    Some(Money { amount: v, currency: r.1.clone() })
}

fn forecasts(parts: &mut SchemaParts) {
    type P = forecast::Model;
    let nn = TypeRef::named_nn;
    parts.object(
        node_object::<Forecast>("A project's expected revenue and cost for one month.")
            .field(ref_field_nn::<P, Project>("project", "The project.", |f| f.project_id))
            .field(prop::<P>("month", nn(scalar::DATE), "The month's first day.", |f| {
                Value::String(f.month.to_string())
            }))
            .field(money_field::<P>("revenue", false, "Expected revenue.", |f| {
                Some(Money { amount: f.revenue, currency: f.currency.clone() })
            }))
            .field(money_field::<P>("cost", false, "Expected cost.", |f| {
                Some(Money { amount: f.cost, currency: f.currency.clone() })
            }))
            .field(prop::<P>("confidence", nn(scalar::DECIMAL), "How sure (0..1).", |f| {
                f.confidence.normalize().to_string().into()
            }))
            .field(prop::<P>("note", TypeRef::named(TypeRef::STRING), "Why.", |f| opt(f.note.clone())))
            .field(prop::<P>("version", nn(TypeRef::INT), "Optimistic-concurrency version.", |f| f.version.into())),
    );
    parts.node::<Forecast>();
    parts.extend::<Project>(list_of_field_for::<Model<Project>, ForecastsOf, Forecast>(
        Some(Permission::FinanceRead),
        "forecasts",
        "Its monthly revenue and cost forecasts (finance readers).",
        |p| p.id,
    ));
    parts.input::<SetForecastInput>();
    parts.object(payload::<Forecast>("forecast", "Result of setForecast."));
    parts.mutation(node_mutation(
        Forecast,
        "setForecast",
        "Set a project's forecast for a month.",
        |req, i| async move { Ok(payload_value(forecasts::set(req.db.as_ref(), &req.session, i).await?)) },
    ));
}

fn money(v: Decimal, f: &Figures) -> Option<Money> {
    Some(Money { amount: v, currency: f.0.currency.clone() })
}

fn percent(v: Option<Decimal>) -> Value {
    v.map(|d| Value::String(d.normalize().to_string())).unwrap_or(Value::Null)
}
