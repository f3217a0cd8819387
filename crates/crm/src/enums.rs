//! The crm domain's closed value sets (GraphQL enums stored as their names).

use opsgraph_derive::GqlEnum;

/// Where a client company stands with us.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum AccountStatus {
    /// A prospect: no work yet.
    Lead,
    /// A current client.
    Active,
    /// No current work.
    Inactive,
    /// Left us.
    Churned,
}

/// Company size band (employees).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum AccountSize {
    /// 1-9.
    Solo,
    /// 10-49.
    Small,
    /// 50-249.
    Medium,
    /// 250-999.
    Large,
    /// 1,000 and more.
    Enterprise,
}

/// Where a person stands in the funnel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum ContactStatus {
    /// Not yet qualified.
    Lead,
    /// Qualified: a real opportunity.
    Qualified,
    /// At a client.
    Customer,
    /// Gone quiet.
    Inactive,
    /// Asked not to be contacted.
    Unsubscribed,
}

/// What reaching a stage means for a deal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum StageKind {
    /// Still in play.
    Open,
    /// Closed and won.
    Won,
    /// Closed and lost.
    Lost,
}

/// What kind of touchpoint an interaction was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum InteractionKind {
    /// A phone or video call (possibly recorded).
    Call,
    /// An e-mail.
    Email,
    /// A meeting.
    Meeting,
    /// A note for the record.
    Note,
    /// A chat, SMS or social message.
    Message,
}

/// Who reached out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum Direction {
    /// They contacted us.
    Inbound,
    /// We contacted them.
    Outbound,
}

/// Where a proposal stands (EXPIRED is derived: SENT past its validity).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum ProposalStatus {
    /// Being written; every change is a new revision.
    Draft,
    /// With the client.
    Sent,
    /// The client said yes.
    Accepted,
    /// The client said no.
    Rejected,
    /// Sent, and past its validity without an answer.
    Expired,
}

/// Where one recipient of a campaign stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum RecipientStatus {
    /// Not sent yet.
    Pending,
    /// Handed to the mailer.
    Sent,
    /// Delivered.
    Delivered,
    /// Opened.
    Opened,
    /// A link was clicked.
    Clicked,
    /// Bounced.
    Bounced,
    /// Asked not to be contacted.
    Unsubscribed,
}

/// What a lead rule does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum LeadRuleKind {
    /// Adds its points to the lead score of every contact it matches.
    Scoring,
    /// Gives a new contact it matches an owner (the first match by position wins).
    Routing,
}

/// The contact field a lead rule looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum LeadField {
    /// Source.
    Source,
    /// Job title.
    Title,
    /// Company name (or the account's name).
    Company,
    /// Status.
    Status,
    /// E-mail address.
    Email,
    /// One of its tags.
    Tag,
}

/// How a lead rule compares (always ignoring case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum LeadOperator {
    /// The whole value.
    Equals,
    /// A part of it.
    Contains,
    /// Its end (`@acme.example` for e-mail domains).
    EndsWith,
}

/// The channel of a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum ConversationChannel {
    /// E-mail.
    Email,
    /// Text messages.
    Sms,
    /// Phone calls.
    Call,
    /// WhatsApp.
    Whatsapp,
    /// Social networks' direct messages.
    Social,
    /// The website's live chat.
    LiveChat,
}

/// Where a conversation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum ConversationStatus {
    /// Open: in the inbox.
    Active,
    /// Put away; a new inbound message reopens it.
    Archived,
    /// Done; a new inbound message reopens it.
    Closed,
    /// Junk; stays out of the inbox.
    Spam,
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum SenderType {
    /// The contact.
    Contact,
    /// One of our members.
    Member,
    /// An AI agent.
    Agent,
    /// The system (automated notices).
    System,
}

/// What a phone number can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum PhoneCapability {
    /// Voice calls.
    Voice,
    /// Text messages.
    Sms,
    /// Picture messages.
    Mms,
}

/// Whether a phone number is in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum PhoneNumberStatus {
    /// In use.
    Active,
    /// Given back to the provider.
    Released,
}
