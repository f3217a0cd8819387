//! Client feedback on `MemberPerformance`: the mean rating clients gave, during the
//! period, to the projects the member logged time on in it.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::Value;
use async_graphql::dynamic::{Field, FieldFuture, FieldValue, TypeRef};
use chrono::NaiveDate;
use opsgraph_core::batch::Loader;
use opsgraph_core::gql::{SchemaParts, parent, scalar};
use opsgraph_core::loader::{LoadError, app_error, db_error};
use opsgraph_core::{RequestCtx, TxDb};
use opsgraph_work::graphql::performance::MEMBER_PERFORMANCE;
use opsgraph_work::service::performance::{Performance, projects_worked};
use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use uuid::Uuid;

/// (member, first day, last day).
type Key = (Uuid, NaiveDate, NaiveDate);

/// Mean rating and count of the feedback on each key's projects in its period: two
/// statements for any number of members and periods.
pub struct FeedbackOfPeriod(pub Arc<TxDb>);

impl Loader<Key> for FeedbackOfPeriod {
    type Value = (Option<Decimal>, i64);
    type Error = LoadError;

    async fn load(&self, keys: &[Key]) -> Result<HashMap<Key, Self::Value>, LoadError> {
        let worked = projects_worked(self.0.as_ref(), keys).await.map_err(app_error)?;
        let (mut idx, mut projects, mut from, mut to) = (vec![], vec![], vec![], vec![]);
        for (i, k) in keys.iter().enumerate() {
            for p in worked.get(k).into_iter().flatten() {
                idx.push(i32::try_from(i).unwrap_or(i32::MAX));
                projects.push(*p);
                from.push(k.1);
                to.push(k.2);
            }
        }
        let mut out: HashMap<Key, Self::Value> = keys.iter().map(|k| (*k, (None, 0))).collect();
        if idx.is_empty() {
            return Ok(out);
        }
        let rows = self
            .0
            .query_all_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT k.i, round(avg(f.rating), 2) AS rating, count(f.id) AS n \
                 FROM unnest($1::int[], $2::uuid[], $3::date[], $4::date[]) AS k(i, p, f, t) \
                 JOIN client_feedback f ON f.project_id = k.p AND f.created_at::date BETWEEN k.f AND k.t \
                 GROUP BY k.i",
                [idx.into(), projects.into(), from.into(), to.into()],
            ))
            .await
            .map_err(db_error)?;
        for r in rows {
            let i: i32 = r.try_get("", "i").map_err(db_error)?;
            if let Some(k) = usize::try_from(i).ok().and_then(|i| keys.get(i)) {
                out.insert(*k, (r.try_get("", "rating").map_err(db_error)?, r.try_get("", "n").map_err(db_error)?));
            }
        }
        Ok(out)
    }
}

async fn feedback(
    ctx: &async_graphql::dynamic::ResolverContext<'_>,
) -> opsgraph_core::AppResult<(Option<Decimal>, i64)> {
    let p = parent::<Performance>(ctx)?;
    let req = RequestCtx::of(ctx)?;
    let key = (p.membership_id, p.period_start, p.period_end);
    let found = req.loader(FeedbackOfPeriod).load_one(key).await.map_err(|e| opsgraph_core::loader::failed(&e))?;
    Ok(found.unwrap_or((None, 0)))
}

/// Registers this area.
pub fn register(parts: &mut SchemaParts) {
    parts.extend_named(
        MEMBER_PERFORMANCE,
        Field::new("feedbackRating", TypeRef::named(scalar::DECIMAL), |ctx| {
            FieldFuture::new(async move {
                let (rating, _) = feedback(&ctx).await?;
                Ok(rating.map(|r| FieldValue::value(Value::from(r.normalize().to_string()))))
            })
        })
        .description("Mean client feedback rating (1-5) given in the period to projects the member worked on in it."),
    );
    parts.extend_named(
        MEMBER_PERFORMANCE,
        Field::new("feedbackCount", TypeRef::named_nn(TypeRef::INT), |ctx| {
            FieldFuture::new(async move {
                let (_, n) = feedback(&ctx).await?;
                Ok(Some(FieldValue::value(Value::from(n))))
            })
        })
        .description("Client feedback entries behind `feedbackRating`."),
    );
}
