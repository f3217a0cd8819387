//! The crm node types: the public handles other crates use to reference, extend and load
//! crm data (never the entity modules).

use crate::entity::{
    account, campaign, client_feedback, contact, conversation, deal, deal_stage_history, exchange_rate, industry,
    interaction, lead_rule, phone_number, pipeline, pipeline_stage, proposal, segment,
};

opsgraph_core::node_type! {
    /// A client company.
    pub Account = account, read AccountsRead;
    /// A person at an account, or a standalone lead.
    pub Contact = contact, read CrmRead;
    /// An entry of the organisation's industry catalog.
    pub Industry = industry, read CrmRead;
    /// A sales pipeline.
    pub Pipeline = pipeline, read CrmRead;
    /// A stage of a pipeline.
    pub PipelineStage = pipeline_stage, read CrmRead;
    /// An opportunity in a pipeline.
    pub Deal = deal, read CrmRead;
    /// A deal's stay in one stage.
    pub DealStageVisit = deal_stage_history, read CrmRead;
    /// A call, e-mail, meeting, note or message with contacts.
    pub Interaction = interaction, read CrmRead;
    /// An exchange rate into the organisation's currency, valid from a date.
    pub ExchangeRate = exchange_rate, read CrmRead;
    /// A proposal to a client, for a deal or an account.
    pub Proposal = proposal, read AccountsRead;
    /// A client's rating of our work, with our response.
    pub ClientFeedback = client_feedback, read AccountsRead;
    /// A saved contact filter; its members are computed when read.
    pub Segment = segment, read CrmRead;
    /// A send to a segment's contacts, frozen when created.
    pub Campaign = campaign, read CrmRead;
    /// A scoring or routing rule for leads.
    pub LeadRule = lead_rule, read CrmRead;
    /// A thread with a contact on one channel; its messages are interactions.
    pub Conversation = conversation, read CrmRead;
    /// A phone number the organisation calls and texts from.
    pub PhoneNumber = phone_number, read CrmRead;
}
