//! `FiscalYear` and `FiscalPeriod`.

use async_graphql::Value;
use async_graphql::dynamic::TypeRef;
use opsgraph_core::gql::{SchemaParts, datetime, list_of_field, node_object, prop, ref_field, scalar};
use opsgraph_org::nodes::Membership;

use crate::entity::{fiscal_period, fiscal_year};
use crate::loader::PeriodsOf;
use crate::nodes::{FiscalPeriod, FiscalYear};

/// Registers the calendar types.
pub fn register(parts: &mut SchemaParts) {
    type Y = fiscal_year::Model;
    type P = fiscal_period::Model;
    let nn = TypeRef::named_nn;
    parts.object(
        node_object::<FiscalYear>("A fiscal year: twelve monthly periods from the organisation's start month.")
            .field(prop::<Y>("year", nn(TypeRef::INT), "The calendar year it starts in.", |y| y.year.into()))
            .field(prop::<Y>("startDate", nn(scalar::DATE), "First day.", |y| Value::String(y.start_date.to_string())))
            .field(prop::<Y>("endDate", nn(scalar::DATE), "Last day.", |y| Value::String(y.end_date.to_string())))
            .field(list_of_field::<Y, PeriodsOf, FiscalPeriod>("periods", "Its periods, in order.", |y| y.id)),
    );
    parts.object(
        node_object::<FiscalPeriod>("A month of a fiscal year; nothing is posted into a closed one.")
            .field(prop::<P>("number", nn(TypeRef::INT), "1..12.", |p| p.number.into()))
            .field(prop::<P>("startDate", nn(scalar::DATE), "First day.", |p| Value::String(p.start_date.to_string())))
            .field(prop::<P>("endDate", nn(scalar::DATE), "Last day.", |p| Value::String(p.end_date.to_string())))
            .field(prop::<P>("isClosed", nn(TypeRef::BOOLEAN), "Closed to postings.", |p| p.closed_at.is_some().into()))
            .field(prop::<P>("closedAt", TypeRef::named(scalar::DATE_TIME), "When it was closed.", |p| {
                p.closed_at.as_ref().map(datetime).unwrap_or(Value::Null)
            }))
            .field(ref_field::<P, Membership>("closedBy", "Who closed it.", |p| p.closed_by))
            .field(prop::<P>("version", nn(TypeRef::INT), "Optimistic-concurrency version.", |p| p.version.into())),
    );
    parts.node::<FiscalYear>().node::<FiscalPeriod>();
}
