//! Seed files and the reset, through the real binary: fixed credentials, idempotent
//! restarts, edits, one-line errors that change nothing, and `POST /roster/v1/reset`. On
//! SQLite, or the PostgreSQL database of `ROSTER_TEST_DATABASE_URL` (each test its own
//! tenant, client ids and emails, so they share it).

use crate::harness::{
    access_token, command, get, random, send_json, sqlite_url, start_command, token, Server, BIN,
};
use reqwest::Method;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const PASSWORD: &str = "Tr0ub4dor&3xq-seed";

fn database(dir: &tempfile::TempDir) -> String {
    std::env::var("ROSTER_TEST_DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres"))
        .unwrap_or_else(|| sqlite_url(dir))
}

/// Names unique to one test, so that tests share a PostgreSQL database.
struct Names {
    tenant: String,
    other_tenant: String,
    admin: String,
    client: String,
    other_admin: String,
    email: String,
}

impl Names {
    fn new() -> Self {
        let tag = random("s").to_lowercase();
        Self {
            tenant: format!("Seeded {tag}"),
            other_tenant: format!("Other {tag}"),
            admin: format!("{tag}-admin"),
            client: format!("{tag}-shop"),
            other_admin: format!("{tag}-other-admin"),
            email: format!("ann.{tag}@example.com"),
        }
    }

    fn seed(&self, plan: &str, client_secret: &str) -> String {
        let Names {
            tenant,
            other_tenant,
            admin,
            client,
            other_admin,
            email,
        } = self;
        format!(
            r#"# A seed as the README shows it.
tenants:
  - name: "{tenant}"
    management_clients:
      - client_id: {admin}
        client_secret: admin-secret-0123456789
    apps:
      - app_name: Shop
        app_description: Storefront
        password_configuration: {{passwordMinLength: 8}}
        clients:
          - client_id: {client}
            client_secret: {client_secret}
        users:
          - email: {email}
            name: {{first_name: Ann}}
            custom_data: {{plan: {plan}}}
            credentials: {{password: "{PASSWORD}", force_replace: false}}
          - phone_number: "+15555550123"
            username: bob
      - app_name: Blog
        users:
          - email: "{email}"
            username: ann
    groups:
      - name: Staff
        members: ["{email}", bob]
  - name: "{other_tenant}"
    management_clients:
      - client_id: {other_admin}
        client_secret: other-secret-0123456789
    apps:
      - app_name: Shop
        users:
          - email: {email}
"#
        )
    }
}

/// A directory, the database, this test's names and its seed file.
fn setup() -> (tempfile::TempDir, String, Names, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = database(&dir);
    let names = Names::new();
    let seed = write(
        &dir,
        "seed.yaml",
        &names.seed("pro", "shop-secret-0123456789"),
    );
    (dir, db, names, seed)
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn serve(db: &str, seed: Option<&Path>, extra: &[&str]) -> Server {
    let mut cmd = command(db, &[]);
    if let Some(seed) = seed {
        cmd.arg("--seed").arg(seed);
    }
    cmd.args(extra)
        .env_remove("ROSTER_SEED")
        .env_remove("ROSTER_ALLOW_RESET");
    start_command(cmd)
}

/// Runs `roster ARGS`: exit code and the last stderr line.
fn run(args: &[&str], db: &str) -> (Option<i32>, String) {
    let out = Command::new(BIN)
        .args(args)
        .args(["--database", db, "--log-level", "warn"])
        .env_remove("ROSTER_SEED")
        .env_remove("ROSTER_BOOTSTRAP_CLIENT_ID")
        .env_remove("ROSTER_BOOTSTRAP_CLIENT_SECRET")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = stderr.lines().last().unwrap_or_default().to_owned();
    (out.status.code(), last)
}

/// What a client of the tenant can read: its users with every field, groups, apps and
/// clients, so that two states compare whole.
async fn snapshot(server: &Server, admin: &str) -> Value {
    let (_, apps) = get(server, "/cis/v1/applications", admin).await;
    let mut state = json!({ "apps": apps.clone() });
    for app in apps["result"].as_array().unwrap() {
        let id = app["app_id"].as_str().unwrap();
        let (_, users) = get(
            server,
            &format!("/cis/v1/users?app_id={id}&page_limit=5000"),
            admin,
        )
        .await;
        let (_, clients) = get(server, &format!("/cis/v1/applications/{id}/clients"), admin).await;
        state[id] = json!({ "users": users, "clients": clients });
    }
    let (_, users) = get(server, "/cis/v1/users?page_limit=5000", admin).await;
    let (_, groups) = get(server, "/cis/v1/groups", admin).await;
    state["users"] = users;
    state["groups"] = groups;
    state
}

async fn reset(server: &Server, token: &str) -> (u16, Value) {
    send_json(
        Method::POST,
        server.url("/roster/v1/reset"),
        token,
        json!({}),
    )
    .await
}

async fn login(server: &Server, client: &str, email: &str, password: &str) -> u16 {
    let token = access_token(server, client, "shop-secret-0123456789").await;
    let body = json!({"username": email, "username_type": "email", "password": password});
    send_json(
        Method::POST,
        server.url("/cis/v1/auth/password/authenticate"),
        &token,
        body,
    )
    .await
    .0
}

#[tokio::test]
async fn seeded_credentials_work_and_a_second_start_changes_nothing() {
    let (_dir, db, names, seed) = setup();

    let first = serve(&db, Some(&seed), &[]);
    let admin = access_token(&first, &names.admin, "admin-secret-0123456789").await;
    assert_eq!(
        login(&first, &names.client, &names.email, PASSWORD).await,
        200
    );
    let before = snapshot(&first, &admin).await;
    let users = before["users"]["result"].as_array().unwrap();
    assert_eq!(users.len(), 2, "{before}");
    let ann = users
        .iter()
        .find(|u| u["email"]["value"] == json!(names.email))
        .unwrap();
    assert_eq!(ann["custom_data"], json!({"plan": "pro"}));
    assert_eq!(ann["name"]["first_name"], "Ann");
    let groups = before["groups"]["result"].as_array().unwrap();
    assert_eq!(groups.len(), 1, "{before}");
    let (_, members) = get(
        &first,
        &format!(
            "/cis/v1/groups/{}/members",
            groups[0]["group_id"].as_str().unwrap()
        ),
        &admin,
    )
    .await;
    assert_eq!(members["result"].as_array().unwrap().len(), 2, "{members}");
    // The person listed under two apps is one user, linked to both.
    let blog = before["apps"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["app_name"] == "Blog")
        .unwrap();
    let blog_users = &before[blog["app_id"].as_str().unwrap()]["users"]["result"];
    assert_eq!(blog_users.as_array().unwrap().len(), 1);
    assert_eq!(blog_users[0]["user_id"], ann["user_id"]);
    assert_eq!(blog_users[0]["username"], "ann");
    // The other tenant is another directory: its admin sees only its own Ann.
    let other = access_token(&first, &names.other_admin, "other-secret-0123456789").await;
    let (_, theirs) = get(&first, "/cis/v1/users", &other).await;
    assert_eq!(theirs["result"].as_array().unwrap().len(), 1);
    assert_ne!(theirs["result"][0]["user_id"], ann["user_id"]);
    first.stop();

    let second = serve(&db, Some(&seed), &[]);
    let admin = access_token(&second, &names.admin, "admin-secret-0123456789").await;
    assert_eq!(
        login(&second, &names.client, &names.email, PASSWORD).await,
        200
    );
    // The logins moved last_auth; everything else is as the first start left it.
    let mut after = snapshot(&second, &admin).await;
    let mut before = before;
    for state in [&mut before, &mut after] {
        strip(
            state,
            &["last_auth", "status", "status_changed_at", "identities"],
        );
    }
    assert_eq!(before, after);
}

/// Removes login-driven fields everywhere in `v`.
fn strip(v: &mut Value, keys: &[&str]) {
    match v {
        Value::Object(map) => {
            for k in keys {
                map.remove(*k);
            }
            map.values_mut().for_each(|v| strip(v, keys));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| strip(v, keys)),
        _ => {}
    }
}

#[tokio::test]
async fn an_edited_seed_is_applied_on_the_next_start() {
    let (dir, db, names, seed) = setup();
    assert_eq!(run(&["seed", seed.to_str().unwrap()], &db).0, Some(0));

    let edited = names
        .seed("team", "rotated-secret-0123456789")
        .replace("Storefront", "The new storefront")
        .replace(
            "          - phone_number: \"+15555550123\"\n",
            "          - phone_number: \"+15555550124\"\n",
        );
    let seed = write(&dir, "seed.yaml", &edited);
    let server = serve(&db, Some(&seed), &[]);
    let admin = access_token(&server, &names.admin, "admin-secret-0123456789").await;
    assert_eq!(
        token(&server, &names.client, "shop-secret-0123456789")
            .await
            .status(),
        401
    );
    assert_eq!(
        token(&server, &names.client, "rotated-secret-0123456789")
            .await
            .status(),
        200
    );
    let state = snapshot(&server, &admin).await;
    let users = state["users"]["result"].as_array().unwrap();
    let ann = users
        .iter()
        .find(|u| u["email"]["value"] == json!(names.email))
        .unwrap();
    assert_eq!(ann["custom_data"], json!({"plan": "team"}));
    // Bob is found by his username in Shop and gets the new phone number.
    let phones: Vec<_> = users
        .iter()
        .map(|u| u["phone_number"]["value"].clone())
        .collect();
    assert!(phones.contains(&json!("+15555550124")), "{phones:?}");
    assert_eq!(users.len(), 2);
    let shop = state["apps"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["app_name"] == "Shop")
        .unwrap()
        .clone();
    assert_eq!(shop["app_description"], "The new storefront");
}

#[tokio::test]
async fn an_invalid_seed_exits_2_with_one_line_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(&dir);
    let names = Names::new();
    let good = names.seed("pro", "shop-secret-0123456789");
    let seed = write(&dir, "seed.yaml", &good);
    assert_eq!(run(&["seed", seed.to_str().unwrap()], &db).0, Some(0));
    // Another tenant's client id, taken in the database: refused when applied.
    let taken = Names::new();
    let taken_seed = write(
        &dir,
        "taken.yaml",
        &taken.seed("pro", "shop-secret-0123456789"),
    );
    assert_eq!(run(&["seed", taken_seed.to_str().unwrap()], &db).0, Some(0));

    let with_new_user = good
        .replace(
            "          - phone_number: \"+15555550123\"\n",
            "          - email: late.{t}@example.com\n          - phone_number: \"+15555550123\"\n",
        )
        .replace("{t}", &names.admin);
    let cases: Vec<(&str, String, String)> = vec![
        (
            "short secret",
            good.replace("shop-secret-0123456789", "short"),
            "tenants[0].apps[0].clients[0].client_secret: must be at least 16 characters".into(),
        ),
        ("not YAML", "tenants: [ {name: x".into(), "".into()),
        (
            "unknown key",
            good.replace("app_description:", "app_descripton:"),
            "tenants[0].apps[0]: unknown field `app_descripton`".into(),
        ),
        (
            "wrong type",
            good.replace("{passwordMinLength: 8}", "{passwordMinLength: eight}"),
            "tenants[0].apps[0].password_configuration.passwordMinLength: invalid type".into(),
        ),
        (
            "bad user field",
            good.replace(
                "name: {first_name: Ann}",
                "name: {first_name: Ann}\n            birthday: yesterday",
            ),
            "tenants[0].apps[0].users[0]: birthday".into(),
        ),
        (
            "weak password",
            good.replace(PASSWORD, "abc"),
            "tenants[0].apps[0].users[0].credentials.password: ".into(),
        ),
        (
            "client of another tenant",
            with_new_user.replace(
                &format!("client_id: {}\n", names.client),
                &format!("client_id: {}\n", taken.client),
            ),
            "tenants[0].apps[0].clients[0].client_id: is the id of a client of another app".into(),
        ),
    ];
    for (what, text, expected) in cases {
        let path = write(&dir, "bad.yaml", &text);
        let shown = path.display().to_string();
        for args in [
            vec!["seed", shown.as_str()],
            vec!["serve", "--listen", "127.0.0.1:0", "--seed", shown.as_str()],
        ] {
            let (code, line) = run(&args, &db);
            assert_eq!(code, Some(2), "{what}: {args:?} gave {line:?}");
            let prefix = format!("{shown}: {expected}");
            assert!(
                line.starts_with(&prefix),
                "{what}: {line:?} should start with {prefix:?}"
            );
        }
    }
    // Nothing of any of them was applied: the good seed's state is intact, and the user
    // declared beside the refused client was rolled back with it.
    let server = serve(&db, None, &[]);
    let admin = access_token(&server, &names.admin, "admin-secret-0123456789").await;
    assert_eq!(
        token(&server, &names.client, "shop-secret-0123456789")
            .await
            .status(),
        200
    );
    let state = snapshot(&server, &admin).await;
    assert_eq!(
        state["users"]["result"].as_array().unwrap().len(),
        2,
        "{state}"
    );
    // A missing file is one line too.
    let (code, line) = run(&["seed", "/nonexistent/seed.yaml"], &db);
    assert_eq!(
        (
            code,
            line.starts_with("/nonexistent/seed.yaml: cannot read")
        ),
        (Some(2), true),
        "{line}"
    );
}

#[tokio::test]
async fn reset_clears_users_keeps_clients_and_restores_the_seed() {
    let (_dir, db, names, seed) = setup();

    // Without --allow-reset the route does not exist.
    let plain = serve(&db, Some(&seed), &[]);
    let admin = access_token(&plain, &names.admin, "admin-secret-0123456789").await;
    assert_eq!(reset(&plain, &admin).await.0, 404);
    plain.stop();

    let server = serve(&db, Some(&seed), &["--allow-reset"]);
    let admin = access_token(&server, &names.admin, "admin-secret-0123456789").await;
    let seeded = snapshot(&server, &admin).await;
    let client = access_token(&server, &names.client, "shop-secret-0123456789").await;
    for i in 0..5 {
        let body = json!({"email": format!("extra{i}.{}@example.com", names.admin)});
        assert_eq!(
            send_json(Method::POST, server.url("/cis/v1/users"), &client, body)
                .await
                .0,
            201
        );
    }
    let (status, _) = send_json(
        Method::POST,
        server.url("/cis/v1/groups"),
        &admin,
        json!({"name": "Temp"}),
    )
    .await;
    assert_eq!(status, 201);
    let ann = seeded["users"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"]["value"] == json!(names.email))
        .unwrap()
        .clone();
    let path = format!("/cis/v1/users/{}", ann["user_id"].as_str().unwrap());
    let edit = json!({"custom_data": {"plan": "free"}});
    assert_eq!(
        send_json(Method::PUT, server.url(&path), &client, edit)
            .await
            .0,
        200
    );

    // An app's client may not reset; the other tenant's users are not touched.
    assert_eq!(reset(&server, &client).await.0, 403);
    let other = access_token(&server, &names.other_admin, "other-secret-0123456789").await;
    let (status, body) = reset(&server, &admin).await;
    assert_eq!(
        (status, body["deleted_users"].clone()),
        (200, json!(7)),
        "{body}"
    );
    let (_, theirs) = get(&server, "/cis/v1/users", &other).await;
    assert_eq!(theirs["result"].as_array().unwrap().len(), 1);

    // Clients keep working (the token from before the reset too); the seeded users come
    // back under the same ids, and the seeded password logs in again.
    let (status, _) = get(&server, "/cis/v1/users", &client).await;
    assert_eq!(status, 200);
    let mut after = snapshot(&server, &admin).await;
    let mut before = seeded;
    for state in [&mut before, &mut after] {
        strip(
            state,
            &[
                "created_at",
                "updated_at",
                "status_changed_at",
                "password_information",
            ],
        );
    }
    assert_eq!(before, after);
    assert_eq!(
        login(&server, &names.client, &names.email, PASSWORD).await,
        200
    );

    // A second reset at once; then a restart on the same database finds the tenant where
    // the resets left it, with tokens from before still good.
    let seeded_users = before["users"]["result"].as_array().unwrap().len();
    let (status, body) = reset(&server, &admin).await;
    assert_eq!(
        (status, body["deleted_users"].clone()),
        (200, json!(seeded_users))
    );
    server.stop();
    let server = serve(&db, Some(&seed), &["--allow-reset"]);
    let mut restarted = snapshot(&server, &admin).await;
    strip(
        &mut restarted,
        &[
            "created_at",
            "updated_at",
            "status_changed_at",
            "password_information",
        ],
    );
    assert_eq!(before, restarted);
    let (status, _) = get(&server, "/cis/v1/users", &client).await;
    assert_eq!(status, 200);
}

/// A second server on the same database (another node) follows a reset made through the
/// first within the 2 s it re-reads which tenants moved, and a reset it makes before then
/// still finds the tenant.
#[tokio::test]
async fn a_second_server_on_the_database_follows_a_reset() {
    let (_dir, db, names, seed) = setup();
    let first = serve(&db, Some(&seed), &["--allow-reset"]);
    let second = serve(&db, Some(&seed), &["--allow-reset"]);
    let admin = access_token(&first, &names.admin, "admin-secret-0123456789").await;
    let client = access_token(&first, &names.client, "shop-secret-0123456789").await;
    let seeded = user_count(&first, &admin).await;
    let add = |server: &Server, name: &str| {
        let url = server.url("/cis/v1/users");
        let body = json!({"email": format!("{name}.{}@example.com", names.admin)});
        let client = client.clone();
        async move { send_json(Method::POST, url, &client, body).await.0 }
    };
    assert_eq!(add(&first, "extra").await, 201);
    assert_eq!(user_count(&second, &admin).await, seeded + 1);
    assert_eq!(reset(&first, &admin).await.0, 200);
    assert_eq!(user_count(&first, &admin).await, seeded);
    // At once, before the second server has looked again.
    let (status, body) = reset(&second, &admin).await;
    assert_eq!(
        (status, body["deleted_users"].clone()),
        (200, json!(seeded))
    );
    // What the second server writes now, the first one shows once it has followed.
    assert_eq!(add(&second, "later").await, 201);
    let mut followed = false;
    for _ in 0..40 {
        if user_count(&first, &admin).await == seeded + 1 {
            followed = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        followed,
        "the first server does not show the user made after the reset"
    );
    assert_eq!(user_count(&second, &admin).await, seeded + 1);
}

/// A seed of a few hundred users (past the size from which the store reads an app's
/// members at once): a restart writes nothing, and edited entries are still applied.
#[tokio::test]
async fn a_large_seed_restarts_without_writes_and_applies_edits() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(&dir);
    let names = Names::new();
    let email = |i: usize| format!("u{i}.{}@example.com", names.admin);
    let seed = |plan: &str, blog7: &str, password: &str| {
        let shop: Vec<Value> = (0..150)
            .map(|i| {
                let mut u = json!({"email": email(i), "custom_data": {"n": i}});
                if i == 5 {
                    u["custom_data"]["plan"] = json!(plan);
                }
                if i == 0 {
                    u["credentials"] = json!({"password": password, "force_replace": false});
                }
                u
            })
            .collect();
        let blog: Vec<Value> = (0..10)
            .map(|i| {
                let username = if i == 7 {
                    blog7.to_owned()
                } else {
                    format!("b{i}")
                };
                json!({"email": email(i), "username": username})
            })
            .collect();
        json!({"tenants": [{
            "name": names.tenant,
            "management_clients": [{"client_id": names.admin, "client_secret": "admin-secret-0123456789"}],
            "apps": [
                {"app_name": "Shop", "users": shop,
                 "clients": [{"client_id": names.client, "client_secret": "shop-secret-0123456789"}]},
                {"app_name": "Blog", "users": blog},
            ],
        }]})
        .to_string()
    };
    let path = write(&dir, "big.json", &seed("pro", "b7", PASSWORD));
    assert_eq!(run(&["seed", path.to_str().unwrap()], &db).0, Some(0));
    let server = serve(&db, Some(&path), &[]);
    let admin = access_token(&server, &names.admin, "admin-secret-0123456789").await;
    let first = snapshot(&server, &admin).await;
    server.stop();
    let server = serve(&db, Some(&path), &[]);
    assert_eq!(snapshot(&server, &admin).await, first);
    server.stop();

    let changed = "Another&Pa55word-42";
    let path = write(&dir, "big.json", &seed("team", "blogger7", changed));
    let server = serve(&db, Some(&path), &[]);
    let after = snapshot(&server, &admin).await;
    let users = after["users"]["result"].as_array().unwrap();
    assert_eq!(users.len(), 150);
    let find = |i: usize| {
        users
            .iter()
            .find(|u| u["email"]["value"] == json!(email(i)))
            .unwrap()
    };
    assert_eq!(find(5)["custom_data"], json!({"n": 5, "plan": "team"}));
    let before = first["users"]["result"].as_array().unwrap();
    let old = |i: usize| {
        before
            .iter()
            .find(|u| u["email"]["value"] == json!(email(i)))
            .unwrap()
    };
    // Entries that did not change were not written.
    assert_eq!(find(6), old(6));
    let blog = after["apps"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["app_name"] == "Blog")
        .unwrap()["app_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, members) = get(&server, &format!("/cis/v1/users?app_id={blog}"), &admin).await;
    let usernames: Vec<_> = members["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].clone())
        .collect();
    assert!(usernames.contains(&json!("blogger7")), "{usernames:?}");
    assert!(!usernames.contains(&json!("b7")), "{usernames:?}");
    assert_eq!(login(&server, &names.client, &email(0), changed).await, 200);
    assert_eq!(
        login(&server, &names.client, &email(0), PASSWORD).await,
        401
    );
}

async fn user_count(server: &Server, admin: &str) -> usize {
    let (status, body) = get(server, "/cis/v1/users?page_limit=5000", admin).await;
    assert_eq!(status, 200, "{body}");
    body["result"].as_array().unwrap().len()
}

/// The `yaml` block that follows `heading` in a document of the repository.
fn documented_seed(file: &str, heading: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let text = std::fs::read_to_string(root.join(file)).unwrap();
    let from = text.find(heading).unwrap();
    let block = text[from..].split("```yaml\n").nth(1).unwrap();
    block.split("```").next().unwrap().to_owned()
}

/// The seeds the README and docs/testing.md show apply as written, and the worked example
/// of docs/testing.md does what the page says: the app's client finds and logs in Alice.
#[tokio::test]
async fn the_documented_seeds_apply_and_the_worked_example_holds() {
    let dir = tempfile::tempdir().unwrap();
    let readme = write(
        &dir,
        "readme.yaml",
        &documented_seed("README.md", "## Seed files"),
    );
    let (code, line) = run(&["seed", readme.to_str().unwrap()], &sqlite_url(&dir));
    assert_eq!(code, Some(0), "README seed: {line}");

    let testing = write(
        &dir,
        "testing.yaml",
        &documented_seed("docs/testing.md", "## 1."),
    );
    let server = serve("sqlite::memory:", Some(&testing), &["--allow-reset"]);
    let client = access_token(&server, "my-app-ci", "my-app-ci-secret-0123456789").await;
    let (status, alice) = get(&server, "/cis/v1/users/email/alice@example.com", &client).await;
    assert_eq!(status, 200, "{alice}");
    assert_eq!(alice["result"]["name"]["first_name"], "Alice");
    let body = json!({"username": "alice@example.com", "username_type": "email", "password": "Wonderland-1865"});
    let url = server.url("/cis/v1/auth/password/authenticate");
    assert_eq!(send_json(Method::POST, url, &client, body).await.0, 200);
    let admin = access_token(&server, "ci-admin", "ci-admin-secret-0123456789").await;
    assert_eq!(reset(&server, &admin).await.0, 200);
}

/// A reset applies the tenant's whole seed again: a seeded app deleted through the API
/// comes back, with its users.
#[tokio::test]
async fn reset_brings_back_a_deleted_seeded_app() {
    let (_dir, db, names, seed) = setup();
    let server = serve(&db, Some(&seed), &["--allow-reset"]);
    let admin = access_token(&server, &names.admin, "admin-secret-0123456789").await;
    let blog_id = |apps: &Value| {
        apps["result"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["app_name"] == "Blog")
            .map(|a| a["app_id"].as_str().unwrap().to_owned())
    };
    let (_, apps) = get(&server, "/cis/v1/applications", &admin).await;
    let old = blog_id(&apps).unwrap();
    let url = server.url(&format!("/cis/v1/applications/{old}"));
    let r = reqwest::Client::new()
        .delete(url)
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(reset(&server, &admin).await.0, 200);
    let (_, apps) = get(&server, "/cis/v1/applications", &admin).await;
    let new = blog_id(&apps).expect("Blog is back");
    assert_ne!(new, old);
    let (_, users) = get(&server, &format!("/cis/v1/users?app_id={new}"), &admin).await;
    assert_eq!(users["result"][0]["username"], "ann", "{users}");
}
