//! Providers, models and tools in GraphQL: `LlmProvider` (its API key never leaves the
//! server: only `apiKeyHint`), `LlmModel` with prices, `Query.agentTools`, and their
//! mutations.

use opsgraph_core::gql::decimal;
use std::sync::LazyLock;

use async_graphql::Value;
use async_graphql::dynamic::{Field, FieldFuture, FieldValue, Object, TypeRef};
use opsgraph_core::filter::{FieldKind as K, ff};
use opsgraph_core::gql::{
    GqlEnum, SchemaParts, datetime, enum_value, list_field, node_mutation, node_mutation_with, node_object, opt,
    parent, payload, payload_value, prop, ref_field_nn,
};
use opsgraph_core::pagination::{ListSpec, SortKind as S, sk};
use opsgraph_core::{AppError, AppResult, Permission, node::NodeType};
use opsgraph_org::nodes::Organization;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::entity::{llm_model, provider};
use crate::enums::{ActionRisk, ModelCapability, ProviderKind};
use crate::nodes::{LlmModel, LlmProvider};
use crate::service::tools::{TOOLS, ToolDef};
use crate::service::{Runtime, providers};

/// `LlmProvider` lists.
pub static PROVIDERS: LazyLock<ListSpec<provider::Entity>> = LazyLock::new(|| {
    use provider::Column as C;
    ListSpec {
        node: LlmProvider::NAME,
        id: C::Id,
        filters: vec![ff("name", C::Name, K::Text), ff("kind", C::Kind, K::Enum(ProviderKind::NAME))],
        sorts: vec![sk("NAME", C::Name, S::Text)],
        default_sort: "NAME",
        lean: vec![],
        aggregates: vec![],
        groups: vec![],
    }
});

/// `LlmModel` lists.
pub static MODELS: LazyLock<ListSpec<llm_model::Entity>> = LazyLock::new(|| {
    use llm_model::Column as C;
    ListSpec {
        node: LlmModel::NAME,
        id: C::Id,
        filters: vec![ff("name", C::Name, K::Text), ff("active", C::Active, K::Boolean)],
        sorts: vec![sk("NAME", C::DisplayName, S::Text)],
        default_sort: "NAME",
        lean: vec![],
        aggregates: vec![],
        groups: vec![],
    }
});

/// The runtime the server gave the schema.
pub fn runtime(rt: Option<Runtime>) -> AppResult<Runtime> {
    rt.ok_or_else(|| AppError::internal("the ai runtime is not configured"))
}

fn text(s: &str) -> Value {
    s.to_owned().into()
}

fn provider_object() -> Object {
    type P = provider::Model;
    let nn = TypeRef::named_nn;
    node_object::<LlmProvider>("Where language models run: in process, or an OpenAI-compatible endpoint.")
        .field(prop::<P>("name", nn(TypeRef::STRING), "Name.", |p| text(&p.name)))
        .field(prop::<P>("kind", ProviderKind::nn(), "Kind.", |p| enum_value(&p.kind)))
        .field(prop::<P>("baseUrl", TypeRef::named(TypeRef::STRING), "Base URL of its API.", |p| {
            opt(p.base_url.clone())
        }))
        .field(prop::<P>(
            "apiKeyHint",
            TypeRef::named(TypeRef::STRING),
            "The last characters of its API key (the key itself is sealed and never returned).",
            |p| opt(p.api_key_hint.clone()),
        ))
        .field(prop::<P>("timeoutSecs", nn(TypeRef::INT), "Longest wait for a reply.", |p| p.timeout_secs.into()))
        .field(prop::<P>("maxRetries", nn(TypeRef::INT), "Retries before a reply starts.", |p| p.max_retries.into()))
        .field(prop::<P>("version", nn(TypeRef::INT), "Optimistic-concurrency version.", |p| p.version.into()))
        .field(list_field("models", &MODELS, "Its models.", |ctx, req| {
            req.require(Permission::AiUse)?;
            let p = parent::<P>(ctx)?;
            Ok(llm_model::Entity::find().filter(llm_model::Column::ProviderId.eq(p.id)))
        }))
}

fn model_object() -> Object {
    type M = llm_model::Model;
    let nn = TypeRef::named_nn;
    node_object::<LlmModel>("A language model of a provider, with its prices per million tokens.")
        .field(prop::<M>("name", nn(TypeRef::STRING), "The provider's name for it.", |m| text(&m.name)))
        .field(prop::<M>("displayName", nn(TypeRef::STRING), "Shown to people.", |m| text(&m.display_name)))
        .field(ref_field_nn::<M, LlmProvider>("provider", "Its provider.", |m| m.provider_id))
        .field(prop::<M>("contextWindow", nn(TypeRef::INT), "Context window in tokens.", |m| m.context_window.into()))
        .field(prop::<M>("capabilities", TypeRef::named_nn_list_nn(ModelCapability::NAME), "What it can do.", |m| {
            Value::List(m.capabilities.iter().map(|c| enum_value(c)).collect())
        }))
        .field(prop::<M>("inputPrice", nn("Decimal"), "Price per million prompt tokens.", |m| decimal(&m.input_price)))
        .field(prop::<M>("outputPrice", nn("Decimal"), "Price per million generated tokens.", |m| {
            decimal(&m.output_price)
        }))
        .field(prop::<M>("currency", nn(TypeRef::STRING), "Currency of its prices.", |m| text(m.currency.trim())))
        .field(prop::<M>("active", nn(TypeRef::BOOLEAN), "Offered for agents.", |m| m.active.into()))
        .field(prop::<M>("version", nn(TypeRef::INT), "Optimistic-concurrency version.", |m| m.version.into()))
        .field(prop::<M>("createdAt", nn(opsgraph_core::gql::scalar::DATE_TIME), "Added.", |m| datetime(&m.created_at)))
}

fn tool_object() -> Object {
    type T = ToolDef;
    let nn = TypeRef::named_nn;
    Object::new("AgentToolDefinition")
        .description("A domain operation agents may be given as a tool (OpenAI function calling).")
        .field(prop::<T>("name", nn(TypeRef::STRING), "What the model calls.", |t| t.name.into()))
        .field(prop::<T>("description", nn(TypeRef::STRING), "What it does.", |t| t.description.into()))
        .field(prop::<T>("writes", nn(TypeRef::BOOLEAN), "Whether it changes data.", |t| t.writes.into()))
        .field(prop::<T>("risk", ActionRisk::nn(), "How much its change could hurt.", |t| t.risk.as_str().into()))
        .field(prop::<T>("parameters", nn("JSON"), "Its arguments' JSON Schema.", |t| {
            Value::from_json(t.function().parameters).unwrap_or(Value::Null)
        }))
}

fn mutations(parts: &mut SchemaParts) {
    parts.object(payload::<LlmProvider>("provider", "Result of a mutation changing an LlmProvider."));
    parts.object(payload::<LlmModel>("model", "Result of a mutation changing an LlmModel."));
    parts.input::<providers::CreateLlmProviderInput>().input::<providers::UpdateLlmProviderInput>();
    parts.input::<providers::CreateLlmModelInput>().input::<providers::UpdateLlmModelInput>();
    parts.mutation(node_mutation_with(
        LlmProvider,
        "createLlmProvider",
        "Add an OpenAI-compatible provider; its API key is sealed at rest and never returned (admins).",
        |req, rt: Option<Runtime>, i| async move {
            let rt = runtime(rt)?;
            Ok(payload_value(providers::create(req.db.as_ref(), &req.session, &rt.sealer, i).await?))
        },
    ));
    parts.mutation(node_mutation_with(
        LlmProvider,
        "updateLlmProvider",
        "Change a provider; `apiKey: null` removes its key (admins).",
        |req, rt: Option<Runtime>, i| async move {
            let rt = runtime(rt)?;
            Ok(payload_value(providers::update(req.db.as_ref(), &req.session, &rt.sealer, i).await?))
        },
    ));
    parts.mutation(node_mutation(
        LlmModel,
        "createLlmModel",
        "Add a model of a provider (admins).",
        |req, i| async move { Ok(payload_value(providers::create_model(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.mutation(node_mutation(
        LlmModel,
        "updateLlmModel",
        "Change a model's settings and prices (admins).",
        |req, i| async move { Ok(payload_value(providers::update_model(req.db.as_ref(), &req.session, i).await?)) },
    ));
}

/// Registers providers, models and tools.
pub fn register(parts: &mut SchemaParts) {
    parts.enumeration::<ProviderKind>().enumeration::<ModelCapability>().enumeration::<ActionRisk>();
    parts.list(&*PROVIDERS).list(&*MODELS);
    parts.object(provider_object()).object(model_object()).object(tool_object());
    parts.node::<LlmProvider>().node::<LlmModel>();
    parts.extend::<Organization>(list_field(
        "llmProviders",
        &PROVIDERS,
        "Where the organisation's models run.",
        |_, req| {
            let org = req.require(Permission::AiManage)?;
            Ok(provider::Entity::find().filter(provider::Column::OrgId.eq(org)))
        },
    ));
    parts.extend::<Organization>(list_field("llmModels", &MODELS, "The models agents may use.", |_, req| {
        let org = req.require(Permission::AiUse)?;
        Ok(llm_model::Entity::find().filter(llm_model::Column::OrgId.eq(org)))
    }));
    parts.query(
        Field::new("agentTools", TypeRef::named_nn_list_nn("AgentToolDefinition"), |_| {
            FieldFuture::new(
                async move { Ok(Some(FieldValue::list(TOOLS.iter().map(|t| FieldValue::borrowed_any(t))))) },
            )
        })
        .description("The tools agents may be given."),
    );
    mutations(parts);
}
