//! `Query.search`: hits as a connection, each with its chunk, document, snippet and
//! highlights, score breakdown and citation.

use std::sync::Arc;

use async_graphql::dynamic::{Field, FieldFuture, FieldValue, InputValue, Object, TypeRef};
use chrono::{DateTime, FixedOffset};
use opsgraph_core::gql::{GqlEnum, SchemaParts, connection_objects, parent, prop, ref_field_nn};
use opsgraph_core::input::Id;
use opsgraph_core::node::NodeType;
use opsgraph_core::pagination::{Connection, Edge, PageInfo};
use opsgraph_core::{AppError, AppResult, RequestCtx};
use opsgraph_derive::GqlInput;
use opsgraph_work::nodes::Project;
use serde::Deserialize;

use crate::enums::{DocumentKind, SearchMode};
use crate::nodes::{Collection, Document};
use crate::service::search::{self, Filter, Hit, MAX_FIRST, RRF_K, Request};

/// What a search looks within.
#[derive(Debug, Default, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct SearchFilter {
    /// Only these collections.
    pub collections: Option<Vec<Id>>,
    /// Documents with any of these tags.
    pub tags: Option<Vec<String>>,
    /// Documents of these kinds.
    pub kinds: Option<Vec<DocumentKind>>,
    /// Documents of this project's collections or linked to it.
    pub project: Option<Id>,
    /// Documents linked to this entity (any node).
    pub linked_to: Option<Id>,
    /// Documents changed after this instant.
    pub updated_after: Option<DateTime<FixedOffset>>,
}

/// How HYBRID fuses its two lists (reciprocal rank fusion).
#[derive(Debug, Default, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct SearchFusion {
    /// k of 1 / (k + rank) (default 60).
    pub k: Option<f64>,
    /// Weight of the keyword rank (default 1).
    pub keyword_weight: Option<f64>,
    /// Weight of the semantic rank (default 1).
    pub semantic_weight: Option<f64>,
}

/// A character range of a snippet.
struct TextRange(usize, usize);

/// A hit as GraphQL reads it.
struct HitView {
    hit: Hit,
    snippet: String,
    highlights: Vec<(usize, usize)>,
}

fn filter(f: SearchFilter) -> AppResult<Filter> {
    let ids = |v: Option<Vec<Id>>| -> AppResult<Option<Vec<uuid::Uuid>>> {
        v.map(|v| v.iter().map(|g| Collection::decode(g, "filter.collections")).collect()).transpose()
    };
    let any = |g: Option<Id>, field: &str| -> AppResult<Option<uuid::Uuid>> {
        g.map(|g| opsgraph_core::id::decode(&g).map(|(_, id)| id).map_err(|_| AppError::bad_input(field, "not an ID")))
            .transpose()
    };
    Ok(Filter {
        collections: ids(f.collections)?,
        tags: f.tags.map(|t| t.iter().map(|t| t.trim().to_lowercase()).collect()),
        kinds: f.kinds.map(|k| k.iter().map(|k| k.as_str().to_owned()).collect()),
        project: f.project.map(|g| Project::decode(&g, "filter.project")).transpose()?,
        linked_to: any(f.linked_to, "filter.linkedTo")?,
        updated_after: f.updated_after,
    })
}

fn offset(after: Option<&str>) -> AppResult<usize> {
    match after {
        None => Ok(0),
        Some(c) => c
            .strip_prefix("hit:")
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(|| AppError::bad_input("after", "not a search cursor")),
    }
}

fn arg<T: serde::de::DeserializeOwned + Default>(
    ctx: &async_graphql::dynamic::ResolverContext<'_>,
    name: &str,
) -> AppResult<T> {
    match ctx.args.get(name).filter(|v| !v.is_null()) {
        None => Ok(T::default()),
        Some(v) => v.deserialize().map_err(|e| AppError::bad_input(name, e.message)),
    }
}

async fn run(ctx: &async_graphql::dynamic::ResolverContext<'_>) -> async_graphql::Result<Connection> {
    let req = RequestCtx::of(ctx)?;
    let query = ctx.args.try_get("query")?.string()?.to_owned();
    let mode = match ctx.args.get("mode").filter(|v| !v.is_null()) {
        Some(v) => SearchMode::from_text_or_err(v.enum_name()?)?,
        None => SearchMode::Hybrid,
    };
    let first = match ctx.args.get("first").filter(|v| !v.is_null()) {
        Some(v) => usize::try_from(v.i64()?).map_err(|_| AppError::bad_input("first", "first must be positive"))?,
        None => 10,
    };
    let after = ctx.args.get("after").filter(|v| !v.is_null()).map(|v| v.string().map(str::to_owned)).transpose()?;
    let fusion: SearchFusion = arg(ctx, "fusion")?;
    let language = match ctx.args.get("language").filter(|v| !v.is_null()) {
        Some(v) => crate::service::collections::language("language", Some(v.string()?), "english")?,
        None => "english".to_owned(),
    };
    let weights =
        (fusion.k.unwrap_or(RRF_K), fusion.keyword_weight.unwrap_or(1.0), fusion.semantic_weight.unwrap_or(1.0));
    if !(weights.0 >= 0.0 && weights.0 <= 1000.0 && weights.1 >= 0.0 && weights.2 >= 0.0 && weights.1 + weights.2 > 0.0)
    {
        return Err(AppError::bad_input("fusion", "k is 0..1000 and the weights are >= 0, not both 0").into());
    }
    let start = offset(after.as_deref())?;
    let r = Request {
        query: query.clone(),
        mode,
        filter: filter(arg(ctx, "filter")?)?,
        first,
        offset: start,
        language,
        fusion: weights,
    };
    let models = ctx.data_opt::<crate::embed::Models>().cloned().unwrap_or_default();
    let found = search::search(req.db.as_ref(), &req.session, &models, &r).await?;
    let edges: Vec<Edge> = found
        .hits
        .into_iter()
        .enumerate()
        .map(|(i, hit)| {
            let (snippet, highlights) = search::snippet(&hit.text, &query, 240);
            Edge { cursor: format!("hit:{}", start + i + 1), node: Arc::new(HitView { hit, snippet, highlights }) }
        })
        .collect();
    let page_info = PageInfo {
        has_next_page: start + edges.len() < found.total,
        has_previous_page: start > 0,
        start_cursor: edges.first().map(|e| e.cursor.clone()),
        end_cursor: edges.last().map(|e| e.cursor.clone()),
    };
    Ok(Connection { agg: None, edges, page_info, total: Some(found.total as i64) })
}

fn search_field() -> Field {
    Field::new("search", TypeRef::named_nn("SearchHitConnection"), |ctx| {
        FieldFuture::new(async move { Ok(Some(FieldValue::owned_any(run(&ctx).await?))) })
    })
    .argument(InputValue::new("query", TypeRef::named_nn(TypeRef::STRING)).description("The words or question."))
    .argument(
        InputValue::new("mode", TypeRef::named(SearchMode::NAME)).description("KEYWORD, SEMANTIC or HYBRID (default)."),
    )
    .argument(InputValue::new("filter", TypeRef::named("SearchFilter")).description("What to look within."))
    .argument(
        InputValue::new("first", TypeRef::named(TypeRef::INT))
            .description(format!("Hits (1..{MAX_FIRST}, default 10).")),
    )
    .argument(InputValue::new("after", TypeRef::named(TypeRef::STRING)).description("Continue after this cursor."))
    .argument(
        InputValue::new("language", TypeRef::named(TypeRef::STRING))
            .description("The query's language (default english)."),
    )
    .argument(InputValue::new("fusion", TypeRef::named("SearchFusion")).description("HYBRID's fusion parameters."))
    .description(
        "Search the documents you can read: keyword (full text, typo-tolerant), semantic (each collection's \
         embedding model) or hybrid (reciprocal rank fusion). Documents are keyword-searchable when saved, semantically once indexed.",
    )
}

fn hit_object() -> Object {
    type H = HitView;
    let nn = TypeRef::named_nn;
    Object::new("SearchHit")
        .description("A matching chunk of a document.")
        .field(ref_field_nn::<H, Document>("document", "The document.", |h| h.hit.document_id))
        .field(prop::<H>("text", nn(TypeRef::STRING), "The chunk's text.", |h| h.hit.text.clone().into()))
        .field(prop::<H>("position", nn(TypeRef::INT), "The chunk's place in the document, from 0.", |h| {
            h.hit.position.into()
        }))
        .field(prop::<H>("tokenCount", nn(TypeRef::INT), "The chunk's length in the model's tokens.", |h| {
            h.hit.token_count.into()
        }))
        .field(prop::<H>("snippet", nn(TypeRef::STRING), "A window of the chunk around the first query word.", |h| {
            h.snippet.clone().into()
        }))
        .field(
            Field::new("highlights", TypeRef::named_nn_list_nn("TextRange"), |ctx| {
                FieldFuture::new(async move {
                    let h = parent::<H>(&ctx)?;
                    Ok(Some(FieldValue::list(h.highlights.iter().map(|r| FieldValue::owned_any(TextRange(r.0, r.1))))))
                })
            })
            .description("Query words in the snippet."),
        )
        .field(prop::<H>("keywordRank", TypeRef::named(TypeRef::INT), "Rank in the keyword list (1 = best).", |h| {
            opt_i(h.hit.keyword_rank)
        }))
        .field(prop::<H>("keywordScore", TypeRef::named(TypeRef::FLOAT), "Share of the query the chunk matched, 0..1: the weight (inverse document frequency) of the words it holds for a plain question, 1 for a query in search syntax (all words, phrases, exclusions), the trigram similarity for a typo match. Scales the keyword rank in HYBRID.", |h| {
            opt_f(h.hit.keyword_score)
        }))
        .field(prop::<H>("vectorRank", TypeRef::named(TypeRef::INT), "Rank in the semantic list (1 = nearest).", |h| {
            opt_i(h.hit.vector_rank)
        }))
        .field(prop::<H>("vectorDistance", TypeRef::named(TypeRef::FLOAT), "Cosine distance to the query.", |h| {
            opt_f(h.hit.vector_distance)
        }))
        .field(prop::<H>("score", nn(TypeRef::FLOAT), "The fused score the hits are ranked by.", |h| {
            h.hit.fused.into()
        }))
        .field(prop::<H>(
            "documentRevision",
            nn(TypeRef::INT),
            "Citation: the document revision the chunk is from.",
            |h| h.hit.document_version.into(),
        ))
        .field(prop::<H>("charStart", nn(TypeRef::INT), "Citation: first character in that revision's body.", |h| {
            h.hit.char_start.into()
        }))
        .field(prop::<H>("charEnd", nn(TypeRef::INT), "Citation: one past the last character.", |h| {
            h.hit.char_end.into()
        }))
}

/// Registers `Query.search` and its types.
pub fn register(parts: &mut SchemaParts) {
    parts.input::<SearchFilter>().input::<SearchFusion>();
    parts.object(
        Object::new("TextRange")
            .description("A range of characters [start, end).")
            .field(prop::<TextRange>("start", TypeRef::named_nn(TypeRef::INT), "First character.", |r| {
                (r.0 as i64).into()
            }))
            .field(prop::<TextRange>("end", TypeRef::named_nn(TypeRef::INT), "One past the last.", |r| {
                (r.1 as i64).into()
            })),
    );
    parts.object(hit_object());
    for o in connection_objects("SearchHit") {
        parts.object(o);
    }
    parts.query(search_field());
}

fn opt_f(v: Option<f64>) -> async_graphql::Value {
    v.map_or(async_graphql::Value::Null, async_graphql::Value::from)
}

fn opt_i(v: Option<usize>) -> async_graphql::Value {
    v.map_or(async_graphql::Value::Null, |v| async_graphql::Value::from(v as i64))
}
