//! `Pipeline.numbers`, `Account.lifetimeValue`, exchange rates and `setExchangeRate`.

use async_graphql::Value;
use async_graphql::dynamic::{Field, FieldFuture, FieldValue, InputValue, Object, TypeRef};
use opsgraph_core::context::RequestCtx;
use opsgraph_core::filter::{FieldKind as K, ff};
use opsgraph_core::gql::{
    Money, SchemaParts, date_arg, list_field, money_field, node_mutation, node_object, parent, payload, payload_value,
    prop, scalar,
};
use opsgraph_core::loader::failed;
use opsgraph_core::node::{Model, NodeType};
use opsgraph_core::pagination::{ListSpec, SortKind as S, sk};
use opsgraph_core::{AppError, AppResult, Permission};
use opsgraph_org::nodes::{Membership, Organization};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::entity::exchange_rate;
use crate::nodes::{Account, ExchangeRate, Pipeline, PipelineStage};
use crate::service::forecast::{Forecast, Forecasts, Lifetime, LifetimeValues, Numbers, Unconverted};
use crate::service::rates::{self, SetExchangeRateInput};

/// `ExchangeRate` lists.
pub static EXCHANGE_RATES: std::sync::LazyLock<ListSpec<exchange_rate::Entity>> = std::sync::LazyLock::new(|| {
    use exchange_rate::Column as C;
    ListSpec {
        node: ExchangeRate::NAME,
        id: C::Id,
        filters: vec![ff("currency", C::Currency, K::Text), ff("validFrom", C::ValidFrom, K::Date)],
        sorts: vec![sk("CURRENCY", C::Currency, S::Text), sk("VALID_FROM", C::ValidFrom, S::Date)],
        default_sort: "CURRENCY",
        lean: vec![],
        aggregates: vec![],
        groups: vec![],
    }
});

/// `Numbers` as an object with its currency (the organisation's).
struct Row(Numbers, String);

/// The organisation's currency (crm figures are converted into it), after CrmRead.
async fn org_currency(req: &RequestCtx) -> AppResult<String> {
    opsgraph_org::loader::default_currency(req, req.require(Permission::CrmRead)?).await
}

fn lifetime_field() -> Field {
    Field::new("lifetimeValue", TypeRef::named_nn("LifetimeValue"), |ctx| {
        FieldFuture::new(async move {
            let a = parent::<Model<Account>>(&ctx)?;
            let req = RequestCtx::of(&ctx)?;
            let key = (a.id, org_currency(&req).await?);
            let l = req.loader(LifetimeValues).load_one(key).await.map_err(|e| failed(&e))?;
            Ok(Some(FieldValue::owned_any(l.ok_or_else(|| AppError::internal("no lifetime value"))?)))
        })
    })
    .description(
        "What the account has brought: its won deals, each converted into the organisation's currency at the \
         rate valid on its close date (finance adds paid invoices when it lands).",
    )
}

fn numbers_field() -> Field {
    Field::new("numbers", TypeRef::named_nn("PipelineNumbers"), |ctx| {
        FieldFuture::new(async move {
            let p = parent::<Model<Pipeline>>(&ctx)?;
            let req = RequestCtx::of(&ctx)?;
            let currency = org_currency(&req).await?;
            let key = (p.id, currency, date_arg(&ctx, "closedFrom")?, date_arg(&ctx, "closedTo")?);
            let f = req.loader(Forecasts).load_one(key).await.map_err(|e| failed(&e))?;
            Ok(Some(FieldValue::owned_any(f.ok_or_else(|| AppError::internal("no forecast"))?)))
        })
    })
    .argument(
        InputValue::new("closedFrom", TypeRef::named(scalar::DATE))
            .description("Win rate and cycle time: deals closed on or after this day."),
    )
    .argument(InputValue::new("closedTo", TypeRef::named(scalar::DATE)).description("... and on or before this day."))
    .description(
        "Count, total and weighted total per stage, per owner and per month of expected close, in the organisation's \
         currency (each deal at the rate valid on its date; deals without a rate are listed in `unconverted`), \
         with win rate and average cycle time over a period.",
    )
}

fn rows(f: &Forecast, pick: fn(&Forecast) -> &Vec<Numbers>) -> FieldValue<'static> {
    FieldValue::list(pick(f).iter().map(|n| FieldValue::owned_any(Row(n.clone(), f.currency.clone()))))
}

fn list(name: &str, ty: &str, desc: &str, pick: fn(&Forecast) -> &Vec<Numbers>) -> Field {
    Field::new(name, TypeRef::named_nn_list_nn(ty), move |ctx| {
        FieldFuture::new(async move { Ok(Some(rows(parent::<std::sync::Arc<Forecast>>(&ctx)?, pick))) })
    })
    .description(desc)
}

fn row_object(name: &str, desc: &str, key: Field) -> Object {
    let nn = TypeRef::named_nn;
    Object::new(name)
        .description(desc)
        .field(key)
        .field(prop::<Row>("count", nn(TypeRef::INT), "Deals counted.", |r| r.0.count.into()))
        .field(money_field::<Row>("total", false, "Total, in the organisation's currency.", |r| {
            Some(Money { amount: r.0.total, currency: r.1.clone() })
        }))
        .field(money_field::<Row>("weighted", false, "Amount x probability, in the organisation's currency.", |r| {
            Some(Money { amount: r.0.weighted, currency: r.1.clone() })
        }))
}

fn key_ref(name: &'static str, ty: &'static str, desc: &str) -> Field {
    Field::new(name, TypeRef::named(ty), move |ctx| {
        FieldFuture::new(async move {
            let r = parent::<Row>(&ctx)?;
            let Some(id) = r.0.key.as_deref().and_then(|k| k.parse::<uuid::Uuid>().ok()) else { return Ok(None) };
            Ok(opsgraph_core::gql::NodeRegistry::of(&ctx)?.fetch_object(RequestCtx::of(&ctx)?, ty, id).await?)
        })
    })
    .description(desc)
}

/// Registers pipeline numbers and exchange rates.
pub fn register(parts: &mut SchemaParts) {
    type F = std::sync::Arc<Forecast>;
    let nn = TypeRef::named_nn;
    parts.object(row_object("StageNumbers", "A stage's deals.", key_ref("stage", PipelineStage::NAME, "The stage.")));
    parts.object(row_object(
        "OwnerNumbers",
        "An owner's open deals.",
        key_ref("owner", Membership::NAME, "The owner (null: nobody)."),
    ));
    parts.object(row_object(
        "MonthNumbers",
        "Open deals expected to close in a month.",
        prop::<Row>("month", TypeRef::named(scalar::DATE), "The month's first day (null: no expected close).", |r| {
            r.0.key.clone().map(Value::String).unwrap_or(Value::Null)
        }),
    ));
    parts.object(
        Object::new("UnconvertedMoney")
            .description("Deals left out of the totals: their currency has no rate on their date.")
            .field(prop::<Unconverted>("count", nn(TypeRef::INT), "How many.", |u| u.count.into()))
            .field(money_field::<Unconverted>("total", false, "Their total, in their currency.", |u| {
                Some(Money { amount: u.total, currency: u.currency.clone() })
            })),
    );
    type L = Lifetime;
    parts.object(
        Object::new("LifetimeValue")
            .description("An account's won business, in the organisation's currency.")
            .field(money_field::<L>("total", false, "Won deals' total (rounded to cents after summing).", |l| {
                Some(Money { amount: l.total, currency: l.currency.clone() })
            }))
            .field(prop::<L>("wonDeals", nn(TypeRef::INT), "Won deals counted in the total.", |l| l.won.into()))
            .field(
                Field::new("unconverted", TypeRef::named_nn_list_nn("UnconvertedMoney"), |ctx| {
                    FieldFuture::new(async move {
                        let l = parent::<L>(&ctx)?;
                        Ok(Some(FieldValue::list(l.unconverted.iter().map(|u| FieldValue::owned_any(u.clone())))))
                    })
                })
                .description("Won deals without a rate on their date, per currency (not in the total)."),
            ),
    );
    parts.extend::<Account>(lifetime_field());
    parts.object(
        Object::new("PipelineNumbers")
            .description("The numbers of a pipeline, in the organisation's currency.")
            .field(prop::<F>("currency", nn(TypeRef::STRING), "The currency of every total.", |f| {
                f.currency.clone().into()
            }))
            .field(list("stages", "StageNumbers", "Per stage, in board order.", |f| &f.stages))
            .field(list("byOwner", "OwnerNumbers", "Open deals per owner.", |f| &f.by_owner))
            .field(list("byMonth", "MonthNumbers", "Open deals per month of expected close.", |f| &f.by_month))
            .field(
                Field::new("unconverted", TypeRef::named_nn_list_nn("UnconvertedMoney"), |ctx| {
                    FieldFuture::new(async move {
                        let f = parent::<F>(&ctx)?;
                        Ok(Some(FieldValue::list(f.unconverted.iter().map(|u| FieldValue::owned_any(u.clone())))))
                    })
                })
                .description("Deals without a rate, per currency (not in any total)."),
            )
            .field(prop::<F>("won", nn(TypeRef::INT), "Deals won in the period.", |f| f.won.into()))
            .field(prop::<F>("lost", nn(TypeRef::INT), "Deals lost in the period.", |f| f.lost.into()))
            .field(prop::<F>(
                "winRate",
                TypeRef::named(TypeRef::FLOAT),
                "won / (won + lost); null without closed deals.",
                |f| {
                    let closed = f.won + f.lost;
                    if closed == 0 { Value::Null } else { (f.won as f64 / closed as f64).into() }
                },
            ))
            .field(prop::<F>(
                "averageCycleDays",
                TypeRef::named(TypeRef::FLOAT),
                "Mean days from opening to winning.",
                |f| f.average_cycle_days.map(Value::from).unwrap_or(Value::Null),
            )),
    );
    parts.extend::<Pipeline>(numbers_field());
    exchange_rates(parts);
}

fn exchange_rates(parts: &mut SchemaParts) {
    let nn = TypeRef::named_nn;
    type R = exchange_rate::Model;
    parts.object(
        node_object::<ExchangeRate>(
            "What one unit of a currency is worth in the organisation's currency, from a day on.",
        )
        .field(prop::<R>("currency", nn(TypeRef::STRING), "The currency.", |r| r.currency.clone().into()))
        .field(prop::<R>("rate", nn(scalar::DECIMAL), "Units of the organisation's currency per unit.", |r| {
            r.rate.normalize().to_string().into()
        }))
        .field(prop::<R>("validFrom", nn(scalar::DATE), "From which day.", |r| r.valid_from.to_string().into())),
    );
    parts.node::<ExchangeRate>();
    parts.list(&*EXCHANGE_RATES);
    parts.extend::<Organization>(list_field(
        "exchangeRates",
        &EXCHANGE_RATES,
        "Exchange rates into the organisation's currency.",
        |_, req| {
            Ok(exchange_rate::Entity::find().filter(exchange_rate::Column::OrgId.eq(req.require(Permission::CrmRead)?)))
        },
    ));
    parts.input::<SetExchangeRateInput>();
    parts.object(payload::<ExchangeRate>("exchangeRate", "Result of setExchangeRate."));
    parts.mutation(node_mutation(
        ExchangeRate,
        "setExchangeRate",
        "Set a currency's rate from a day on (admins).",
        |req, i| async move { Ok(payload_value(rates::set(req.db.as_ref(), &req.session, i).await?)) },
    ));
}
