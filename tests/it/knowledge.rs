//! The knowledge domain through the endpoint: collections whose visibility Row Level
//! Security enforces in every read and search (members of different teams, a CLIENT, a
//! grant), documents with revisions, keyword search at once, semantic and hybrid search
//! once the background indexer has embedded the chunks with the local model.

use opsgraph_e2e::live::Live;
use opsgraph_e2e::{TestApp, code, data};
use serde_json::{Value, json};

const COLLECTION: &str = "mutation($i: CreateCollectionInput!) { createCollection(input: $i) { collection { id } } }";
const DOC: &str =
    "mutation($i: CreateDocumentInput!) { createDocument(input: $i) { document { id version revision indexStatus } } }";
const SEARCH: &str = "query($q: String!, $m: SearchMode, $f: SearchFilter) { search(query: $q, mode: $m, filter: $f, first: 5) { \
    totalCount nodes { document { title } text snippet highlights { start end } keywordRank vectorRank vectorDistance score \
    documentRevision charStart charEnd } } }";

const EXPENSES: &str = "# Expenses\n\nSubmit every receipt within thirty days of spending. Managers approve claims \
    weekly and finance reimburses approved claims with the next payroll.\n\n## Travel\n\nBook trains in standard class; \
    flights need a manager's approval before booking.";
const HOLIDAYS: &str = "# Holidays\n\nEveryone gets twenty-five days of paid vacation a year. Request time off in the \
    calendar at least two weeks ahead; your manager approves it.";
const RUNBOOK: &str = "# Deploy runbook\n\nRoll back a failed Kubernetes release with helm rollback, then page the \
    on-call engineer and write an incident note.";

async fn id(app: &TestApp, token: &str, q: &str, input: Value, path: [&str; 2]) -> String {
    let r = app.gql(Some(token), q, json!({ "i": input })).await;
    data(&r)[path[0]][path[1]]["id"].as_str().unwrap_or_else(|| panic!("{q}: {r}")).to_owned()
}

async fn titles(app: &TestApp, token: &str, q: &str, mode: &str, filter: Value) -> Vec<String> {
    let r = app.gql(Some(token), SEARCH, json!({ "q": q, "m": mode, "f": filter })).await;
    data(&r)["search"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("search failed: {r}"))
        .iter()
        .map(|h| h["document"]["title"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn index(app: &TestApp) -> u64 {
    app.index().await
}

#[tokio::test]
async fn visibility_decides_every_read_and_search() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("o@example.com", "Know Co").await;
    let (alice, alice_id) = app.member(&owner, "alice@example.com", "MEMBER").await;
    let (bob, _) = app.member(&owner, "bob@example.com", "MEMBER").await;
    let (client, client_id) = app.member(&owner, "client@example.com", "CLIENT").await;
    let team = data(
        &app.gql(Some(&owner), "mutation { createTeam(input: { name: \"Eng\" }) { team { id } } }", json!({})).await,
    )["createTeam"]["team"]["id"]
        .clone();
    let add =
        "mutation($t: ID!, $m: ID!) { addTeamMember(input: { teamId: $t, membershipId: $m }) { teamMember { id } } }";
    data(&app.gql(Some(&owner), add, json!({ "t": team, "m": alice_id })).await);

    let org_wide = json!({ "name": "Handbook", "visibility": "ORGANIZATION" });
    assert_eq!(code(&app.gql(Some(&alice), COLLECTION, json!({ "i": org_wide })).await), Some("FORBIDDEN"));
    let handbook = id(&app, &owner, COLLECTION, org_wide, ["createCollection", "collection"]).await;
    let eng = json!({ "name": "Eng runbooks", "visibility": "TEAM", "teamId": team });
    let runbooks = id(&app, &alice, COLLECTION, eng, ["createCollection", "collection"]).await;
    for (c, title, body, who) in [
        (&handbook, "Expenses", EXPENSES, &owner),
        (&handbook, "Holidays", HOLIDAYS, &bob),
        (&runbooks, "Deploy", RUNBOOK, &alice),
    ] {
        let input = json!({ "collectionId": c, "kind": "WIKI_PAGE", "title": title, "body": body, "tags": ["policy"] });
        let r = app.gql(Some(who), DOC, json!({ "i": input })).await;
        assert_eq!(data(&r)["createDocument"]["document"]["indexStatus"], "PENDING");
    }
    let outsider = json!({ "collectionId": runbooks, "kind": "NOTE", "title": "x", "body": "y" });
    assert_eq!(code(&app.gql(Some(&bob), DOC, json!({ "i": outsider })).await), Some("NOT_FOUND"), "bob cannot see it");

    // Keyword search works at once, and only over what each reader may open.
    assert_eq!(titles(&app, &bob, "receipt", "KEYWORD", Value::Null).await, ["Expenses"]);
    assert_eq!(titles(&app, &alice, "kubernetes rollback", "KEYWORD", Value::Null).await, ["Deploy"]);
    assert!(titles(&app, &bob, "kubernetes rollback", "KEYWORD", Value::Null).await.is_empty(), "team only");
    assert!(titles(&app, &client, "receipt", "KEYWORD", Value::Null).await.is_empty(), "clients see nothing");
    assert_eq!(titles(&app, &bob, "recipt", "KEYWORD", Value::Null).await, ["Expenses"], "typos: trigrams");
    let count = "{ organization { collections { totalCount } } }";
    assert_eq!(data(&app.gql(Some(&bob), count, json!({})).await)["organization"]["collections"]["totalCount"], 1);
    assert_eq!(data(&app.gql(Some(&owner), count, json!({})).await)["organization"]["collections"]["totalCount"], 2);

    // A grant opens one collection to the client.
    let grant = "mutation($c: ID!, $m: ID) { setCollectionAccess(input: { collectionId: $c, membershipId: $m, access: READ }) { collection { id } } }";
    data(&app.gql(Some(&owner), grant, json!({ "c": handbook, "m": client_id })).await);
    assert_eq!(titles(&app, &client, "receipt", "KEYWORD", Value::Null).await, ["Expenses"]);
    let write = json!({ "collectionId": handbook, "kind": "NOTE", "title": "x", "body": "y" });
    assert_eq!(code(&app.gql(Some(&client), DOC, json!({ "i": write })).await), Some("FORBIDDEN"));

    // Semantic search once indexed; hybrid fuses both lists.
    let question = "how do I get my money back for a train ticket";
    assert!(titles(&app, &bob, question, "SEMANTIC", Value::Null).await.is_empty(), "nothing embedded yet");
    assert!(index(&app).await >= 3);
    assert_eq!(index(&app).await, 0, "each chunk is embedded once");
    let status =
        "query($id: ID!) { node(id: $id) { ... on Collection { documents { nodes { title indexStatus } } } } }";
    let docs =
        data(&app.gql(Some(&owner), status, json!({ "id": handbook })).await)["node"]["documents"]["nodes"].clone();
    assert!(docs.as_array().is_some_and(|d| d.iter().all(|d| d["indexStatus"] == "INDEXED")), "{docs}");
    assert_eq!(
        titles(&app, &bob, question, "SEMANTIC", Value::Null).await.first().map(String::as_str),
        Some("Expenses")
    );
    let deploy = titles(&app, &bob, "rolling back a broken deployment", "SEMANTIC", Value::Null).await;
    assert!(!deploy.iter().any(|t| t == "Deploy"), "semantic hits stay within what bob reads: {deploy:?}");
    let mine = titles(&app, &alice, "rolling back a broken deployment", "SEMANTIC", Value::Null).await;
    assert_eq!(mine.first().map(String::as_str), Some("Deploy"));
    let r = app.gql(Some(&bob), SEARCH, json!({ "q": "vacation days", "m": "HYBRID" })).await;
    let top = data(&r)["search"]["nodes"][0].clone();
    assert_eq!(top["document"]["title"], "Holidays", "{r}");
    assert!(top["keywordRank"].is_number() && top["vectorRank"].is_number(), "found by both: {top}");
    assert_eq!(top["documentRevision"], 1);
    let text = top["text"].as_str().unwrap_or_default();
    let marked: Vec<String> = top["highlights"]
        .as_array()
        .map(|hs| {
            hs.iter()
                .map(|h| {
                    let (s, e) = (h["start"].as_u64().unwrap_or(0) as usize, h["end"].as_u64().unwrap_or(0) as usize);
                    top["snippet"].as_str().unwrap_or_default().chars().skip(s).take(e - s).collect()
                })
                .collect()
        })
        .unwrap_or_default();
    assert!(marked.iter().any(|w| w.eq_ignore_ascii_case("vacation")), "{marked:?} in {text}");
    let filtered = json!({ "collections": [runbooks] });
    assert!(titles(&app, &bob, "vacation days", "HYBRID", filtered).await.is_empty(), "filters never widen access");
    app.finish().await;
}

#[tokio::test]
async fn documents_keep_every_revision() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("o@example.com", "Rev Co").await;
    let c = id(
        &app,
        &owner,
        COLLECTION,
        json!({ "name": "Notes", "visibility": "PRIVATE" }),
        ["createCollection", "collection"],
    )
    .await;
    let d = data(
        &app.gql(Some(&owner), DOC, json!({ "i": { "collectionId": c, "kind": "NOTE", "title": "Plan", "body": "First draft about onboarding." } }))
            .await,
    )["createDocument"]["document"]
        .clone();
    let upd = "mutation($i: UpdateDocumentInput!) { updateDocument(input: $i) { document { version revision indexStatus body } } }";
    let same = app
        .gql(
            Some(&owner),
            upd,
            json!({ "i": { "id": d["id"], "expectedVersion": 1, "body": "First draft about onboarding." } }),
        )
        .await;
    assert_eq!(data(&same)["updateDocument"]["document"]["version"], 1, "identical content is no new version");
    index(&app).await;
    let new = app
        .gql(
            Some(&owner),
            upd,
            json!({ "i": { "id": d["id"], "expectedVersion": 1, "body": "Second draft about laptops." } }),
        )
        .await;
    let doc = data(&new)["updateDocument"]["document"].clone();
    assert_eq!((doc["revision"].as_i64(), doc["indexStatus"].as_str()), (Some(2), Some("PENDING")));
    assert_eq!(titles(&app, &owner, "laptops", "KEYWORD", Value::Null).await, ["Plan"]);
    assert!(titles(&app, &owner, "onboarding", "KEYWORD", Value::Null).await.is_empty(), "old chunks are gone");
    let diff = "query($id: ID!) { node(id: $id) { ... on Document { diff(from: 1, to: 2) { change text oldLine newLine } } } }";
    assert_eq!(
        data(&app.gql(Some(&owner), diff, json!({ "id": d["id"] })).await)["node"]["diff"],
        json!([
            { "change": "DELETE", "text": "First draft about onboarding.", "oldLine": 1, "newLine": null },
            { "change": "INSERT", "text": "Second draft about laptops.", "oldLine": null, "newLine": 1 }
        ])
    );
    let restore = "mutation($id: ID!) { restoreDocumentRevision(input: { id: $id, expectedVersion: 2, revision: 1 }) { document { revision body versions { nodes { revision body } } } } }";
    let r =
        data(&app.gql(Some(&owner), restore, json!({ "id": d["id"] })).await)["restoreDocumentRevision"]["document"]
            .clone();
    assert_eq!(r["revision"], 3);
    assert_eq!(r["body"], "First draft about onboarding.");
    assert_eq!(r["versions"]["nodes"].as_array().map(Vec::len), Some(3));
    let del = "mutation($id: ID!) { deleteDocument(input: { id: $id }) { document { id } } }";
    data(&app.gql(Some(&owner), del, json!({ "id": d["id"] })).await);
    assert!(titles(&app, &owner, "onboarding", "KEYWORD", Value::Null).await.is_empty(), "deleted leaves search");
    let back = "mutation($id: ID!) { restoreDocument(input: { id: $id }) { document { id } } }";
    data(&app.gql(Some(&owner), back, json!({ "id": d["id"] })).await);
    assert_eq!(titles(&app, &owner, "onboarding", "KEYWORD", Value::Null).await, ["Plan"]);
    app.finish().await;
}

/// Documents link to other domains' entities both ways, relate by meaning, and a search's
/// statement count does not grow with its hits.
#[tokio::test]
async fn links_related_documents_and_constant_statements() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("o@example.com", "Link Co").await;
    let c = id(
        &app,
        &owner,
        COLLECTION,
        json!({ "name": "Wiki", "visibility": "ORGANIZATION" }),
        ["createCollection", "collection"],
    )
    .await;
    let mut docs = vec![];
    for (title, body) in [
        ("Expenses", EXPENSES),
        ("Holidays", HOLIDAYS),
        ("Deploy", RUNBOOK),
        ("Travel", "Book trains early; flights need approval. Keep every receipt of the trip."),
    ] {
        let input = json!({ "collectionId": c, "kind": "ARTICLE", "title": title, "body": body });
        docs.push(
            data(&app.gql(Some(&owner), DOC, json!({ "i": input })).await)["createDocument"]["document"]["id"].clone(),
        );
    }
    let p = data(
        &app.gql(
            Some(&owner),
            "mutation { createProject(input: { key: \"KB\", name: \"KB\" }) { project { id } } }",
            json!({}),
        )
        .await,
    )["createProject"]["project"]["id"]
        .clone();
    let link = "mutation($d: ID!, $t: ID!, $l: Boolean) { linkDocument(input: { documentId: $d, targetId: $t, linked: $l }) { document { id } } }";
    data(&app.gql(Some(&owner), link, json!({ "d": docs[2], "t": p })).await);
    data(&app.gql(Some(&owner), link, json!({ "d": docs[2], "t": p })).await);
    let both = "query($p: ID!, $d: ID!) { p: node(id: $p) { ... on Project { documents { title } } } \
        d: node(id: $d) { ... on Document { linkedTo { id } } } }";
    let r = app.gql(Some(&owner), both, json!({ "p": p, "d": docs[2] })).await;
    assert_eq!(data(&r)["p"]["documents"], json!([{ "title": "Deploy" }]), "linking twice links once");
    assert_eq!(data(&r)["d"]["linkedTo"], json!([{ "id": p }]));
    let filtered = titles(&app, &owner, "rollback", "KEYWORD", json!({ "project": p })).await;
    assert_eq!(filtered, ["Deploy"]);
    assert_eq!(code(&app.gql(Some(&owner), link, json!({ "d": docs[2], "t": c })).await), Some("BAD_USER_INPUT"));
    data(&app.gql(Some(&owner), link, json!({ "d": docs[2], "t": p, "l": false })).await);
    assert_eq!(data(&app.gql(Some(&owner), both, json!({ "p": p, "d": docs[2] })).await)["p"]["documents"], json!([]));

    index(&app).await;
    let related = "query($d: ID!) { node(id: $d) { ... on Document { related(first: 1) { title } } } }";
    let r = app.gql(Some(&owner), related, json!({ "d": docs[0] })).await;
    assert_eq!(data(&r)["node"]["related"], json!([{ "title": "Travel" }]), "expenses relate to travel");

    let deep = "query($q: String!) { search(query: $q, mode: KEYWORD, first: 10) { nodes { document { title collection { name } author { user { email } } } } } }";
    let one = app.gql(Some(&owner), deep, json!({ "q": "kubernetes" })).await;
    let many = app.gql(Some(&owner), deep, json!({ "q": "approval receipt kubernetes" })).await;
    assert!(
        data(&many)["search"]["nodes"].as_array().map(Vec::len)
            > data(&one)["search"]["nodes"].as_array().map(Vec::len)
    );
    assert_eq!(one["extensions"]["sqlStatements"], many["extensions"]["sqlStatements"], "{one} {many}");
    app.finish().await;
}

/// A collection's documents live: saved (PENDING), then indexed by the background indexer,
/// in commit order; someone who cannot read the collection cannot follow it.
#[tokio::test]
async fn index_status_is_live() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("o@example.com", "Live Know").await;
    let (other, _) = app.member(&owner, "x@example.com", "MEMBER").await;
    let c = id(
        &app,
        &owner,
        COLLECTION,
        json!({ "name": "Mine", "visibility": "PRIVATE" }),
        ["createCollection", "collection"],
    )
    .await;
    let sub = "subscription($c: ID!, $a: EventSeq) { documentChanged(collectionId: $c, after: $a) { kind documentId document { indexStatus } } }";
    let from = app.count("SELECT coalesce(max(last_seq), 0) AS n FROM event_counters").await.to_string();
    let mut live = Live::connect(&app.base, &owner).await;
    live.subscribe("k", sub, json!({ "c": c, "a": from })).await;
    let input = json!({ "collectionId": c, "kind": "NOTE", "title": "Live", "body": "A note to index." });
    let d = data(&app.gql(Some(&owner), DOC, json!({ "i": input })).await)["createDocument"]["document"]["id"].clone();
    let saved = live.next_data("k").await;
    assert_eq!(
        (saved["documentChanged"]["kind"].as_str(), saved["documentChanged"]["documentId"].clone()),
        (Some("document.saved"), d)
    );
    index(&app).await;
    let indexed = live.next_data("k").await;
    assert_eq!(indexed["documentChanged"]["kind"], "document.indexed");
    assert_eq!(indexed["documentChanged"]["document"]["indexStatus"], "INDEXED");
    let mut outsider = Live::connect(&app.base, &other).await;
    outsider.subscribe("o", sub, json!({ "c": c, "a": from })).await;
    match outsider.recv(std::time::Duration::from_secs(10)).await {
        opsgraph_e2e::live::Frame::Msg(m) => assert!(m.to_string().contains("NOT_FOUND"), "{m}"),
        other => panic!("expected an error, got {other:?}"),
    }
    app.finish().await;
}

/// An edit re-embeds only the chunks whose text changed.
#[tokio::test]
async fn an_edit_reembeds_only_what_changed() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("o@example.com", "Edit Co").await;
    let c = id(
        &app,
        &owner,
        COLLECTION,
        json!({ "name": "Long", "visibility": "PRIVATE" }),
        ["createCollection", "collection"],
    )
    .await;
    let paragraph = |n: usize| {
        format!("## Section {n}\n\n")
            + &(0..12)
                .map(|i| format!("Fact {i} of section {n} is written down here for the record."))
                .collect::<Vec<_>>()
                .join(" ")
    };
    let body = |last: &str| (0..6).map(paragraph).collect::<Vec<_>>().join("\n\n") + "\n\n" + last;
    let input = json!({ "collectionId": c, "kind": "ARTICLE", "title": "Long", "body": body("The end.") });
    let d = data(&app.gql(Some(&owner), DOC, json!({ "i": input })).await)["createDocument"]["document"]["id"].clone();
    let first = index(&app).await;
    assert!(first >= 3, "a long body makes several chunks ({first})");
    let upd = "mutation($i: UpdateDocumentInput!) { updateDocument(input: $i) { document { revision } } }";
    let edit = json!({ "i": { "id": d, "expectedVersion": 1, "body": body("A different ending, rewritten.") } });
    data(&app.gql(Some(&owner), upd, edit).await);
    let chunks = app.count("SELECT count(*) AS n FROM chunks").await as u64;
    let second = index(&app).await;
    assert!(second >= 1 && second < chunks, "re-embedded {second} of {chunks} chunks");
    assert_eq!(
        app.count("SELECT count(*) AS n FROM chunk_embeddings").await as u64,
        chunks,
        "every chunk embedded once"
    );
    app.finish().await;
}

/// Folders nest inside one collection and never into themselves; documents file into them.
#[tokio::test]
async fn folders_nest_within_their_collection() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("o@example.com", "Folder Co").await;
    let (reader, _) = app.member(&owner, "r@example.com", "VIEWER").await;
    let mk = |name: &str| json!({ "name": name, "visibility": "ORGANIZATION" });
    let c = id(&app, &owner, COLLECTION, mk("Wiki"), ["createCollection", "collection"]).await;
    let other = id(&app, &owner, COLLECTION, mk("Other"), ["createCollection", "collection"]).await;
    let folder = "mutation($i: CreateFolderInput!) { createFolder(input: $i) { folder { id version parent { id } } } }";
    let top =
        id(&app, &owner, folder, json!({ "collectionId": c, "name": "Policies" }), ["createFolder", "folder"]).await;
    let sub = id(
        &app,
        &owner,
        folder,
        json!({ "collectionId": c, "name": "Travel", "parentId": top }),
        ["createFolder", "folder"],
    )
    .await;
    let across =
        app.gql(Some(&owner), folder, json!({ "i": { "collectionId": other, "name": "X", "parentId": top } })).await;
    assert_eq!(code(&across), Some("BAD_USER_INPUT"), "{across}");
    let viewer = app.gql(Some(&reader), folder, json!({ "i": { "collectionId": c, "name": "Mine" } })).await;
    assert_eq!(code(&viewer), Some("FORBIDDEN"));
    let mv = "mutation($id: ID!, $p: ID) { updateFolder(input: { id: $id, expectedVersion: 1, parentId: $p }) { folder { parent { id } } } }";
    assert_eq!(
        code(&app.gql(Some(&owner), mv, json!({ "id": top, "p": sub })).await),
        Some("BAD_USER_INPUT"),
        "no cycles"
    );
    let r = app.gql(Some(&owner), mv, json!({ "id": sub, "p": Value::Null })).await;
    assert_eq!(data(&r)["updateFolder"]["folder"]["parent"], Value::Null);
    let events = "SELECT count(*) AS n FROM domain_events WHERE kind = ";
    assert_eq!(app.count(&format!("{events}'folder.created'")).await, 2, "folder writes reach the change feed");
    assert_eq!(app.count(&format!("{events}'folder.updated'")).await, 1);
    let input =
        json!({ "collectionId": c, "folderId": sub, "kind": "NOTE", "title": "Trains", "body": "Standard class." });
    data(&app.gql(Some(&owner), DOC, json!({ "i": input })).await);
    let list = "query($c: ID!, $f: ID!) { node(id: $c) { ... on Collection { folders { totalCount } \
        documents(filter: { folderId: { eq: $f } }) { nodes { title folder { id } } } } } }";
    let r = app.gql(Some(&reader), list, json!({ "c": c, "f": sub })).await;
    assert_eq!(data(&r)["node"]["folders"]["totalCount"], 2);
    assert_eq!(data(&r)["node"]["documents"]["nodes"], json!([{ "title": "Trains", "folder": { "id": sub } }]));
    app.finish().await;
}
