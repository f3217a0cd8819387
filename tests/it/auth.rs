//! Sign-up, log-in, rate limit, token expiry, refresh rotation, log-out, API keys.

use opsgraph_e2e::{PASSWORD, TestApp, code, data};
use serde_json::json;

const LOGIN: &str = "mutation($i: LogInInput!) { logIn(input: $i) { accessToken refreshToken } }";
const REFRESH: &str =
    "mutation($t: String!) { refreshToken(input: { refreshToken: $t }) { accessToken refreshToken } }";

#[tokio::test]
async fn sign_up_log_in_and_viewer() {
    let app = TestApp::spawn().await;
    let (token, _) = app.sign_up("ada@example.com", "Analytical Engines").await;
    let r = app
        .gql(
            Some(&token),
            "{ viewer { role user { email displayName } organization { name slug } memberships { nodes { role } } } }",
            json!({}),
        )
        .await;
    let v = &data(&r)["viewer"];
    assert_eq!(v["role"], "OWNER");
    assert_eq!(v["user"]["email"], "ada@example.com");
    assert_eq!(v["organization"]["slug"], "analytical-engines");
    assert_eq!(v["memberships"]["nodes"].as_array().map(Vec::len), Some(1));

    // Item 10: signing up with a registered address answers exactly like a new one; the
    // owner of the address gets a notice instead of a verification link.
    let sign_up = "mutation($i: SignUpInput!) { signUp(input: $i) { message } }";
    let input = |e: &str| json!({ "i": { "email": e, "password": PASSWORD, "firstName": "A", "lastName": "B", "organizationName": "X" } });
    let dup = app.gql(None, sign_up, input("ADA@example.com")).await;
    let fresh = app.gql(None, sign_up, input("newcomer@example.com")).await;
    assert_eq!(
        (&dup["data"], &dup["errors"]),
        (&fresh["data"], &fresh["errors"]),
        "no account enumeration through signUp"
    );
    assert!(dup["errors"].is_null(), "{dup}");
    assert_eq!(app.count("SELECT count(*) AS n FROM outbound_emails WHERE to_address = 'ada@example.com' AND kind = 'signup.existing'").await, 1);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM signup_requests WHERE email = 'ada@example.com'").await,
        1,
        "only the first, verified sign-up"
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM users").await, 1, "nothing is created before verification");
    let token = app.verification_token("newcomer@example.com").await.expect("verification e-mail");
    let verify = "mutation($t: String!) { verifyEmail(input: { token: $t }) { accessToken user { email } } }";
    let ok = app.gql(None, verify, json!({ "t": token })).await;
    assert_eq!(data(&ok)["verifyEmail"]["user"]["email"], "newcomer@example.com");
    let again = app.gql(None, verify, json!({ "t": token })).await;
    assert_eq!(code(&again), Some("UNAUTHENTICATED"), "a token works once: {again}");

    let wrong =
        app.gql(None, LOGIN, json!({ "i": { "email": "ada@example.com", "password": "not the password" } })).await;
    assert_eq!(code(&wrong), Some("UNAUTHENTICATED"));
    let unknown =
        app.gql(None, LOGIN, json!({ "i": { "email": "nobody@example.com", "password": "whatever-long" } })).await;
    assert_eq!(code(&unknown), Some("UNAUTHENTICATED"));
    assert_eq!(wrong["errors"][0]["message"], unknown["errors"][0]["message"], "no account enumeration");

    let anon = app.gql(None, "{ organization { name } }", json!({})).await;
    assert_eq!(code(&anon), Some("UNAUTHENTICATED"));
    let garbage = app.gql(Some("not.a.jwt"), "{ viewer { role } }", json!({})).await;
    assert_eq!(code(&garbage), Some("UNAUTHENTICATED"));
    app.finish().await;
}

/// Issue 9, item 9: failures throttle the (account, address) pair with a growing back-off
/// and a retry-after; the real owner signing in from elsewhere is never locked out.
#[tokio::test]
async fn log_in_is_throttled_per_account_and_address() {
    let app = TestApp::spawn_with(|c| c.login_max_failures_account = 3).await;
    app.sign_up("grace@example.com", "Cobol Co").await;
    let attacker: std::net::IpAddr = [127, 0, 0, 2].into();
    let wrong = json!({ "i": { "email": "grace@example.com", "password": "wrong password!" } });
    for _ in 0..3 {
        let r = app.gql_from(attacker, None, LOGIN, wrong.clone()).await;
        assert_eq!(code(&r), Some("UNAUTHENTICATED"));
    }
    // The 4th failure is allowed but starts the back-off (1 s, then 2 s, …).
    let r = app.gql_from(attacker, None, LOGIN, wrong.clone()).await;
    assert_eq!(code(&r), Some("UNAUTHENTICATED"));
    let right = json!({ "i": { "email": "grace@example.com", "password": PASSWORD } });
    let blocked = app.gql_from(attacker, None, LOGIN, right.clone()).await;
    assert_eq!(code(&blocked), Some("RATE_LIMITED"), "the attacker's address waits: {blocked}");
    let retry = blocked["errors"][0]["extensions"]["retryAfter"].as_u64().unwrap_or(0);
    assert!((1..=2).contains(&retry), "retryAfter grows from 1 s: {blocked}");
    assert_eq!(blocked["data"]["logIn"], serde_json::Value::Null);
    // The owner, elsewhere, is not locked out.
    let owner = app.gql(None, LOGIN, right).await;
    assert!(owner["data"]["logIn"]["accessToken"].is_string(), "{owner}");
    assert_eq!(app.count("SELECT count(*) AS n FROM login_attempts WHERE NOT succeeded").await, 4);
    app.finish().await;
}

#[tokio::test]
async fn access_tokens_expire() {
    // Two seconds: expiry is in whole seconds, so a one-second token issued late in a
    // second could expire before the first request (a flake seen on a loaded machine).
    let app = TestApp::spawn_with(|c| c.access_ttl_secs = 2).await;
    let (token, _) = app.sign_up("alan@example.com", "Bletchley").await;
    assert_eq!(data(&app.gql(Some(&token), "{ viewer { role } }", json!({})).await)["viewer"]["role"], "OWNER");
    tokio::time::sleep(std::time::Duration::from_millis(3100)).await;
    let r = app.gql(Some(&token), "{ viewer { role } }", json!({})).await;
    assert_eq!(code(&r), Some("UNAUTHENTICATED"));
    assert!(r["errors"][0]["message"].as_str().unwrap_or_default().contains("expired"));
    app.finish().await;
}

#[tokio::test]
async fn refresh_tokens_rotate_and_reuse_revokes_the_family() {
    let app = TestApp::spawn().await;
    let (_, r1) = app.sign_up("barbara@example.com", "Liskov Labs").await;
    let first = app.gql(None, REFRESH, json!({ "t": r1 })).await;
    let r2 = data(&first)["refreshToken"]["refreshToken"].as_str().expect("rotated token").to_owned();
    assert_ne!(r1, r2);
    let access = first["data"]["refreshToken"]["accessToken"].as_str().expect("access");
    assert_eq!(data(&app.gql(Some(access), "{ viewer { role } }", json!({})).await)["viewer"]["role"], "OWNER");

    // Reusing the old token is treated as theft: it fails and kills the newer one too.
    let reuse = app.gql(None, REFRESH, json!({ "t": r1 })).await;
    assert_eq!(code(&reuse), Some("UNAUTHENTICATED"));
    let after = app.gql(None, REFRESH, json!({ "t": r2 })).await;
    assert_eq!(code(&after), Some("UNAUTHENTICATED"));

    // Log-out revokes a fresh session.
    let t = app.gql(None, LOGIN, json!({ "i": { "email": "barbara@example.com", "password": PASSWORD } })).await;
    let r3 = data(&t)["logIn"]["refreshToken"].as_str().expect("refresh").to_owned();
    let out = app
        .gql(None, "mutation($t: String!) { logOut(input: { refreshToken: $t }) { revoked } }", json!({ "t": r3 }))
        .await;
    assert_eq!(data(&out)["logOut"]["revoked"], true);
    assert_eq!(code(&app.gql(None, REFRESH, json!({ "t": r3 })).await), Some("UNAUTHENTICATED"));
    app.finish().await;
}

#[tokio::test]
async fn api_keys_are_scoped_revocable_and_tracked() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("ken@example.com", "Unix Inc").await;
    let create =
        "mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { secret apiKey { id prefix scope lastUsedAt } } }";
    let r = app.gql(Some(&owner), create, json!({ "i": { "name": "ci", "scope": "READ" } })).await;
    let created = &data(&r)["createApiKey"];
    let secret = created["secret"].as_str().expect("secret").to_owned();
    let key_id = created["apiKey"]["id"].as_str().expect("id").to_owned();
    assert!(secret.starts_with(&format!("ogk_{}_", created["apiKey"]["prefix"].as_str().unwrap_or("?"))));
    assert_eq!(
        app.count("SELECT count(*) AS n FROM api_keys WHERE length(secret_hash) = 32").await,
        1,
        "only a SHA-256 is stored"
    );

    // Read works, writes are forbidden for a READ key, via both header styles.
    let (_, read) = app
        .post_raw(
            serde_json::to_vec(&json!({ "query": "{ organization { name } }" })).expect("json"),
            &[("x-api-key", &secret)],
        )
        .await;
    assert_eq!(data(&read)["organization"]["name"], "Unix Inc");
    // A query answers before its transaction ends; what it wrote (the key's last use)
    // still commits.
    let mut used = 0;
    for _ in 0..100 {
        used = app.count("SELECT count(*) AS n FROM api_keys WHERE last_used_at IS NOT NULL").await;
        if used == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(used, 1, "the query's write must commit");
    let write =
        app.gql(Some(&secret), "mutation { createTeam(input: { name: \"T\" }) { team { id } } }", json!({})).await;
    assert_eq!(code(&write), Some("FORBIDDEN"));
    assert_eq!(app.count("SELECT count(*) AS n FROM api_keys WHERE last_used_at IS NOT NULL").await, 1);

    let wrong = format!("{}x", &secret[..secret.len() - 1]);
    assert_eq!(code(&app.gql(Some(&wrong), "{ organization { name } }", json!({})).await), Some("UNAUTHENTICATED"));

    let rev = app
        .gql(
            Some(&owner),
            "mutation($id: ID!) { revokeApiKey(input: { id: $id }) { apiKey { revokedAt } } }",
            json!({ "id": key_id }),
        )
        .await;
    assert!(data(&rev)["revokeApiKey"]["apiKey"]["revokedAt"].is_string());
    assert_eq!(code(&app.gql(Some(&secret), "{ organization { name } }", json!({})).await), Some("UNAUTHENTICATED"));

    let past = app
        .gql(
            Some(&owner),
            create,
            json!({ "i": { "name": "old", "scope": "READ", "expiresAt": "2020-01-01T00:00:00Z" } }),
        )
        .await;
    assert_eq!(code(&past), Some("BAD_USER_INPUT"));
    app.finish().await;
}

#[tokio::test]
async fn switching_organisations() {
    let app = TestApp::spawn().await;
    let _ = app.sign_up("a@example.com", "Org A").await;
    let (b, _) = app.sign_up("b@example.com", "Org B").await;
    let (_, membership) = app.member(&b, "a@example.com", "MEMBER").await;
    assert!(!membership.is_empty());
    let a = app.log_in("a@example.com").await;
    let orgs = app.gql(Some(&a), "{ viewer { memberships { nodes { organization { id name } } } } }", json!({})).await;
    let list = data(&orgs)["viewer"]["memberships"]["nodes"].as_array().cloned().unwrap_or_default();
    assert_eq!(list.len(), 2);
    let org_b = list
        .iter()
        .find(|m| m["organization"]["name"] == "Org B")
        .map(|m| m["organization"]["id"].clone())
        .expect("org b");
    let sw = app
        .gql(
            Some(&a),
            "mutation($o: ID!) { switchOrganization(input: { organizationId: $o }) { accessToken } }",
            json!({ "o": org_b }),
        )
        .await;
    let tb = data(&sw)["switchOrganization"]["accessToken"].as_str().expect("token").to_owned();
    let who = app.gql(Some(&tb), "{ viewer { role organization { name } } }", json!({})).await;
    assert_eq!(data(&who)["viewer"]["organization"]["name"], "Org B");
    assert_eq!(data(&who)["viewer"]["role"], "MEMBER");
    // The header switches per request, only among the caller's memberships.
    let org_b_id = org_b.as_str().expect("id").to_owned();
    let auth = format!("Bearer {a}");
    let (_, r) = app
        .post_raw(
            serde_json::to_vec(&json!({ "query": "{ viewer { organization { name } } }" })).expect("json"),
            &[("authorization", &auth), ("x-organization-id", &org_b_id)],
        )
        .await;
    assert_eq!(data(&r)["viewer"]["organization"]["name"], "Org B");
    let (outsider, _) = app.sign_up("c@example.com", "Org C").await;
    let auth = format!("Bearer {outsider}");
    let (_, r) = app
        .post_raw(
            serde_json::to_vec(&json!({ "query": "{ viewer { role } }" })).expect("json"),
            &[("authorization", &auth), ("x-organization-id", &org_b_id)],
        )
        .await;
    assert_eq!(code(&r), Some("NOT_FOUND"));
    let _ = b;
    app.finish().await;
}

#[tokio::test]
async fn invitations_are_single_use_and_set_the_password() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("owner@example.com", "Inviters").await;
    let r = app.gql(Some(&owner), "mutation { addMember(input: { email: \"new@example.com\", role: MEMBER }) { membership { user { hasPassword } } invitationToken } }", json!({})).await;
    let added = &data(&r)["addMember"];
    assert_eq!(added["membership"]["user"]["hasPassword"], false);
    let token = added["invitationToken"].as_str().expect("token").to_owned();
    assert_eq!(
        app.count("SELECT count(*) AS n FROM invitations WHERE length(token_hash) = 32").await,
        1,
        "only a hash is stored"
    );
    // The invited person cannot sign in before accepting.
    let early = app.gql(None, LOGIN, json!({ "i": { "email": "new@example.com", "password": PASSWORD } })).await;
    assert_eq!(code(&early), Some("UNAUTHENTICATED"));
    let accept = "mutation($i: AcceptInvitationInput!) { acceptInvitation(input: $i) { accessToken organizationId } }";
    let short = app.gql(None, accept, json!({ "i": { "token": token, "password": "short" } })).await;
    assert_eq!(code(&short), Some("BAD_USER_INPUT"));
    let ok = app.gql(None, accept, json!({ "i": { "token": token, "password": PASSWORD, "firstName": "Nova" } })).await;
    let access = data(&ok)["acceptInvitation"]["accessToken"].as_str().expect("access").to_owned();
    let who = app.gql(Some(&access), "{ viewer { role user { displayName } } }", json!({})).await;
    assert_eq!(data(&who)["viewer"]["role"], "MEMBER");
    assert_eq!(data(&who)["viewer"]["user"]["displayName"], "Nova");
    assert_eq!(
        code(&app.gql(None, accept, json!({ "i": { "token": token, "password": PASSWORD } })).await),
        Some("UNAUTHENTICATED"),
        "single use"
    );
    assert_eq!(
        code(&app.gql(None, accept, json!({ "i": { "token": "forged", "password": PASSWORD } })).await),
        Some("UNAUTHENTICATED")
    );
    app.log_in("new@example.com").await;
    app.finish().await;
}

#[tokio::test]
async fn log_in_is_rate_limited_per_address() {
    let app = TestApp::spawn_with(|c| c.login_max_failures_ip = 4).await;
    app.sign_up("victim@example.com", "Target").await;
    // Spraying many accounts from one address trips the per-address limit.
    for i in 0..4 {
        let r = app
            .gql(
                None,
                LOGIN,
                json!({ "i": { "email": format!("guess{i}@example.com"), "password": "password-guess" } }),
            )
            .await;
        assert_eq!(code(&r), Some("UNAUTHENTICATED"));
    }
    let blocked = app.gql(None, LOGIN, json!({ "i": { "email": "victim@example.com", "password": PASSWORD } })).await;
    assert_eq!(code(&blocked), Some("RATE_LIMITED"));
    assert!(blocked["errors"][0]["extensions"]["retryAfter"].as_u64().is_some_and(|s| s >= 1));
    app.finish().await;
}

#[tokio::test]
async fn identity_events_are_audited() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("owner@example.com", "Audit Co").await;
    app.member(&owner, "m@example.com", "MEMBER").await;
    let t = app.gql(None, LOGIN, json!({ "i": { "email": "owner@example.com", "password": PASSWORD } })).await;
    let refresh = data(&t)["logIn"]["refreshToken"].as_str().expect("refresh").to_owned();
    data(
        &app.gql(
            None,
            "mutation($t: String!) { logOut(input: { refreshToken: $t }) { revoked } }",
            json!({ "t": refresh }),
        )
        .await,
    );
    let log = app
        .gql(Some(&owner), "{ organization { auditLog(first: 50) { nodes { action actorType } } } }", json!({}))
        .await;
    let actions: Vec<String> = data(&log)["organization"]["auditLog"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["action"].as_str().unwrap_or_default().to_owned())
        .collect();
    for expected in ["organization.create", "membership.add", "user.accept_invitation", "user.log_in", "user.log_out"] {
        assert!(actions.iter().any(|a| a == expected), "{expected} missing in {actions:?}");
    }
    app.finish().await;
}
