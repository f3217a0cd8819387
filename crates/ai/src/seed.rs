//! Demo data: each demo organisation gets an assistant that answers from its handbook.

use opsgraph_core::input::Id;
use opsgraph_core::{AppResult, TxDb};
use opsgraph_knowledge::nodes::Collection;
use opsgraph_org::seed::DemoOrg;
use uuid::Uuid;

use crate::service::agents::{self, CreateAgentInput};

/// Seeds one demo organisation's agents, acting as its owner.
pub async fn ai(db: &TxDb, org: &DemoOrg, handbook: Uuid) -> AppResult<()> {
    let owner = &org.owner;
    db.set_tenant(&owner.tenant()).await?;
    let input = CreateAgentInput {
        name: "Handbook assistant".into(),
        description: Some("Answers questions about the company handbook, citing its pages.".into()),
        model_id: None,
        tools: None,
        template_id: None,
        template_variables: None,
        memory_collection_id: None,
        system_prompt: Some("You are the company's handbook assistant. Answer briefly and cite the passages.".into()),
        max_tokens: Some(160),
        temperature: None,
        avatar_url: None,
        knowledge_collection_id: Some(Id::of::<Collection>(handbook)),
    };
    agents::create(db, owner, input).await?;
    Ok(())
}
