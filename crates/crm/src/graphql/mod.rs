//! The crm domain's GraphQL contribution: lists on `Organization`, the node types and
//! their edges, and the mutations.

use std::sync::LazyLock;

use opsgraph_core::Permission;
use opsgraph_core::aggregate::{GroupKind as G, agg_money, agg_money_sql, agg_sql, gf};

use crate::service::forecast;
use opsgraph_core::filter::{FieldKind as K, ff};
use opsgraph_core::gql::{GqlEnum, SchemaParts, list_field, ref_field};
use opsgraph_core::node::Model;
use opsgraph_core::node::NodeType;
use opsgraph_core::pagination::{ListSpec, SortKind as S, sk};
use opsgraph_org::nodes::{Membership, Organization};
use opsgraph_work::nodes::Project;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::entity::{
    account, campaign, client_feedback, contact, conversation, deal, industry, interaction, lead_rule, phone_number,
    pipeline, proposal, segment,
};
use crate::enums::{
    AccountSize, AccountStatus, ContactStatus, ConversationChannel, ConversationStatus, InteractionKind,
    PhoneNumberStatus, StageKind,
};
use crate::nodes::{
    Account, Campaign, ClientFeedback, Contact, Conversation, Deal, Industry, Interaction, LeadRule, PhoneNumber,
    Pipeline, PipelineStage, Proposal, Segment,
};

mod accounts;
mod conversations;
mod deals;
mod interactions;
mod live;
mod mutations;
mod numbers;
mod performance;
mod portal;
mod proposals;
mod rules;
mod segments;

/// `Account` lists.
pub static ACCOUNTS: LazyLock<ListSpec<account::Entity>> = LazyLock::new(|| {
    use account::Column as C;
    ListSpec {
        node: Account::NAME,
        id: C::Id,
        filters: vec![
            ff("name", C::Name, K::Text),
            ff("search", C::Name, K::Similar(&["lower(name)"])),
            ff("status", C::Status, K::Enum(AccountStatus::NAME)),
            ff("size", C::Size, K::Enum(AccountSize::NAME)),
            ff("industryId", C::IndustryId, K::Id(Industry::NAME)),
            ff("ownerId", C::OwnerId, K::Id(Membership::NAME)),
            ff("country", C::Country, K::Text),
            ff("tags", C::Tags, K::Tags),
            ff("createdAt", C::CreatedAt, K::DateTime),
        ],
        sorts: vec![sk("NAME", C::Name, S::Text), sk("CREATED_AT", C::CreatedAt, S::DateTime)],
        default_sort: "NAME",
        lean: vec![],
        aggregates: vec![],
        groups: vec![
            gf("STATUS", C::Status, G::Enum(&AccountStatus::VALUES)),
            gf("SIZE", C::Size, G::Enum(&AccountSize::VALUES)),
            gf("OWNER", C::OwnerId, G::Id(Membership::NAME)),
            gf("INDUSTRY", C::IndustryId, G::Id(Industry::NAME)),
        ],
    }
});

/// `Contact` lists.
pub static CONTACTS: LazyLock<ListSpec<contact::Entity>> = LazyLock::new(|| {
    use contact::Column as C;
    ListSpec {
        node: Contact::NAME,
        id: C::Id,
        filters: vec![
            ff(
                "search",
                C::LastName,
                K::Similar(&[
                    "lower(first_name || ' ' || last_name)",
                    "lower(coalesce(email, ''))",
                    "lower(coalesce(company, ''))",
                ]),
            ),
            ff("firstName", C::FirstName, K::Text),
            ff("lastName", C::LastName, K::Text),
            ff("email", C::Email, K::Text),
            ff("status", C::Status, K::Enum(ContactStatus::NAME)),
            ff("accountId", C::AccountId, K::Id(Account::NAME)),
            ff("ownerId", C::OwnerId, K::Id(Membership::NAME)),
            ff("leadScore", C::LeadScore, K::Int),
            ff("tags", C::Tags, K::Tags),
            ff("lastContactedAt", C::LastContactedAt, K::DateTime),
            ff("createdAt", C::CreatedAt, K::DateTime),
        ],
        sorts: vec![
            sk("LAST_NAME", C::LastName, S::Text),
            sk("FIRST_NAME", C::FirstName, S::Text),
            sk("LEAD_SCORE", C::LeadScore, S::Int),
            sk("CREATED_AT", C::CreatedAt, S::DateTime),
        ],
        default_sort: "LAST_NAME",
        lean: vec![],
        aggregates: vec![],
        groups: vec![
            gf("STATUS", C::Status, G::Enum(&ContactStatus::VALUES)),
            gf("OWNER", C::OwnerId, G::Id(Membership::NAME)),
            gf("ACCOUNT", C::AccountId, G::Id(Account::NAME)),
        ],
    }
});

/// `Deal` lists (a stage's `deals` is a column of the board, in board order).
pub static DEALS: LazyLock<ListSpec<deal::Entity>> = LazyLock::new(|| {
    use deal::Column as C;
    ListSpec {
        node: Deal::NAME,
        id: C::Id,
        filters: vec![
            ff("name", C::Name, K::Text),
            ff("pipelineId", C::PipelineId, K::Id(Pipeline::NAME)),
            ff("stageId", C::StageId, K::Id(PipelineStage::NAME)),
            ff("accountId", C::AccountId, K::Id(Account::NAME)),
            ff("contactId", C::ContactId, K::Id(Contact::NAME)),
            ff("ownerId", C::OwnerId, K::Id(Membership::NAME)),
            ff("currency", C::Currency, K::Text),
            ff("expectedCloseDate", C::ExpectedCloseDate, K::Date),
            ff("actualCloseDate", C::ActualCloseDate, K::Date),
            ff("createdAt", C::CreatedAt, K::DateTime),
        ],
        sorts: vec![
            sk("POSITION", C::Position, S::Float),
            sk("EXPECTED_CLOSE_DATE", C::ExpectedCloseDate, S::DateOrLast),
            sk("NAME", C::Name, S::Text),
            sk("CREATED_AT", C::CreatedAt, S::DateTime),
        ],
        default_sort: "POSITION",
        lean: vec![],
        aggregates: vec![
            agg_money("amount", C::Amount, C::Currency),
            agg_money_sql("convertedAmount", *forecast::CONVERTED, forecast::ORG_CURRENCY),
            agg_money_sql("weightedAmount", *forecast::WEIGHTED, forecast::ORG_CURRENCY),
            agg_money_sql("unconvertedAmount", *forecast::UNCONVERTED, "deals.currency"),
            agg_sql("cycleDays", "(deals.actual_close_date - deals.created_at::date)"),
        ],
        groups: vec![
            gf("STAGE", C::StageId, G::Id(PipelineStage::NAME)),
            gf("OWNER", C::OwnerId, G::Id(Membership::NAME)),
            gf("ACCOUNT", C::AccountId, G::Id(Account::NAME)),
            gf("EXPECTED_CLOSE_DATE", C::ExpectedCloseDate, G::Date),
            gf("CURRENCY", C::Currency, G::Text),
        ],
    }
});

/// `Interaction` lists.
pub static INTERACTIONS: LazyLock<ListSpec<interaction::Entity>> = LazyLock::new(|| {
    use interaction::Column as C;
    ListSpec {
        node: Interaction::NAME,
        id: C::Id,
        filters: vec![
            ff("kind", C::Kind, K::Enum(InteractionKind::NAME)),
            ff("dealId", C::DealId, K::Id(Deal::NAME)),
            ff("memberId", C::MemberId, K::Id(Membership::NAME)),
            ff("occurredAt", C::OccurredAt, K::DateTime),
        ],
        sorts: vec![sk("OCCURRED_AT", C::OccurredAt, S::DateTime)],
        default_sort: "OCCURRED_AT",
        lean: vec![],
        aggregates: vec![],
        groups: vec![
            gf("KIND", C::Kind, G::Enum(&InteractionKind::VALUES)),
            gf("MEMBER", C::MemberId, G::Id(Membership::NAME)),
        ],
    }
});

/// `Proposal` lists.
pub static PROPOSALS: LazyLock<ListSpec<proposal::Entity>> = LazyLock::new(|| {
    use proposal::Column as C;
    ListSpec {
        node: Proposal::NAME,
        id: C::Id,
        filters: vec![ff("dealId", C::DealId, K::Id(Deal::NAME)), ff("validUntil", C::ValidUntil, K::Date)],
        sorts: vec![sk("CREATED_AT", C::CreatedAt, S::DateTime), sk("VALID_UNTIL", C::ValidUntil, S::DateOrLast)],
        default_sort: "CREATED_AT",
        lean: vec![],
        aggregates: vec![],
        groups: vec![],
    }
});

/// `ClientFeedback` lists.
pub static FEEDBACK: LazyLock<ListSpec<client_feedback::Entity>> = LazyLock::new(|| {
    use client_feedback::Column as C;
    ListSpec {
        node: ClientFeedback::NAME,
        id: C::Id,
        filters: vec![ff("rating", C::Rating, K::Int), ff("createdAt", C::CreatedAt, K::DateTime)],
        sorts: vec![sk("CREATED_AT", C::CreatedAt, S::DateTime), sk("RATING", C::Rating, S::Int)],
        default_sort: "CREATED_AT",
        lean: vec![],
        aggregates: vec![opsgraph_core::aggregate::agg("rating", C::Rating)],
        groups: vec![],
    }
});

/// `Segment` lists.
pub static SEGMENTS: LazyLock<ListSpec<segment::Entity>> = LazyLock::new(|| {
    use segment::Column as C;
    ListSpec {
        node: Segment::NAME,
        id: C::Id,
        filters: vec![ff("name", C::Name, K::Text)],
        sorts: vec![sk("NAME", C::Name, S::Text), sk("CREATED_AT", C::CreatedAt, S::DateTime)],
        default_sort: "NAME",
        lean: vec![],
        aggregates: vec![],
        groups: vec![],
    }
});

/// `Campaign` lists.
pub static CAMPAIGNS: LazyLock<ListSpec<campaign::Entity>> = LazyLock::new(|| {
    use campaign::Column as C;
    ListSpec {
        node: Campaign::NAME,
        id: C::Id,
        filters: vec![ff("name", C::Name, K::Text), ff("segmentId", C::SegmentId, K::Id(Segment::NAME))],
        sorts: vec![sk("CREATED_AT", C::CreatedAt, S::DateTime), sk("NAME", C::Name, S::Text)],
        default_sort: "CREATED_AT",
        lean: vec![],
        aggregates: vec![],
        groups: vec![],
    }
});

/// `LeadRule` lists.
pub static LEAD_RULES: LazyLock<ListSpec<lead_rule::Entity>> = LazyLock::new(|| {
    use lead_rule::Column as C;
    ListSpec {
        node: LeadRule::NAME,
        id: C::Id,
        filters: vec![ff("kind", C::Kind, K::Enum(crate::enums::LeadRuleKind::NAME))],
        sorts: vec![sk("POSITION", C::Position, S::Int), sk("CREATED_AT", C::CreatedAt, S::DateTime)],
        default_sort: "POSITION",
        lean: vec![],
        aggregates: vec![],
        groups: vec![],
    }
});

/// `Conversation` lists (the inbox: newest message first by default).
pub static CONVERSATIONS: LazyLock<ListSpec<conversation::Entity>> = LazyLock::new(|| {
    use conversation::Column as C;
    ListSpec {
        node: Conversation::NAME,
        id: C::Id,
        filters: vec![
            ff("status", C::Status, K::Enum(ConversationStatus::NAME)),
            ff("channel", C::Channel, K::Enum(ConversationChannel::NAME)),
            ff("assigneeId", C::AssigneeId, K::Id(Membership::NAME)),
            ff("contactId", C::ContactId, K::Id(Contact::NAME)),
            ff("accountId", C::AccountId, K::Id(Account::NAME)),
            ff("unreadCount", C::UnreadCount, K::Int),
            ff("tags", C::Tags, K::Tags),
            ff("lastMessageAt", C::LastMessageAt, K::DateTime),
        ],
        sorts: vec![sk("LAST_MESSAGE_AT", C::LastMessageAt, S::DateTime), sk("CREATED_AT", C::CreatedAt, S::DateTime)],
        default_sort: "LAST_MESSAGE_AT",
        lean: vec![],
        aggregates: vec![],
        groups: vec![
            gf("STATUS", C::Status, G::Enum(&ConversationStatus::VALUES)),
            gf("CHANNEL", C::Channel, G::Enum(&ConversationChannel::VALUES)),
            gf("ASSIGNEE", C::AssigneeId, G::Id(Membership::NAME)),
        ],
    }
});

/// `PhoneNumber` lists.
pub static PHONE_NUMBERS: LazyLock<ListSpec<phone_number::Entity>> = LazyLock::new(|| {
    use phone_number::Column as C;
    ListSpec {
        node: PhoneNumber::NAME,
        id: C::Id,
        filters: vec![ff("number", C::Number, K::Text), ff("status", C::Status, K::Enum(PhoneNumberStatus::NAME))],
        sorts: vec![sk("NUMBER", C::Number, S::Text), sk("CREATED_AT", C::CreatedAt, S::DateTime)],
        default_sort: "NUMBER",
        lean: vec![],
        aggregates: vec![],
        groups: vec![],
    }
});

/// `Pipeline` lists.
pub static PIPELINES: LazyLock<ListSpec<pipeline::Entity>> = LazyLock::new(|| {
    use pipeline::Column as C;
    ListSpec {
        node: Pipeline::NAME,
        id: C::Id,
        filters: vec![ff("name", C::Name, K::Text), ff("isDefault", C::IsDefault, K::Boolean)],
        sorts: vec![sk("NAME", C::Name, S::Text), sk("CREATED_AT", C::CreatedAt, S::DateTime)],
        default_sort: "CREATED_AT",
        lean: vec![],
        aggregates: vec![],
        groups: vec![],
    }
});

/// `Industry` lists.
pub static INDUSTRIES: LazyLock<ListSpec<industry::Entity>> = LazyLock::new(|| {
    use industry::Column as C;
    ListSpec {
        node: Industry::NAME,
        id: C::Id,
        filters: vec![ff("name", C::Name, K::Text)],
        sorts: vec![sk("NAME", C::Name, S::Text)],
        default_sort: "NAME",
        lean: vec![],
        aggregates: vec![],
        groups: vec![],
    }
});

/// Adds the crm types, lists, edges and mutations.
pub fn register(parts: &mut SchemaParts) {
    parts.enumeration::<AccountStatus>().enumeration::<AccountSize>().enumeration::<ContactStatus>();
    parts.enum_only::<StageKind>();
    parts.list(&*ACCOUNTS).list(&*CONTACTS).list(&*DEALS).list(&*PIPELINES).list(&*INDUSTRIES);
    accounts::register(parts);
    deals::register(parts);
    mutations::register(parts);
    live::register(parts);
    interactions::register(parts);
    numbers::register(parts);
    performance::register(parts);
    proposals::register(parts);
    segments::register(parts);
    portal::register(parts);
    conversations::register(parts);
    rules::register(parts);
    lists(parts);
    parts.extend::<Project>(ref_field::<Model<Project>, Account>(
        "account",
        "The client account (crm), once linked.",
        |p| p.client_account_id,
    ));
}

fn lists(parts: &mut SchemaParts) {
    parts.extend::<Organization>(list_field(
        "accounts",
        &ACCOUNTS,
        "Client accounts (live, not merged away).",
        |_, req| {
            let org = req.require(Permission::CrmRead)?;
            Ok(account::Entity::find()
                .filter(account::Column::OrgId.eq(org))
                .filter(account::Column::DeletedAt.is_null())
                .filter(account::Column::MergedIntoId.is_null()))
        },
    ));
    parts.extend::<Organization>(list_field(
        "contacts",
        &CONTACTS,
        "Contacts and leads; `filter: { search: { like: \"jon smyth\" } }` is typo-tolerant over name, e-mail and company.",
        |_, req| {
            let org = req.require(Permission::CrmRead)?;
            Ok(contact::Entity::find().filter(contact::Column::OrgId.eq(org)).filter(contact::Column::DeletedAt.is_null()))
        },
    ));
    parts.extend::<Organization>(list_field("deals", &DEALS, "Deals of every pipeline.", |_, req| {
        let org = req.require(Permission::CrmRead)?;
        Ok(deal::Entity::find().filter(deal::Column::OrgId.eq(org)).filter(deal::Column::DeletedAt.is_null()))
    }));
    parts.extend::<Organization>(list_field("pipelines", &PIPELINES, "Sales pipelines.", |_, req| {
        Ok(pipeline::Entity::find().filter(pipeline::Column::OrgId.eq(req.require(Permission::CrmRead)?)))
    }));
    parts.extend::<Organization>(list_field("industries", &INDUSTRIES, "The industry catalog.", |_, req| {
        Ok(industry::Entity::find().filter(industry::Column::OrgId.eq(req.require(Permission::CrmRead)?)))
    }));
}
