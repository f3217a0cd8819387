//! `Membership.performance`: a member's derived figures per period (`MemberPerformance`,
//! which other domains extend with their own).

use async_graphql::Value;
use async_graphql::dynamic::{Field, FieldFuture, FieldValue, InputValue, Object, TypeRef};
use opsgraph_core::gql::{GqlEnum, SchemaParts, date_arg, decimal, parent, prop, ref_field_nn, scalar};
use opsgraph_core::node::Model;
use opsgraph_core::{AppError, Permission, RequestCtx};
use opsgraph_org::enums::KpiPeriod;
use opsgraph_org::nodes::Membership;

use crate::loader::PerformanceOf;
use crate::service::performance::Performance;

/// The type name other domains extend.
pub const MEMBER_PERFORMANCE: &str = "MemberPerformance";

/// Registers this area.
pub fn register(parts: &mut SchemaParts) {
    parts.object(performance_object());
    parts.extend::<Membership>(performance_field());
}

fn performance_field() -> Field {
    Field::new("performance", TypeRef::named_nn_list_nn(MEMBER_PERFORMANCE), |ctx| {
        FieldFuture::new(async move {
            let m = parent::<Model<Membership>>(&ctx)?.id;
            let req = RequestCtx::of(&ctx)?;
            if req.session.membership_id != Some(m) {
                req.require(Permission::WorkManage)?;
            }
            let from = date_arg(&ctx, "from")?.ok_or_else(|| AppError::bad_input("from", "from is required"))?;
            let to = date_arg(&ctx, "to")?.ok_or_else(|| AppError::bad_input("to", "to is required"))?;
            let bucket = match ctx.args.get("bucket") {
                Some(b) => {
                    KpiPeriod::parse(b.enum_name()?).ok_or_else(|| AppError::bad_input("bucket", "unknown bucket"))?
                }
                None => KpiPeriod::Month,
            };
            crate::service::performance::periods(from, to, bucket)?;
            let figures = req
                .loader(PerformanceOf)
                .load_one((m, from, to, bucket))
                .await
                .map_err(|e| opsgraph_core::loader::failed(&e))?
                .unwrap_or_default();
            Ok(Some(FieldValue::list(figures.iter().map(|p| FieldValue::owned_any(p.clone())))))
        })
    })
    .argument(InputValue::new("from", TypeRef::named_nn(scalar::DATE)).description("First day."))
    .argument(InputValue::new("to", TypeRef::named_nn(scalar::DATE)).description("Last day (at most two years on)."))
    .argument(InputValue::new("bucket", TypeRef::named(KpiPeriod::NAME)).description("Period size (default MONTH)."))
    .description("The member's figures per period, derived from time, time off and tasks (the member, or WorkManage).")
}

fn performance_object() -> Object {
    type P = Performance;
    Object::new(MEMBER_PERFORMANCE)
        .description("A member's figures for one period, derived from what they logged and delivered.")
        .field(ref_field_nn::<P, Membership>("membership", "The member.", |p| p.membership_id))
        .field(prop::<P>("periodStart", TypeRef::named_nn(scalar::DATE), "First day.", |p| {
            Value::from(p.period_start.to_string())
        }))
        .field(prop::<P>("periodEnd", TypeRef::named_nn(scalar::DATE), "Last day.", |p| {
            Value::from(p.period_end.to_string())
        }))
        .field(prop::<P>("capacityHours", TypeRef::named_nn(scalar::DECIMAL), "Contracted hours.", |p| {
            decimal(&p.capacity_hours)
        }))
        .field(prop::<P>(
            "availableHours",
            TypeRef::named_nn(scalar::DECIMAL),
            "Contracted hours less time off.",
            |p| decimal(&p.available_hours),
        ))
        .field(prop::<P>("loggedHours", TypeRef::named_nn(scalar::DECIMAL), "Hours logged.", |p| {
            decimal(&p.logged_hours)
        }))
        .field(prop::<P>("billableHours", TypeRef::named_nn(scalar::DECIMAL), "Billable hours logged.", |p| {
            decimal(&p.billable_hours)
        }))
        .field(prop::<P>(
            "utilisation",
            TypeRef::named(scalar::DECIMAL),
            "Billable hours as a share of available hours, in percent (null without available hours).",
            |p| p.utilisation().as_ref().map_or(Value::Null, decimal),
        ))
        .field(prop::<P>(
            "deliveredTasks",
            TypeRef::named_nn(TypeRef::INT),
            "Tasks assigned to them completed in the period.",
            |p| Value::from(p.delivered_tasks),
        ))
        .field(prop::<P>(
            "onTimeTasks",
            TypeRef::named_nn(TypeRef::INT),
            "Of those, completed by their due date.",
            |p| Value::from(p.on_time_tasks),
        ))
}
