//! Live-path benchmark: graphql-transport-ws subscribers (distinct members) on a separate
//! release `opsgraph serve` process, a producer creating tasks through HTTP at a fixed rate.
//! Four workloads, selectable by name (`./dev bench live spread`; all four without a name):
//!
//! - `idle`: N connections (default 10,000), each with one `notificationAdded`
//!   subscription and no events: server memory per connection (sockets alone, then with
//!   the subscription) and server CPU over 30 s of keep-alive pings.
//! - `spread`: N subscribers of `taskChanged` over P projects (default 100), E events/s
//!   (default 50) spread round-robin over the projects for S s (default 60); the producer's
//!   mutation latency is measured first with no subscriber, then under the load.
//! - `broadcast`: N subscribers on one project, 1 event/s for S s; then rising rates for
//!   10 s each until one is not sustained (a delivery later than 2 s after its step, or a
//!   subscriber closed as slow).
//! - `churn`: `spread` while C subscribers (default 1,000) each close their socket and
//!   resume with `after` every second.
//!
//! Subscribers resume with `after` whenever the server closes them (1013 slow consumer), as
//! a real client does; every delivery that does not arrive is accounted for from the
//! server's `live_messages_total` counters (never queued, refused, dropped at a close,
//! written but unread when the run stopped). Client CPU (this process) is reported next to
//! the server's. `BENCH_SUBSCRIBERS`, `BENCH_PROJECTS`, `BENCH_RATE`, `BENCH_SECONDS`,
//! `BENCH_CHURN` and `BENCH_DRAIN_SECS` (default 15) change the load.

#![allow(
    clippy::expect_used,
    clippy::too_many_lines,
    reason = "test code: a failed expectation is the test failing, with its message; scenarios read top to bottom"
)]
#![allow(clippy::print_stdout)] // a benchmark reports its figures on stdout

use futures_util::StreamExt;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use opsgraph_e2e::bench::{bulk_members, pct, rss_kib};
use opsgraph_e2e::live::{Follow, Live, Received, follow};
use opsgraph_e2e::{ServerProcess, TestApp, data};
use serde_json::{Value, json};

const TASKS: &str = "subscription($p: ID!, $a: EventSeq) { taskChanged(projectId: $p, after: $a) { seq occurredAt } }";
const INBOX: &str = "subscription { notificationAdded { seq } }";
const METRICS_TOKEN: &str = "bench-metrics";

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// CPU seconds (user + system) of process `pid` so far.
fn cpu_secs(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit_once(") ").map(|(_, r)| r.split(' ').collect()).unwrap_or_default();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// CPU used by the server and by this process (the clients) between two points.
struct Cpu {
    server: String,
    at: Instant,
    server_secs: f64,
    client_secs: f64,
}

impl Cpu {
    fn start(server: &ServerProcess) -> Cpu {
        let server = server.pid().to_string();
        Cpu { server_secs: cpu_secs(&server), client_secs: cpu_secs("self"), at: Instant::now(), server }
    }

    fn line(&self) -> String {
        let wall = self.at.elapsed().as_secs_f64();
        let (s, c) = (cpu_secs(&self.server) - self.server_secs, cpu_secs("self") - self.client_secs);
        format!(
            "CPU over {wall:.1} s: server {s:.1} s ({:.0}% of a core), clients {c:.1} s ({:.0}%)",
            100.0 * s / wall,
            100.0 * c / wall
        )
    }
}

/// Server counters by `<messages|closed>.<label>`.
type Counters = BTreeMap<String, u64>;

/// The server's `live_messages_total` and `websocket_closed_total` counters.
async fn counters(base: &str) -> Counters {
    let text = reqwest::Client::new()
        .get(format!("{base}/metrics"))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("metrics text");
    text.lines()
        .filter(|l| l.starts_with("opsgraph_live_messages_total") || l.starts_with("opsgraph_websocket_closed_total"))
        .filter_map(|l| {
            let (name, v) = l.rsplit_once(' ')?;
            let label = name.split('"').nth(1)?;
            let kind = if name.contains("live_messages") { "messages" } else { "closed" };
            Some((format!("{kind}.{label}"), v.parse().ok()?))
        })
        .collect()
}

/// Subscriptions the server has started (its `live_followers` gauge).
async fn followers(base: &str) -> u64 {
    let text = match reqwest::Client::new().get(format!("{base}/metrics")).bearer_auth(METRICS_TOKEN).send().await {
        Ok(r) => r.text().await.unwrap_or_default(),
        Err(_) => return 0,
    };
    text.lines()
        .find_map(|l| l.strip_prefix("opsgraph_live_followers ").and_then(|v| v.trim().parse().ok()))
        .unwrap_or(0)
}

fn delta(after: &Counters, before: &Counters, key: &str) -> u64 {
    after.get(key).copied().unwrap_or(0).saturating_sub(before.get(key).copied().unwrap_or(0))
}

/// One organisation with `projects` projects and `n` members, member i staffed on project
/// i % projects; the server process; the event head.
struct Setup {
    app: TestApp,
    owner: String,
    projects: Vec<String>,
    tokens: Vec<String>,
    server: ServerProcess,
}

async fn setup(n: usize, projects: usize) -> Setup {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("bench@live.example", "Live Bench").await;
    let mut ids = vec![];
    for p in 0..projects {
        let q = "mutation($k: String!) { createProject(input: { key: $k, name: $k }) { project { id } } }";
        let r = app.gql(Some(&owner), q, json!({ "k": format!("L{p}") })).await;
        ids.push(data(&r)["createProject"]["project"]["id"].as_str().expect("project").to_owned());
    }
    // Member i on the i % P-th project by key order (set-based SQL: setup only).
    let staff = format!(
        "INSERT INTO project_members (id, org_id, project_id, membership_id) \
         SELECT gen_random_uuid(), p.org_id, p.id, m.id \
         FROM unnest($1::uuid[]) WITH ORDINALITY m(id, i) \
         JOIN (SELECT id, org_id, row_number() OVER (ORDER BY length(key), key) - 1 AS k FROM projects) p \
           ON p.k = (m.i - 1) % {projects}"
    );
    let tokens = bulk_members(&app, n, "sub", &staff).await;
    let env = [("OPSGRAPH_DB_POOL_MAX", "16"), ("OPSGRAPH_METRICS_TOKEN", METRICS_TOKEN)];
    let server = ServerProcess::spawn(&app.database_url(), &env).await;
    Setup { app, owner, projects: ids, tokens, server }
}

impl Setup {
    async fn head(&self) -> i64 {
        self.app.count("SELECT coalesce(max(last_seq), 0) AS n FROM event_counters").await
    }

    /// Transactions committed in the database so far (the server's and the producer's).
    async fn commits(&self) -> i64 {
        self.app.count("SELECT xact_commit AS n FROM pg_stat_database WHERE datname = current_database()").await
    }

    /// Creates `rate` tasks per second for `seconds` (each on the next project, round robin,
    /// sent on time however long earlier ones take); returns each mutation's latency (ms),
    /// the tasks per project and the wall time.
    async fn produce(&self, rate: u64, seconds: u64, offset: usize) -> (Vec<f64>, Vec<usize>, f64) {
        let client = reqwest::Client::new();
        let total = (rate * seconds) as usize;
        let mut per_project = vec![0usize; self.projects.len()];
        let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / rate.max(1)));
        let mut sent = tokio::task::JoinSet::new();
        let started = Instant::now();
        for k in 0..total {
            tick.tick().await;
            let p = (offset + k) % self.projects.len();
            per_project[p] += 1;
            let body = json!({ "query": "mutation($p: ID!, $t: String!) { createTask(input: { projectId: $p, title: $t }) { task { id } } }", "variables": { "p": self.projects[p], "t": format!("Task {k}") } });
            let req = client.post(format!("{}/graphql", self.server.base)).bearer_auth(&self.owner).json(&body);
            sent.spawn(async move {
                let t = Instant::now();
                let r: Value = req.send().await.expect("send").json().await.expect("json");
                assert!(r.get("errors").is_none(), "{r}");
                t.elapsed().as_secs_f64() * 1e3
            });
        }
        let mut latencies = sent.join_all().await;
        latencies.sort_by(f64::total_cmp);
        (latencies, per_project, started.elapsed().as_secs_f64())
    }
}

/// Running subscribers: their tasks, the shared progress counter and the stop signal.
struct Crowd {
    tasks: Vec<tokio::task::JoinHandle<Received>>,
    projects: Vec<usize>,
    progress: Arc<AtomicUsize>,
    stop: tokio::sync::watch::Sender<bool>,
}

/// Connects the setup's members, member i following project i % P (or `only` one project),
/// `churners` of them closing and resuming every second; returns once all are subscribed.
async fn crowd(s: &Setup, only: Option<usize>, churners: usize) -> Crowd {
    let n = s.tokens.len();
    let head = s.head().await.to_string();
    let progress = Arc::new(AtomicUsize::new(0));
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel::<()>(n.max(1));
    let started = Instant::now();
    let (mut tasks, mut projects) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for (i, token) in s.tokens.iter().enumerate() {
        let p = only.unwrap_or(i % s.projects.len());
        projects.push(p);
        let churn = (i < churners)
            .then(|| (Duration::from_secs(1), Duration::from_millis((i * 1000 / churners.max(1)) as u64)));
        let f = Follow { query: TASKS, field: "taskChanged", vars: json!({ "p": s.projects[p] }), churn };
        if i % 200 == 199 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tasks.push(tokio::spawn(follow(
            s.server.base.clone(),
            token.clone(),
            f,
            head.clone(),
            stop_rx.clone(),
            progress.clone(),
            ready_tx.clone(),
        )));
    }
    drop(ready_tx);
    let mut ready = 0;
    while ready < n && ready_rx.recv().await.is_some() {
        ready += 1;
    }
    println!("  {n} subscribers connected and sent subscribe in {:.1} s", started.elapsed().as_secs_f64());
    // Started means following the feed on the server (sent is not started): wait until all
    // are, or until the count stops moving for 5 s.
    let (mut count, mut moved) = (0, Instant::now());
    while count < n as u64 && moved.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = followers(&s.server.base).await;
        if now != count {
            (count, moved) = (now, Instant::now());
        }
    }
    println!("  {count} of {n} subscriptions started on the server after {:.1} s", started.elapsed().as_secs_f64());
    Crowd { tasks, projects, progress, stop }
}

impl Crowd {
    /// Waits until `expected` first deliveries arrived or none did for `drain` seconds.
    async fn drain(&self, expected: usize, drain: u64) -> f64 {
        let t = Instant::now();
        let (mut seen, mut quiet) = (self.progress.load(Ordering::Relaxed), Instant::now());
        while seen < expected && quiet.elapsed() < Duration::from_secs(drain) {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let now = self.progress.load(Ordering::Relaxed);
            if now != seen {
                (seen, quiet) = (now, Instant::now());
            }
        }
        t.elapsed().as_secs_f64()
    }

    async fn finish(self) -> Vec<(usize, Received)> {
        self.stop.send_replace(true);
        let mut out = vec![];
        for (h, p) in self.tasks.into_iter().zip(self.projects) {
            out.push((p, h.await.expect("subscriber")));
        }
        out
    }
}

/// An `error` / `complete` message in short: its type, error code and message.
fn ended_reason(raw: &str) -> String {
    let m: Value = serde_json::from_str(raw).unwrap_or_default();
    let e = &m["payload"][0];
    let text = format!("{} {} {}", m["type"], e["extensions"]["code"], e["message"]);
    text.chars().take(160).collect()
}

/// Prints latency, loss and their explanation for deliveries with seq in `range`, each
/// subscriber expecting `expected[project]` of them.
fn report(
    got: &[(usize, Received)],
    range: (i64, i64),
    expected: &[usize],
    server: Option<(&Counters, &Counters)>,
) -> (f64, usize) {
    let mut lat = vec![];
    let (mut want, mut distinct_total, mut dups, mut disorder, mut received) = (0, 0, 0, 0, 0);
    let mut lost_ended = 0;
    let (mut closes, mut resumes, mut ended) = (BTreeMap::<u16, usize>::new(), 0, BTreeMap::<String, usize>::new());
    let mut connect_failures = 0;
    for (p, r) in got {
        let mine: Vec<&(i64, f64)> = r.events.iter().filter(|(s, _)| *s > range.0 && *s <= range.1).collect();
        let distinct: std::collections::HashSet<i64> = mine.iter().map(|(s, _)| *s).collect();
        want += expected[*p];
        if r.ended.is_some() {
            lost_ended += expected[*p].saturating_sub(distinct.len());
        }
        received += mine.len();
        distinct_total += distinct.len();
        dups += mine.len() - distinct.len();
        disorder += mine.windows(2).filter(|w| w[0].0 >= w[1].0).count();
        lat.extend(mine.iter().map(|(_, ms)| *ms).filter(|ms| ms.is_finite()));
        for (c, k) in &r.closes {
            *closes.entry(*c).or_default() += k;
        }
        resumes += r.resumes;
        connect_failures += r.connect_failures;
        if let Some(why) = &r.ended {
            *ended.entry(ended_reason(why)).or_default() += 1;
        }
    }
    lat.sort_by(f64::total_cmp);
    let lost = want - distinct_total.min(want);
    println!(
        "  delivery (commit -> client): p50 {:.1} ms  p95 {:.1} ms  p99 {:.1} ms  max {:.1} ms   {} of {want} delivered",
        pct(&lat, 0.5),
        pct(&lat, 0.95),
        pct(&lat, 0.99),
        lat.last().copied().unwrap_or(f64::NAN),
        distinct_total
    );
    println!(
        "  lost {lost}   duplicated {dups}   out of order {disorder}   resumes {resumes} ({connect_failures} \
         failed connection attempts retried)   server closes {closes:?}   \
         subscriptions ended by the server {ended:?}"
    );
    if let Some((after, before)) = server {
        let d = |k: &str| delta(after, before, k);
        let (queued, written, refused, dropped) =
            (d("messages.queued"), d("messages.written"), d("messages.refused"), d("messages.dropped"));
        println!(
            "  server: {queued} events queued for sockets, {written} written, {refused} refused (queue full: \
             slow consumer), {dropped} dropped at a close; sockets closed as slow {}",
            d("closed.slow_consumer")
        );
        if lost > 0 {
            // Every wanted delivery was received, or is one of these.
            let in_queues = queued.saturating_sub(written + dropped);
            let unread = written.saturating_sub(received as u64);
            let ended = lost_ended as u64;
            println!(
                "  the {lost} missing: {ended} of subscriptions the server ended (above), {unread} written but not \
                 read by the stop, {in_queues} still in send queues, {} never queued (the subscriptions' streams were \
                 behind); {refused} refused and {dropped} dropped at slow-consumer closes were each followed by a resume",
                (lost as u64).saturating_sub(ended + unread + in_queues)
            );
        }
    }
    (pct(&lat, 0.99), lost)
}

async fn idle(n: usize) {
    println!("idle: {n} connections, one notificationAdded subscription each, no events");
    let s = setup(n, 1).await;
    let mut warm = Live::connect(&s.server.base, &s.tokens[0]).await;
    warm.subscribe("w", INBOX, json!({})).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss0 = rss_kib(s.server.pid());
    let t = Instant::now();
    // 64 at a time, as a crowd of phones would (one after the other, the first sockets
    // would sit unread, unanswered pings and all, for longer than the idle cut-off).
    let base = &s.server.base;
    let connects = futures_util::stream::iter(&s.tokens).map(|token| Live::connect(base, token));
    let mut sockets: Vec<Live> = connects.buffered(64).collect().await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss1 = rss_kib(s.server.pid());
    futures_util::stream::iter(&mut sockets)
        .for_each_concurrent(64, |ws| async move { ws.subscribe("n", INBOX, json!({})).await })
        .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss2 = rss_kib(s.server.pid());
    let per = |a: u64, b: u64| a.saturating_sub(b) as f64 / n.max(1) as f64;
    println!("  connected in {:.1} s", t.elapsed().as_secs_f64());
    println!(
        "  server RSS {:.1} MiB before; {:.1} MiB with {n} sockets ({:.1} KiB each); {:.1} MiB subscribed ({:.1} KiB per \
         connection in all, {:.1} KiB of it the subscription)",
        rss0 as f64 / 1024.0,
        rss1 as f64 / 1024.0,
        per(rss1, rss0),
        rss2 as f64 / 1024.0,
        per(rss2, rss0),
        per(rss2, rss1)
    );
    let seconds = env("BENCH_IDLE_SECS", 30);
    let cpu = Cpu::start(&s.server);
    // Clients answer the server's pings (tungstenite does so when the socket is read).
    let reading = sockets.into_iter().map(|mut ws| {
        tokio::spawn(async move {
            ws.assert_silent(Duration::from_secs(seconds)).await;
            ws
        })
    });
    let sockets: Vec<Live> =
        futures_util::future::join_all(reading).await.into_iter().map(|r| r.expect("idle")).collect();
    println!("  {} (keep-alive pings only)", cpu.line());
    for ws in sockets {
        ws.close().await;
    }
    warm.close().await;
    s.app.finish().await;
}

async fn spread(n: usize, projects: usize, churners: usize) {
    let (rate, seconds) = (env("BENCH_RATE", 50), env("BENCH_SECONDS", 60));
    let drain = env("BENCH_DRAIN_SECS", 15);
    let name = if churners > 0 { "churn" } else { "spread" };
    println!(
        "{name}: {n} subscribers over {projects} projects (taskChanged), {rate} events/s round robin for {seconds} s{}",
        if churners > 0 { format!(", {churners} of them closing and resuming every second") } else { String::new() }
    );
    let s = setup(n, projects).await;
    let (base_lat, _, _) = s.produce(rate, 10.min(seconds), 0).await;
    let crowd = crowd(&s, None, churners).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (before, head, cpu) = (counters(&s.server.base).await, s.head().await, Cpu::start(&s.server));
    let commits = s.commits().await;
    let (lat, per_project, secs) = s.produce(rate, seconds, 0).await;
    let total: usize = crowd.projects.iter().map(|p| per_project[*p]).sum();
    let waited = crowd.drain(total, drain).await;
    let (after, end) = (counters(&s.server.base).await, s.head().await);
    let per_event = (s.commits().await - commits) as f64 / (end - head).max(1) as f64;
    println!(
        "  {} events produced in {secs:.1} s; deliveries drained {waited:.1} s after; {per_event:.1} database \
         transactions per event; {}",
        lat.len(),
        cpu.line()
    );
    println!(
        "  producer mutation latency: p50 {:.1} ms p95 {:.1} ms with subscribers; p50 {:.1} ms p95 {:.1} ms without",
        pct(&lat, 0.5),
        pct(&lat, 0.95),
        pct(&base_lat, 0.5),
        pct(&base_lat, 0.95)
    );
    let got = crowd.finish().await;
    report(&got, (head, end), &per_project, Some((&after, &before)));
    s.app.finish().await;
}

async fn broadcast(n: usize) {
    let seconds = env("BENCH_SECONDS", 60);
    let drain = env("BENCH_DRAIN_SECS", 15);
    println!("broadcast: {n} subscribers on one project (taskChanged), 1 event/s for {seconds} s, then rising rates");
    let s = setup(n, 1).await;
    let crowd = crowd(&s, Some(0), 0).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (mut wanted, mut steps) = (0, vec![]);
    for (rate, secs) in [(1, seconds), (2, 10), (5, 10), (10, 10), (20, 10), (50, 10)] {
        let (before, head, cpu) = (counters(&s.server.base).await, s.head().await, Cpu::start(&s.server));
        let commits = s.commits().await;
        let (lat, per_project, took) = s.produce(rate, secs, 0).await;
        wanted += per_project[0] * n;
        let waited = crowd.drain(wanted, drain).await;
        let (after, end) = (counters(&s.server.base).await, s.head().await);
        let per_event = (s.commits().await - commits) as f64 / (end - head).max(1) as f64;
        let short = wanted.saturating_sub(crowd.progress.load(Ordering::Relaxed));
        let slow = delta(&after, &before, "closed.slow_consumer");
        let kept = short == 0 && slow == 0 && waited <= 2.0;
        let line = format!(
            "{rate} events/s for {secs} s ({} deliveries/s): produced in {took:.1} s, drained {waited:.1} s after, \
             producer p95 {:.1} ms, {per_event:.1} database transactions per event; {}; {}",
            rate as usize * n,
            pct(&lat, 0.95),
            cpu.line(),
            if kept { "sustained" } else { "NOT sustained" }
        );
        println!("  {line}");
        steps.push((line, (head, end), per_project, after, before));
        if !kept {
            break;
        }
    }
    let got = crowd.finish().await;
    for (line, range, per_project, after, before) in &steps {
        println!("  step {line}");
        report(&got, *range, per_project, Some((after, before)));
    }
    s.app.finish().await;
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let all = ["idle", "spread", "broadcast", "churn"];
    let chosen: Vec<&str> = all.iter().copied().filter(|w| args.is_empty() || args.iter().any(|a| a == w)).collect();
    let n = env("BENCH_SUBSCRIBERS", 10_000) as usize;
    let projects = env("BENCH_PROJECTS", 100) as usize;
    for w in chosen {
        match w {
            "idle" => idle(n).await,
            "spread" => spread(n, projects, 0).await,
            "broadcast" => broadcast(n).await,
            _ => spread(n, projects, env("BENCH_CHURN", 1000) as usize).await,
        }
    }
}
