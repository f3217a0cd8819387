//! Agents' tools: each is a domain operation called through the same services as GraphQL,
//! in a transaction of the agent's session (the member's rights, never more; actor AGENT
//! with its run and message, so the audit log says who wrote). Arguments are the
//! services' own GraphQL inputs (global IDs, camelCase), described to the model in JSON
//! Schema for OpenAI function calling. A write tool an agent is configured to ask about
//! does not write: it is [`proposed`](propose) as a diff against the record as it is now.

use opsgraph_core::node::NodeType;
use opsgraph_core::{AppError, AppResult, Session};
use opsgraph_crm::nodes::{Deal, Interaction, PipelineStage};
use opsgraph_crm::service::deals;
use opsgraph_knowledge::embed::Models;
use opsgraph_knowledge::nodes::Document;
use opsgraph_knowledge::service::search;
use opsgraph_work::nodes::Task;
use opsgraph_work::service::tasks;
use sea_orm::ConnectionTrait;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::enums::ActionRisk;
use crate::llm::openai::Tool;

/// A tool agents may be given.
#[derive(Debug, Clone, Copy)]
pub struct ToolDef {
    /// Its name (what the model calls).
    pub name: &'static str,
    /// What it does, for the model and for people.
    pub description: &'static str,
    /// Whether it changes data (and may therefore need approval).
    pub writes: bool,
    /// How much its change could hurt.
    pub risk: ActionRisk,
    /// Its node type and its arguments' JSON Schema.
    pub subject: &'static str,
    schema: fn() -> Value,
}

impl ToolDef {
    /// The function the model sees.
    pub fn function(&self) -> Tool {
        Tool { name: self.name.into(), description: self.description.into(), parameters: (self.schema)() }
    }
}

fn search_schema() -> Value {
    json!({ "type": "object", "properties": { "query": { "type": "string", "description": "What to look for" } },
            "required": ["query"] })
}

fn create_task_schema() -> Value {
    json!({ "type": "object", "properties": {
        "projectId": { "type": "string", "description": "The project's global ID" },
        "title": { "type": "string" }, "description": { "type": "string" },
        "priority": { "type": "string", "enum": ["LOW", "MEDIUM", "HIGH", "URGENT"] },
        "dueDate": { "type": "string", "description": "YYYY-MM-DD" },
        "assigneeId": { "type": "string", "description": "A membership's global ID" } },
        "required": ["projectId", "title"] })
}

fn update_task_schema() -> Value {
    json!({ "type": "object", "properties": {
        "id": { "type": "string", "description": "The task's global ID" },
        "title": { "type": "string" }, "description": { "type": "string" },
        "priority": { "type": "string", "enum": ["LOW", "MEDIUM", "HIGH", "URGENT"] },
        "dueDate": { "type": "string", "description": "YYYY-MM-DD" } },
        "required": ["id"] })
}

fn move_deal_schema() -> Value {
    json!({ "type": "object", "properties": {
        "id": { "type": "string", "description": "The deal's global ID" },
        "stageId": { "type": "string", "description": "The target stage's global ID" },
        "lostReason": { "type": "string" } },
        "required": ["id", "stageId"] })
}

fn log_interaction_schema() -> Value {
    json!({ "type": "object", "properties": {
        "kind": { "type": "string", "enum": ["CALL", "EMAIL", "MEETING", "NOTE", "MESSAGE"] },
        "subject": { "type": "string" }, "body": { "type": "string" }, "outcome": { "type": "string" },
        "contactIds": { "type": "array", "items": { "type": "string" }, "description": "Contacts' global IDs" },
        "dealId": { "type": "string", "description": "The deal it was about" } },
        "required": ["kind", "contactIds"] })
}

/// Every tool.
pub static TOOLS: [ToolDef; 5] = [
    ToolDef {
        name: "search_knowledge",
        description: "Search the knowledge base (hybrid keyword and semantic) for passages answering a question.",
        writes: false,
        risk: ActionRisk::Low,
        subject: Document::NAME,
        schema: search_schema,
    },
    ToolDef {
        name: "create_task",
        description: "Create a task in a project.",
        writes: true,
        risk: ActionRisk::Low,
        subject: Task::NAME,
        schema: create_task_schema,
    },
    ToolDef {
        name: "update_task",
        description: "Change a task's title, description, priority or due date.",
        writes: true,
        risk: ActionRisk::Medium,
        subject: Task::NAME,
        schema: update_task_schema,
    },
    ToolDef {
        name: "move_deal",
        description: "Move a deal to another stage of its pipeline (a WON or LOST stage closes it).",
        writes: true,
        risk: ActionRisk::High,
        subject: Deal::NAME,
        schema: move_deal_schema,
    },
    ToolDef {
        name: "log_interaction",
        description: "Log a call, e-mail, meeting, note or message with contacts.",
        writes: true,
        risk: ActionRisk::Low,
        subject: Interaction::NAME,
        schema: log_interaction_schema,
    },
];

/// The tool named `name`.
pub fn find(name: &str) -> Option<&'static ToolDef> {
    TOOLS.iter().find(|t| t.name == name)
}

/// What a tool call needs besides its arguments.
pub struct Call<'a> {
    /// The agent's session (actor AGENT, the member's rights).
    pub session: &'a Session,
    /// Embedding models (knowledge search).
    pub models: &'a Models,
    /// The agent's knowledge collection, which its searches keep to.
    pub collection: Option<Uuid>,
}

fn args<T: serde::de::DeserializeOwned>(v: &Value) -> AppResult<T> {
    serde_json::from_value(v.clone()).map_err(|e| AppError::bad_input("arguments", format!("bad arguments: {e}")))
}

fn id_arg<N: NodeType>(v: &Value) -> AppResult<Uuid> {
    let gid = v["id"].as_str().ok_or_else(|| AppError::bad_input("id", "id is required"))?;
    N::decode(gid, "id")
}

/// Runs `tool` with `arguments` in `db` (a transaction of the agent's session); returns
/// what the model is told.
pub async fn execute(db: &impl ConnectionTrait, c: &Call<'_>, tool: &ToolDef, a: &Value) -> AppResult<Value> {
    let org = c.session.org_id()?;
    match tool.name {
        "search_knowledge" => {
            let question = a["query"].as_str().unwrap_or_default();
            let request = crate::service::grounding::request(question, c.collection, 5);
            let found = search::search(db, c.session, c.models, &request).await?;
            let titles =
                opsgraph_knowledge::service::documents::titles(db, found.hits.iter().map(|h| h.document_id).collect())
                    .await?;
            Ok(json!(
                found
                    .hits
                    .iter()
                    .map(|h| json!({ "documentId": Document::gid(h.document_id),
                "title": titles.get(&h.document_id), "text": h.text }))
                    .collect::<Vec<_>>()
            ))
        }
        "create_task" => {
            let t = tasks::create(db, c.session, args(a)?).await?;
            Ok(json!({ "taskId": Task::gid(t.id), "number": t.number, "title": t.title, "version": t.version }))
        }
        "update_task" => {
            let id = id_arg::<Task>(a)?;
            let mut a = a.clone();
            if a.get("expectedVersion").is_none() {
                a["expectedVersion"] = tasks::get(db, org, id).await?.version.into();
            }
            let t = tasks::update(db, c.session, args(&a)?).await?;
            Ok(json!({ "taskId": Task::gid(t.id), "title": t.title, "version": t.version }))
        }
        "log_interaction" => {
            let i = opsgraph_crm::service::interactions::log(db, c.session, args(a)?).await?;
            Ok(json!({ "interactionId": Interaction::gid(i.id), "kind": i.kind }))
        }
        "move_deal" => {
            let d = deals::move_deal(db, c.session, args(a)?).await?;
            Ok(json!({ "dealId": Deal::gid(d.id), "stageId": PipelineStage::gid(d.stage_id), "version": d.version }))
        }
        other => Err(AppError::bad_input("tool", format!("unknown tool {other}"))),
    }
}

/// A proposed change: the record it touches, the version it expects, and each changed
/// field from what it is now to what the tool would make it.
#[derive(Debug, Clone)]
pub struct Proposal {
    /// The record (none for a creation).
    pub subject_id: Option<Uuid>,
    /// Its version now (applied only if still so: CONFLICT otherwise).
    pub expected_version: Option<i32>,
    /// `{"field": {"from": …, "to": …}}`.
    pub diff: Value,
    /// The arguments to apply (with the expected version).
    pub arguments: Value,
}

fn diff(current: &Value, a: &Value) -> Value {
    let mut out = Map::new();
    for (k, to) in a.as_object().into_iter().flatten().filter(|(k, _)| *k != "id" && *k != "expectedVersion") {
        let from = current.get(k).cloned().unwrap_or(Value::Null);
        if &from != to {
            out.insert(k.clone(), json!({ "from": from, "to": to }));
        }
    }
    Value::Object(out)
}

/// What `tool` would change with `arguments`, read as the agent's session sees it now.
pub async fn propose(db: &impl ConnectionTrait, session: &Session, tool: &ToolDef, a: &Value) -> AppResult<Proposal> {
    let org = session.org_id()?;
    let (subject_id, current) = match tool.name {
        "create_task" | "log_interaction" => (None, Value::Null),
        "update_task" => {
            let t = tasks::get(db, org, id_arg::<Task>(a)?).await?;
            (Some(t.id), serde_json::to_value(&t).map_err(AppError::internal)?)
        }
        "move_deal" => {
            let d = deals::get(db, org, id_arg::<Deal>(a)?).await?;
            let mut v = serde_json::to_value(&d).map_err(AppError::internal)?;
            v["stageId"] = PipelineStage::gid(d.stage_id).into();
            (Some(d.id), v)
        }
        other => return Err(AppError::bad_input("tool", format!("{other} changes nothing to approve"))),
    };
    let version = current.get("version").and_then(Value::as_i64).and_then(|v| i32::try_from(v).ok());
    let mut arguments = a.clone();
    if let Some(v) = version {
        arguments["expectedVersion"] = v.into();
    }
    Ok(Proposal { subject_id, expected_version: version, diff: diff(&current, a), arguments })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_names_changed_fields_only() {
        let current = json!({ "title": "Old", "priority": "LOW", "version": 3 });
        let d = diff(&current, &json!({ "id": "x", "title": "New", "priority": "LOW", "dueDate": "2026-12-24" }));
        assert_eq!(
            d,
            json!({ "title": { "from": "Old", "to": "New" }, "dueDate": { "from": null, "to": "2026-12-24" } })
        );
    }

    #[test]
    fn every_tool_has_an_object_schema() {
        for t in TOOLS {
            let f = t.function();
            assert_eq!(f.parameters["type"], "object", "{}", t.name);
            assert!(find(t.name).is_some());
        }
        assert!(find("drop_database").is_none());
    }
}
