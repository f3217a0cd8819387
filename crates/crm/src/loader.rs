//! The crm domain's relationships, each one statement per level of a query.

use crate::entity::{
    campaign_recipient, client_feedback, contact, conversation, deal, deal_stage_history, interaction,
    interaction_participant, pipeline_stage, proposal,
};
use opsgraph_core::relation;
use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};

relation!(
    /// Live contacts of an account.
    ContactsOfAccount, contact, AccountId, spec = crate::graphql::CONTACTS,
    scope = |s| s.filter(contact::Column::DeletedAt.is_null())
);

relation!(
    /// Live deals of an account.
    DealsOfAccount, deal, AccountId, spec = crate::graphql::DEALS, scope = |s| s.filter(deal::Column::DeletedAt.is_null())
);

relation!(
    /// Live deals of a contact (as primary contact).
    DealsOfContact, deal, ContactId, spec = crate::graphql::DEALS, scope = |s| s.filter(deal::Column::DeletedAt.is_null())
);

relation!(
    /// Live deals of a pipeline.
    DealsOfPipeline, deal, PipelineId, spec = crate::graphql::DEALS, scope = |s| s.filter(deal::Column::DeletedAt.is_null())
);

relation!(
    /// Live deals in a stage: one column of the board.
    DealsOfStage, deal, StageId, spec = crate::graphql::DEALS, scope = |s| s.filter(deal::Column::DeletedAt.is_null())
);

relation!(
    /// Interactions with an account.
    InteractionsOfAccount, interaction, AccountId, spec = crate::graphql::INTERACTIONS
);

relation!(
    /// The messages of a conversation.
    MessagesOf, interaction, ConversationId, spec = crate::graphql::INTERACTIONS
);

relation!(
    /// A contact's conversations.
    ConversationsOfContact, conversation, ContactId, spec = crate::graphql::CONVERSATIONS
);

relation!(
    /// The contacts who took part in an interaction.
    ParticipantsOf, interaction_participant, InteractionId
);

relation!(
    /// Proposals to an account.
    ProposalsOfAccount, proposal, AccountId, spec = crate::graphql::PROPOSALS
);

relation!(
    /// Proposals of a deal.
    ProposalsOfDeal, proposal, DealId, scope = |s| s.order_by_asc(proposal::Column::CreatedAt)
);

relation!(
    /// Feedback about an account.
    FeedbackOfAccount, client_feedback, AccountId, spec = crate::graphql::FEEDBACK
);

relation!(
    /// A campaign's recipients.
    RecipientsOf, campaign_recipient, CampaignId, scope = |s| s.order_by_asc(campaign_recipient::Column::ContactId)
);

relation!(
    /// A pipeline's stages, in board order.
    StagesOf, pipeline_stage, PipelineId, scope = |s| s.order_by_asc(pipeline_stage::Column::Position)
);

relation!(
    /// A deal's stays in stages, oldest first.
    HistoryOf, deal_stage_history, DealId, scope = |s| s.order_by_asc(deal_stage_history::Column::EnteredAt)
);

/// The stage ids of pipeline `pipeline`, in board order (for seeds and services).
pub async fn stages(db: &opsgraph_core::TxDb, pipeline: uuid::Uuid) -> opsgraph_core::AppResult<Vec<uuid::Uuid>> {
    use sea_orm::EntityTrait;
    let rows = pipeline_stage::Entity::find()
        .filter(pipeline_stage::Column::PipelineId.eq(pipeline))
        .order_by_asc(pipeline_stage::Column::Position)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|s| s.id).collect())
}
