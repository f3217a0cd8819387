//! The embedding models a server offers (`Query.embeddingModels`) and the import of vectors
//! made elsewhere (`importEmbeddings`).

use async_graphql::dynamic::{Field, FieldFuture, FieldValue, Object, TypeRef};
use opsgraph_core::gql::{GqlEnum, SchemaParts, enum_value, mutation_with, prop};
use opsgraph_core::{Permission, RequestCtx};

use crate::embed::{Model, Models, Provider};
use crate::enums::EmbeddingProvider;
use crate::service::imports::{self, ImportEmbeddingsInput, Imported, ImportedEmbedding};

/// A model as GraphQL reads it.
struct ModelView {
    model: Model,
    default: bool,
}

fn model_object() -> Object {
    type M = ModelView;
    let nn = TypeRef::named_nn;
    Object::new("EmbeddingModel")
        .description("An embedding model this server offers; each collection embeds with one.")
        .field(prop::<M>("name", nn(TypeRef::STRING), "Its name (a collection's embeddingModel).", |m| {
            m.model.name.clone().into()
        }))
        .field(prop::<M>("dimensions", nn(TypeRef::INT), "Its vectors' dimensions.", |m| {
            (m.model.dimensions as i64).into()
        }))
        .field(prop::<M>("provider", EmbeddingProvider::nn(), "What runs it.", |m| {
            enum_value(match m.model.provider {
                Provider::Local => EmbeddingProvider::Local.as_str(),
                Provider::OpenAi(_) => EmbeddingProvider::OpenaiCompatible.as_str(),
            })
        }))
        .field(prop::<M>("isDefault", nn(TypeRef::BOOLEAN), "New collections use it unless told otherwise.", |m| {
            m.default.into()
        }))
}

fn models_field() -> Field {
    Field::new("embeddingModels", TypeRef::named_nn_list_nn("EmbeddingModel"), |ctx| {
        FieldFuture::new(async move {
            RequestCtx::of(&ctx)?.require(Permission::KnowledgeRead)?;
            let models = ctx.data_opt::<Models>().cloned().unwrap_or_default();
            let default = models.default_model().name.clone();
            Ok(Some(FieldValue::list(
                models
                    .all()
                    .iter()
                    .map(|m| FieldValue::owned_any(ModelView { model: m.clone(), default: m.name == default })),
            )))
        })
    })
    .description("The embedding models this server offers, the default first.")
}

fn import_field() -> Field {
    mutation_with(
        "importEmbeddings",
        "ImportEmbeddingsPayload",
        "Import document vectors made elsewhere (such as 1536-dimension ada-002 vectors) as another model: each is \
         stored on the document's lead chunk (knowledge admins; all or nothing).",
        |req, models: Models, input: ImportEmbeddingsInput| async move {
            let done = imports::import(req.db.as_ref(), &req.session, &models, input).await?;
            Ok(FieldValue::owned_any(done))
        },
    )
}

/// Registers `Query.embeddingModels`, `importEmbeddings` and their types.
pub fn register(parts: &mut SchemaParts) {
    parts.object(model_object());
    parts.query(models_field());
    parts.input::<ImportedEmbedding>().input::<ImportEmbeddingsInput>();
    let nn = TypeRef::named_nn;
    parts.object(
        Object::new("ImportEmbeddingsPayload")
            .description("What an import stored.")
            .field(prop::<Imported>("model", nn(TypeRef::STRING), "The model.", |i| i.model.clone().into()))
            .field(prop::<Imported>("dimensions", nn(TypeRef::INT), "Its dimensions.", |i| {
                (i.dimensions as i64).into()
            }))
            .field(prop::<Imported>("imported", nn(TypeRef::INT), "Vectors stored (new or replaced).", |i| {
                (i.count as i64).into()
            })),
    );
    parts.mutation(import_field());
}
