//! Prompt templates: named, versioned prompts with declared variables. A version's
//! placeholders must all be declared (or built in: `today`, `agent_name`); rendering
//! refuses unknown and missing values by name. Agents may run on a template's current
//! version; each use, success and failure is counted.

use std::collections::BTreeMap;

use opsgraph_core::id::new_id;
use opsgraph_core::input::Id;
use opsgraph_core::node::NodeType;
use opsgraph_core::write::Write;
use opsgraph_core::{AppError, AppResult, Permission, Session, validate};
use opsgraph_derive::GqlInput;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::entity::{prompt_template as template, prompt_version as version};
use crate::nodes::PromptTemplate;
use crate::service::render;

/// Values the runner always supplies.
pub const BUILTINS: [&str; 2] = ["today", "agent_name"];

/// A declared variable.
#[derive(Debug, Clone, Deserialize, Serialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct PromptVariableInput {
    /// Its name (`[a-z_][a-z0-9_]*`), written `{{name}}` in the body.
    pub name: String,
    /// What it means.
    pub description: Option<String>,
    /// Used when no value is given (a variable without one is required).
    pub default: Option<String>,
}

/// Create a template (its version 1).
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct CreatePromptTemplateInput {
    /// Name (unique).
    pub name: String,
    /// Category.
    pub category: Option<String>,
    /// What it is for.
    pub description: Option<String>,
    /// The prompt with `{{variable}}` placeholders.
    pub body: String,
    /// Its variables.
    pub variables: Option<Vec<PromptVariableInput>>,
}

/// Add a version (it becomes current).
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct AddPromptVersionInput {
    /// The template.
    pub template_id: Id,
    /// The prompt.
    pub body: String,
    /// Its variables.
    pub variables: Option<Vec<PromptVariableInput>>,
}

fn check(body: &str, vars: &[PromptVariableInput]) -> AppResult<(String, Value)> {
    let body = validate::text("body", body, 1, 20_000, true)?;
    for (i, v) in vars.iter().enumerate() {
        let ok = v.name.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c == '_')
            && v.name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            && v.name.len() <= 64;
        if !ok || BUILTINS.contains(&v.name.as_str()) || vars[..i].iter().any(|o| o.name == v.name) {
            return Err(AppError::bad_input(
                format!("variables.{i}.name"),
                format!("bad or repeated name {:?}", v.name),
            ));
        }
    }
    for p in render::placeholders(&body) {
        if !BUILTINS.contains(&p.as_str()) && !vars.iter().any(|v| v.name == p) {
            return Err(AppError::bad_input("body", format!("{{{{{p}}}}} is not a declared variable")));
        }
    }
    Ok((body, serde_json::to_value(vars).map_err(AppError::internal)?))
}

/// Creates a template (agent managers).
pub async fn create(
    db: &impl ConnectionTrait,
    session: &Session,
    i: CreatePromptTemplateInput,
) -> AppResult<template::Model> {
    let w = Write::new(db, session, Permission::AiManage)?;
    let (body, vars) = check(&i.body, &i.variables.unwrap_or_default())?;
    let row = template::ActiveModel {
        id: Set(new_id()),
        org_id: Set(w.org),
        name: Set(validate::text("name", &i.name, 1, 200, false)?),
        category: Set(validate::opt_text("category", i.category.as_deref(), 100, false)?),
        description: Set(validate::opt_text("description", i.description.as_deref(), 2000, true)?),
        ..Default::default()
    }
    .insert(db)
    .await?;
    add(db, session, (w.org, row.id, 1), body, vars).await?;
    w.created::<PromptTemplate>("prompt_template.create", &row, ("createPromptTemplate", None)).await?;
    w.changed::<PromptTemplate>("prompt_template.create", row.id, None).await?;
    Ok(row)
}

async fn add(
    db: &impl ConnectionTrait,
    session: &Session,
    (org, id, n): (Uuid, Uuid, i32),
    body: String,
    vars: Value,
) -> AppResult<()> {
    version::ActiveModel {
        id: Set(new_id()),
        org_id: Set(org),
        template_id: Set(id),
        number: Set(n),
        body: Set(body),
        variables: Set(vars),
        created_by: Set(session.membership_id),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Adds a version and makes it current.
pub async fn add_version(
    db: &impl ConnectionTrait,
    session: &Session,
    i: AddPromptVersionInput,
) -> AppResult<template::Model> {
    let w = Write::new(db, session, Permission::AiManage)?;
    let t = get(db, w.org, PromptTemplate::decode(&i.template_id, "templateId")?).await?;
    let (body, vars) = check(&i.body, &i.variables.unwrap_or_default())?;
    let n = t.current_version + 1;
    add(db, session, (w.org, t.id, n), body, vars).await?;
    let mut am: template::ActiveModel = t.clone().into();
    am.current_version = Set(n);
    let after = w.update::<PromptTemplate, _>("prompt_template.version", t.clone(), am, t.version).await?.after;
    w.changed::<PromptTemplate>("prompt_template.version", after.id, None).await?;
    Ok(after)
}

/// A template of the organisation.
pub async fn get(db: &impl ConnectionTrait, org: Uuid, id: Uuid) -> AppResult<template::Model> {
    opsgraph_core::db::find_in_org::<template::Entity>(db, template::Column::OrgId, org, id, "prompt template").await
}

/// Version `n` of a template (its current one when `None`).
pub async fn version(db: &impl ConnectionTrait, t: &template::Model, n: Option<i32>) -> AppResult<version::Model> {
    version::Entity::find()
        .filter(version::Column::TemplateId.eq(t.id))
        .filter(version::Column::Number.eq(n.unwrap_or(t.current_version)))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("prompt template version"))
}

/// `v` rendered with `values` (an object of strings) and the built-ins.
pub fn render(v: &version::Model, values: &Value, builtins: &BTreeMap<&str, String>) -> AppResult<String> {
    let vars: Vec<PromptVariableInput> = serde_json::from_value(v.variables.clone()).unwrap_or_default();
    let given = values.as_object().cloned().unwrap_or_default();
    if let Some(k) = given.keys().find(|k| !vars.iter().any(|v| &v.name == *k)) {
        return Err(AppError::bad_input(format!("variables.{k}"), format!("the template has no variable {k}")));
    }
    render::fill(&v.body, |name| {
        builtins.get(name).cloned().or_else(|| {
            let var = vars.iter().find(|v| v.name == name)?;
            given.get(name).and_then(|x| x.as_str().map(str::to_owned)).or_else(|| var.default.clone())
        })
    })
    .map_err(|name| AppError::bad_input(format!("variables.{name}"), format!("{name} needs a value")))
}

/// Built-ins as a check sees them (agents are validated before they run).
pub fn sample_builtins() -> BTreeMap<&'static str, String> {
    BUILTINS.iter().map(|b| (*b, format!("<{b}>"))).collect()
}

/// Counts a use of the template of run `run`'s agent (`ok` once it finished).
pub async fn count(db: &impl ConnectionTrait, run: Uuid, outcome: Option<bool>) -> AppResult<()> {
    let set = match outcome {
        None => "usage_count = usage_count + 1, last_used_at = now()",
        Some(true) => "success_count = success_count + 1",
        Some(false) => "failure_count = failure_count + 1",
    };
    let sql = format!(
        "UPDATE prompt_templates SET {set} WHERE id = (SELECT a.template_id FROM ai_runs r JOIN agents a ON a.id = r.agent_id WHERE r.id = $1)"
    );
    db.execute_raw(sea_orm::Statement::from_sql_and_values(sea_orm::DbBackend::Postgres, sql, [run.into()])).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn v(body: &str, vars: Value) -> version::Model {
        version::Model {
            id: Uuid::nil(),
            org_id: Uuid::nil(),
            template_id: Uuid::nil(),
            number: 1,
            body: body.into(),
            variables: vars,
            created_by: None,
            created_at: chrono::Utc::now().fixed_offset(),
        }
    }

    #[test]
    fn variables_are_validated_on_render() {
        let vars = json!([{ "name": "tone" }, { "name": "audience", "default": "clients" }]);
        let t = v("Be {{tone}} with {{audience}}. Today is {{today}}.", vars);
        let b = BTreeMap::from([("today", "2026-12-03".to_owned())]);
        assert_eq!(
            render(&t, &json!({ "tone": "brief" }), &b).ok().as_deref(),
            Some("Be brief with clients. Today is 2026-12-03.")
        );
        assert!(render(&t, &json!({}), &b).is_err(), "tone is required");
        assert!(render(&t, &json!({ "tone": "x", "mood": "y" }), &b).is_err(), "unknown variable");
        let bad = vec![PromptVariableInput { name: "x".into(), description: None, default: None }];
        assert!(check("{{y}}", &bad).is_err());
        assert!(check("{{x}} {{today}}", &bad).is_ok());
    }
}
