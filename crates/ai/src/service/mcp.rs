//! MCP servers (000): the organisation's registry of Model Context Protocol servers, the
//! tools each offers (listed over the protocol: `initialize`, then `tools/list`, JSON-RPC
//! over streamable HTTP), and which agents may use which server. Calling MCP tools from
//! agents is not built yet.

use opsgraph_core::id::new_id;
use opsgraph_core::input::Id;
use opsgraph_core::node::NodeType;
use opsgraph_core::write::Write;
use opsgraph_core::{AppError, AppResult, Permission, Session, validate};
use opsgraph_derive::GqlInput;
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbBackend, Set, Statement};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::entity::mcp_server;
use crate::nodes::{Agent, McpServer};
use crate::service::agents;

/// Register an MCP server.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct RegisterMcpServerInput {
    /// Name (unique).
    pub name: String,
    /// Its streamable HTTP endpoint.
    pub url: String,
}

/// Let an agent use an MCP server.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct BindMcpServerInput {
    /// The agent.
    pub agent_id: Id,
    /// The server.
    pub server_id: Id,
}

/// Registers a server (agent managers).
pub async fn register(
    db: &impl ConnectionTrait,
    session: &Session,
    i: RegisterMcpServerInput,
) -> AppResult<mcp_server::Model> {
    let w = Write::new(db, session, Permission::AiManage)?;
    let url = validate::text("url", &i.url, 8, 2000, false)?;
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(AppError::bad_input("url", "url must be http(s)"));
    }
    let row = mcp_server::ActiveModel {
        id: Set(new_id()),
        org_id: Set(w.org),
        name: Set(validate::text("name", &i.name, 1, 200, false)?),
        url: Set(url),
        tools: Set(json!([])),
        ..Default::default()
    }
    .insert(db)
    .await?;
    w.created::<McpServer>("mcp_server.create", &row, ("registerMcpServer", None)).await?;
    w.changed::<McpServer>("mcp_server.create", row.id, None).await?;
    Ok(row)
}

/// Lets an agent use a server (idempotent).
pub async fn bind(db: &impl ConnectionTrait, session: &Session, i: BindMcpServerInput) -> AppResult<mcp_server::Model> {
    let w = Write::new(db, session, Permission::AiManage)?;
    let agent = agents::get(db, w.org, Agent::decode(&i.agent_id, "agentId")?).await?;
    let server = get(db, w.org, McpServer::decode(&i.server_id, "serverId")?).await?;
    let sql = "INSERT INTO agent_mcp_servers (id, org_id, agent_id, server_id) VALUES ($1, $2, $3, $4) \
               ON CONFLICT (agent_id, server_id) DO NOTHING";
    let values = [new_id().into(), w.org.into(), agent.id.into(), server.id.into()];
    db.execute_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, values)).await?;
    w.audit::<Agent>("agent.mcp_bind", agent.id, json!({ "server": server.id })).await?;
    w.changed::<Agent>("agent.mcp_bind", agent.id, None).await?;
    Ok(server)
}

/// A server of the organisation.
pub async fn get(db: &impl ConnectionTrait, org: uuid::Uuid, id: uuid::Uuid) -> AppResult<mcp_server::Model> {
    opsgraph_core::db::find_in_org::<mcp_server::Entity>(db, mcp_server::Column::OrgId, org, id, "MCP server").await
}

/// Asks the server for its tools (`initialize`, `notifications/initialized`, `tools/list`);
/// returns `[{name, description}]` or why it failed.
pub async fn list_tools(url: &str, allow_private: bool) -> Result<Value, String> {
    opsgraph_core::outbound::check_public(url, allow_private).await?;
    let http =
        reqwest::Client::builder().timeout(std::time::Duration::from_secs(10)).build().map_err(|e| e.to_string())?;
    let post = |body: Value, session: Option<String>| {
        let mut r = http.post(url).header("accept", "application/json, text/event-stream").json(&body);
        if let Some(s) = session {
            r = r.header("mcp-session-id", s);
        }
        r.send()
    };
    let init = json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-03-26", "capabilities": {}, "clientInfo": { "name": "opsgraph", "version": "1" } } });
    let resp = post(init, None).await.map_err(|e| format!("unreachable: {}", e.without_url()))?;
    if !resp.status().is_success() {
        return Err(format!("initialize answered {}", resp.status().as_u16()));
    }
    let session = resp.headers().get("mcp-session-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let note = json!({ "jsonrpc": "2.0", "method": "notifications/initialized" });
    post(note, session.clone()).await.map_err(|e| format!("unreachable: {}", e.without_url()))?;
    let list = json!({ "jsonrpc": "2.0", "id": 2, "method": "tools/list" });
    let resp = post(list, session).await.map_err(|e| format!("unreachable: {}", e.without_url()))?;
    let text = resp.text().await.map_err(|e| format!("unreadable: {}", e.without_url()))?;
    // A JSON body, or one server-sent event carrying it.
    let body = text.lines().find_map(|l| l.strip_prefix("data:")).map_or(text.as_str(), str::trim);
    let v: Value = serde_json::from_str(body).map_err(|e| format!("not JSON-RPC: {e}"))?;
    if let Some(err) = v.get("error") {
        return Err(format!("tools/list failed: {}", err["message"].as_str().unwrap_or("error")));
    }
    let tools = v["result"]["tools"].as_array().cloned().unwrap_or_default();
    Ok(Value::Array(tools.iter().map(|t| json!({ "name": t["name"], "description": t["description"] })).collect()))
}

/// Lists a server's tools and keeps them (or the error) on it.
pub async fn refresh(
    db: &impl ConnectionTrait,
    session: &Session,
    gid: &str,
    allow_private: bool,
) -> AppResult<mcp_server::Model> {
    let w = Write::new(db, session, Permission::AiManage)?;
    let s = get(db, w.org, McpServer::decode(gid, "id")?).await?;
    let listed = list_tools(&s.url, allow_private).await;
    let mut am: mcp_server::ActiveModel = s.clone().into();
    match listed {
        Ok(tools) => {
            am.tools = Set(tools);
            am.tools_listed_at = Set(Some(chrono::Utc::now().fixed_offset()));
            am.last_error = Set(None);
        }
        Err(e) => am.last_error = Set(Some(e)),
    }
    let after = w.update::<McpServer, _>("mcp_server.refresh", s.clone(), am, s.version).await?.after;
    w.changed::<McpServer>("mcp_server.refresh", after.id, None).await?;
    Ok(after)
}
