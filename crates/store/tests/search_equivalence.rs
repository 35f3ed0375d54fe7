//! The same search filters over the same users answer the same users on SQLite and on
//! PostgreSQL. Needs PostgreSQL, so it is ignored in a plain `cargo test`; CI runs it with
//! `--include-ignored` and `ROSTER_TEST_DATABASE_URL=postgres://...`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use roster_core::filter;
use roster_core::user::{CreateUserInput, ListQuery, Scope, SortField};
use roster_core::AppId;
use roster_store::{Store, StoreOptions, TenantStore};
use serde_json::json;
use std::collections::BTreeSet;

async fn seeded(url: &str) -> (TenantStore, AppId) {
    let store = Store::connect(url, &StoreOptions { max_connections: 4 })
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let tenant = store.create_tenant("equivalence").await.unwrap().tenant_id;
    let t = store.tenant(&tenant);
    let app = roster_core::app::NewApp {
        name: "Search".into(),
        is_management: false,
        settings: roster_core::app::AppSettings::default(),
        password_config: roster_core::PasswordConfiguration::default(),
    };
    let app = t.create_app(&app, None).await.unwrap().0.app_id;
    let now = roster_core::time::now_ms();
    let last = ["Lee", "Leeds", "Young", "lee", "O'Neil", "Zoë", "Young-Lee"];
    let countries = ["USA", "UK", "usa", "Israel"];
    let plans = ["gold", "free", "trial"];
    for i in 0..60u32 {
        let plan = plans[i as usize % plans.len()];
        let mut user = json!({
            "email": format!("User{i}@Ex{}.com", i % 3),
            "name": {"first_name": format!("F{}", i % 5), "last_name": last[i as usize % last.len()]},
            "address": {"country": countries[i as usize % countries.len()]},
            "custom_data": {"plan": plan, "seats": i % 7, "vip": i % 4 == 0},
        });
        if i % 2 == 0 {
            user["phone_number"] = json!(format!("+1415555{i:04}"));
        }
        if i % 3 == 0 {
            user["secondary_emails"] = json!([
                format!("Alt{i}@Home.example"),
                format!("x{}@home.example", i % 4)
            ]);
        }
        if i % 5 == 0 {
            user["external_user_id"] = json!(format!("ext-{i}"));
            user["username"] = json!(format!("Name{}", i));
            user["custom_data"]["seats"] = json!(format!("{}", i % 7));
        }
        if i % 7 == 0 {
            user["custom_data"]["plan"] = serde_json::Value::Null;
        }
        // A nested path in every shape: a string, an array holding it, a deeper object.
        user["custom_data"]["org"] = match i % 4 {
            0 => json!({"tier": "a"}),
            1 => json!({"tier": ["a"]}),
            2 => json!({"tier": {"a": true}}),
            _ => json!({"tier": true}),
        };
        let input = serde_json::from_value::<CreateUserInput>(user)
            .unwrap()
            .validate(now)
            .unwrap();
        t.create_user(Some(&app), &input).await.unwrap();
    }
    (t, app)
}

/// A small deterministic generator (xorshift), so both backends see the same filters.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }

    fn leaf(&mut self) -> String {
        let op = self.pick(&["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "pr"]);
        let (attr, values): (&str, &[&str]) = match self.next() % 13 {
            12 => (
                "custom_data.org.tier",
                &[r#""a""#, "true", "false", r#""b""#],
            ),
            0 => (
                "email",
                &[
                    r#""user1@ex1.com""#,
                    r#""USER2""#,
                    r#""ex0""#,
                    r#"".com""#,
                    "null",
                ],
            ),
            1 => (
                "name.last_name",
                &[
                    r#""Lee""#,
                    r#""lee""#,
                    r#""Young""#,
                    r#""O'Neil""#,
                    r#""Zoë""#,
                    r#""-""#,
                ],
            ),
            2 => (
                "address.country",
                &[r#""USA""#, r#""UK""#, r#""U""#, r#""usa""#],
            ),
            3 => (
                "custom_data.plan",
                &[r#""gold""#, r#""free""#, r#""r""#, "null"],
            ),
            4 => ("custom_data.seats", &["3", "0", "6.5", r#""3""#, "-1"]),
            5 => ("custom_data.vip", &["true", "false", "null"]),
            6 => (
                "secondary_emails",
                &[
                    r#""alt3@home.example""#,
                    r#""x1@home.example""#,
                    r#""home""#,
                    r#""ALT""#,
                ],
            ),
            7 => (
                "phone_number",
                &[r#""+14155550010""#, r#""+1415""#, r#""0020""#],
            ),
            8 => ("external_user_id", &[r#""ext-10""#, r#""ext-""#, "null"]),
            9 => ("username", &[r#""name5""#, r#""NAME""#, r#""e1""#]),
            10 => ("name.first_name", &[r#""F1""#, r#""F""#, r#""f2""#]),
            _ => (
                "created_at",
                &["0", "4102444800000", r#""2000-01-01T00:00:00Z""#],
            ),
        };
        if op == "pr" {
            format!("{attr} pr")
        } else {
            format!("{attr} {op} {}", self.pick(values))
        }
    }

    fn filter(&mut self, depth: u32) -> String {
        if depth == 0 {
            return self.leaf();
        }
        match self.next() % 5 {
            0 => format!(
                "({}) and ({})",
                self.filter(depth - 1),
                self.filter(depth - 1)
            ),
            1 => format!("{} or {}", self.filter(depth - 1), self.filter(depth - 1)),
            2 => format!("not ({})", self.filter(depth - 1)),
            _ => self.leaf(),
        }
    }
}

async fn matches(t: &TenantStore, app: &AppId, f: &filter::Filter) -> (BTreeSet<String>, u64) {
    let scope = Scope::Members(app.clone());
    let query = ListQuery {
        offset: 0,
        limit: 5000,
        sort: SortField::Email,
        descending: false,
        prefix: None,
        filter: Some(f.clone()),
    };
    let (views, total) = t.list_users(&scope, &query).await.unwrap();
    let count = t.count_users(&scope, Some(f)).await.unwrap();
    assert_eq!(total, count, "{f}");
    let emails = views
        .iter()
        .map(|v| v.user.email.as_ref().unwrap().value.as_str().to_owned())
        .collect();
    (emails, count)
}

#[tokio::test]
#[ignore = "needs PostgreSQL: ROSTER_TEST_DATABASE_URL=postgres://... and --include-ignored"]
async fn sqlite_and_postgres_answer_every_filter_alike() {
    let pg = std::env::var("ROSTER_TEST_DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres"))
        .expect("this test needs ROSTER_TEST_DATABASE_URL=postgres://...");
    let (lite, lite_app) = seeded("sqlite::memory:").await;
    let (post, post_app) = seeded(&pg).await;
    let mut gen = Gen(0x9E37_79B9_7F4A_7C15);
    let (mut compared, mut nonempty, mut partial) = (0, 0, 0);
    while compared < 200 {
        let text = gen.filter(3);
        let Ok(f) = filter::parse(&text) else {
            continue;
        };
        let (a, n) = matches(&lite, &lite_app, &f).await;
        let (b, _) = matches(&post, &post_app, &f).await;
        assert_eq!(a, b, "{text}");
        compared += 1;
        nonempty += usize::from(n > 0);
        partial += usize::from(n > 0 && n < 60);
    }
    // The filters must discriminate, or agreeing would prove little.
    assert!(
        nonempty > 100 && partial > 60,
        "{nonempty} non-empty, {partial} partial"
    );
}
