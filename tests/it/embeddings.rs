//! Embedding models side by side: an OpenAI-compatible endpoint (a local fake speaking the
//! protocol) configured beside the local model, chosen per collection, retried through
//! throttling, failing visibly, switched back to the local model, vectors imported from
//! elsewhere, and a collection whose model the server stopped offering.

use std::sync::atomic::Ordering;

use opsgraph_e2e::fake_openai::{FakeOpenAi, KEY};
use opsgraph_e2e::{TestApp, code, data, field};
use serde_json::{Value, json};

const MODEL: &str = "fake-embed-64";
const COLLECTION: &str =
    "mutation($i: CreateCollectionInput!) { createCollection(input: $i) { collection { id embeddingModel version } } }";
const DOC: &str = "mutation($i: CreateDocumentInput!) { createDocument(input: $i) { document { id } } }";
const STATUS: &str = "query($id: ID!) { node(id: $id) { ... on Document { indexStatus indexError } } }";
const SEARCH: &str = "query($q: String!, $c: [ID!]) { search(query: $q, mode: SEMANTIC, filter: { collections: $c }, first: 3) { nodes { document { title } vectorDistance } } }";

async fn status(app: &TestApp, token: &str, id: &Value) -> (String, String) {
    let r = app.gql(Some(token), STATUS, json!({ "id": id })).await;
    let n = &data(&r)["node"];
    (n["indexStatus"].as_str().unwrap_or_default().into(), n["indexError"].as_str().unwrap_or_default().into())
}

async fn doc(app: &TestApp, token: &str, collection: &Value, title: &str, body: &str) -> Value {
    let input = json!({ "collectionId": collection, "kind": "NOTE", "title": title, "body": body });
    data(&app.gql(Some(token), DOC, json!({ "i": input })).await)["createDocument"]["document"]["id"].clone()
}

async fn top(app: &TestApp, token: &str, q: &str, collection: &Value) -> String {
    let r = app.gql(Some(token), SEARCH, json!({ "q": q, "c": [collection] })).await;
    data(&r)["search"]["nodes"][0]["document"]["title"].as_str().unwrap_or_else(|| panic!("{r}")).to_owned()
}

#[tokio::test]
async fn a_remote_model_beside_the_local_one() {
    let fake = FakeOpenAi::start(64).await;
    let url = fake.url.clone();
    let app = TestApp::spawn_with(|c| {
        c.embed_remote_url = Some(url);
        c.embed_remote_key = Some(KEY.into());
        c.embed_remote_model = MODEL.into();
        c.embed_remote_dimensions = 64;
        c.embed_remote_retries = 3;
    })
    .await;
    let (owner, _) = app.sign_up("o@example.com", "Models Co").await;
    let models = app.gql(Some(&owner), "{ embeddingModels { name dimensions provider isDefault } }", json!({})).await;
    assert_eq!(
        data(&models)["embeddingModels"],
        json!([
            { "name": "all-MiniLM-L6-v2", "dimensions": 384, "provider": "LOCAL", "isDefault": true },
            { "name": MODEL, "dimensions": 64, "provider": "OPENAI_COMPATIBLE", "isDefault": false }
        ])
    );
    let bad = json!({ "name": "X", "visibility": "ORGANIZATION", "embeddingModel": "no-such-model" });
    let r = app.gql(Some(&owner), COLLECTION, json!({ "i": bad })).await;
    assert_eq!((code(&r), field(&r)), (Some("BAD_USER_INPUT"), Some("embeddingModel")));
    let input = json!({ "name": "Remote", "visibility": "ORGANIZATION", "embeddingModel": MODEL });
    let r = app.gql(Some(&owner), COLLECTION, json!({ "i": input })).await;
    let c = data(&r)["createCollection"]["collection"].clone();
    assert_eq!(c["embeddingModel"], MODEL);

    // Throttled twice, then served: the indexer's batch goes through on its retries.
    let expenses =
        doc(&app, &owner, &c["id"], "Expenses", "Submit every receipt for travel expenses within thirty days.").await;
    doc(&app, &owner, &c["id"], "Holidays", "Vacation days are requested in the calendar two weeks ahead.").await;
    fake.state.throttle_next.store(2, Ordering::SeqCst);
    assert_eq!(app.index().await, 2);
    assert_eq!(fake.state.calls.load(Ordering::SeqCst), 3, "two 429s and the answer");
    assert_eq!(status(&app, &owner, &expenses).await.0, "INDEXED");
    let stored = "SELECT count(*) AS n FROM chunk_embeddings WHERE model = 'fake-embed-64' AND dimensions = 64";
    assert_eq!(app.count(stored).await, 2);
    assert_eq!(top(&app, &owner, "receipt for expenses", &c["id"]).await, "Expenses", "the query embedded remotely");
    let index =
        "SELECT count(*) AS n FROM pg_indexes WHERE tablename = 'chunk_embeddings' AND indexdef LIKE '%fake-embed-64%'";
    assert_eq!(app.count(index).await, 1, "the model's own HNSW index");

    // A broken endpoint: the document says why, without the key; fixed, it is indexed.
    fake.state.broken.store(true, Ordering::SeqCst);
    let later = doc(&app, &owner, &c["id"], "Deploys", "Roll back a failed release with helm.").await;
    app.index().await;
    let (st, why) = status(&app, &owner, &later).await;
    assert_eq!(st, "FAILED");
    assert!(why.contains("500") && !why.contains(KEY), "{why}");
    fake.state.broken.store(false, Ordering::SeqCst);
    app.index().await;
    assert_eq!(status(&app, &owner, &later).await.0, "INDEXED");

    // Back to the local model: every document is embedded again, the remote vectors stay.
    let update =
        "mutation($i: UpdateCollectionInput!) { updateCollection(input: $i) { collection { embeddingModel } } }";
    let to_local = json!({ "id": c["id"], "expectedVersion": c["version"], "embeddingModel": "all-MiniLM-L6-v2" });
    data(&app.gql(Some(&owner), update, json!({ "i": to_local })).await);
    assert_eq!(status(&app, &owner, &expenses).await.0, "PENDING");
    let calls = fake.state.calls.load(Ordering::SeqCst);
    assert_eq!(app.index().await, 3);
    assert_eq!(fake.state.calls.load(Ordering::SeqCst), calls, "the local model embeds it");
    assert_eq!(status(&app, &owner, &expenses).await.0, "INDEXED");
    assert_eq!(app.count(stored).await, 3, "side by side");
    assert_eq!(top(&app, &owner, "how do I claim a receipt", &c["id"]).await, "Expenses");

    // Vectors from elsewhere (000's 1536-dimension ada-002) import as another model.
    let import = "mutation($i: ImportEmbeddingsInput!) { importEmbeddings(input: $i) { model dimensions imported } }";
    let v: Vec<f64> = (0..1536).map(|i| f64::from(i % 7) - 3.0).collect();
    let good = json!({ "model": "text-embedding-ada-002", "vectors": [{ "documentId": expenses, "embedding": v }] });
    let r = app.gql(Some(&owner), import, json!({ "i": good })).await;
    assert_eq!(
        data(&r)["importEmbeddings"],
        json!({ "model": "text-embedding-ada-002", "dimensions": 1536, "imported": 1 })
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM chunk_embeddings WHERE dimensions = 1536").await, 1);
    let wrong = json!({ "model": MODEL, "vectors": [{ "documentId": expenses, "embedding": v }] });
    let r = app.gql(Some(&owner), import, json!({ "i": wrong })).await;
    assert_eq!((code(&r), field(&r)), (Some("BAD_USER_INPUT"), Some("model")), "64 dimensions, not 1536");
    let zero = json!({ "model": "m", "vectors": [{ "documentId": expenses, "embedding": [0.0, 0.0] }] });
    assert_eq!(code(&app.gql(Some(&owner), import, json!({ "i": zero })).await), Some("BAD_USER_INPUT"));
    let (member, _) = app.member(&owner, "m@example.com", "MEMBER").await;
    assert_eq!(code(&app.gql(Some(&member), import, json!({ "i": good })).await), Some("FORBIDDEN"));

    // A model the server no longer offers: its documents say so instead of waiting forever.
    app.count(
        "WITH u AS (UPDATE collections SET embedding_model = 'retired-model' RETURNING 1) SELECT count(*) AS n FROM u",
    )
    .await;
    let orphan = doc(&app, &owner, &c["id"], "Orphan", "Nobody embeds this.").await;
    app.index().await;
    let (st, why) = status(&app, &owner, &orphan).await;
    assert_eq!(
        (st.as_str(), why.as_str()),
        ("FAILED", "embedding model retired-model is not configured on this server")
    );
    app.finish().await;
}
