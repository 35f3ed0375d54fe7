use super::{SeedError, SeedFile};
use serde_json::json;

fn plan(v: serde_json::Value) -> Result<super::SeedPlan, SeedError> {
    serde_json::from_value::<SeedFile>(v).unwrap().plan(0)
}

fn error(v: serde_json::Value) -> String {
    plan(v).unwrap_err().to_string()
}

const SECRET: &str = "secret-0123456789abcdef";

#[test]
fn a_complete_seed_plans() {
    let p = plan(json!({"tenants": [{
        "name": "Default",
        "management_clients": [{"client_id": "ci-admin", "client_secret": SECRET}],
        "apps": [
            {"app_name": "Shop", "app_description": "Storefront",
             "password_configuration": {"passwordMinLength": 8},
             "clients": [{"client_id": "shop-ci", "client_secret": SECRET}],
             "users": [{"email": "ann@example.com", "credentials": {"password": "Correct-Horse-9"}},
                       {"phone_number": "+15555550100", "username": "bob"}]},
            {"app_name": "Blog",
             "users": [{"email": "ANN@example.com", "username": "ann"}]}
        ],
        "groups": [{"name": "Staff", "members": ["ann@example.com", "+15555550100", "ANN"]}]
    }]}))
    .unwrap();
    let t = &p.tenants[0];
    assert_eq!(t.apps[0].input.password_config.password_min_length, 8);
    assert!(t.apps[0].users[0].credentials.is_some());
    assert_eq!(t.apps[1].users[0].same_as, Some((0, 0)));
    assert_eq!(t.groups[0].members, vec![(0, 0), (0, 1)]);
}

#[test]
fn every_problem_names_its_entry_and_field() {
    let cases = [
        (
            json!({"tenants": [{"name": "T", "apps": [{"app_name": "A"}, {"app_name": "B",
                "clients": [{"client_id": "b", "client_secret": "short"}]}]}]}),
            "tenants[0].apps[1].clients[0].client_secret: must be at least 16 characters",
        ),
        (
            json!({"tenants": [{"name": "T", "management_clients": [
                {"client_id": "x", "client_secret": SECRET}, {"client_id": "x", "client_secret": SECRET}]}]}),
            "tenants[0].management_clients[1].client_id: is declared earlier in the file (client ids are unique in the installation)",
        ),
        (
            json!({"tenants": [{"name": "T", "management_clients": [{"client_id": "a b", "client_secret": SECRET}]}]}),
            "tenants[0].management_clients[0].client_id: must be 1 to 128 characters of A-Z, a-z, 0-9, '.', '_', '~' and '-'",
        ),
        (
            json!({"tenants": [{"name": "T"}, {"name": "T"}]}),
            "tenants[1].name: names a tenant declared earlier in the file",
        ),
        (
            json!({"tenants": [{"name": "T", "apps": [{"app_name": "A", "users": [{"emial": "a@example.com"}]}]}]}),
            "tenants[0].apps[0].users[0].emial: is not a field of a POST /v1/users body",
        ),
        (
            json!({"tenants": [{"name": "T", "apps": [{"app_name": "A", "users": [{"email": 5}]}]}]}),
            "tenants[0].apps[0].users[0].email: invalid type: integer `5`, expected a string",
        ),
        (
            json!({"tenants": [{"name": "T", "apps": [{"app_name": "A", "users": [
                {"email": "a@example.com"}, {"email": "A@example.com"}]}]}]}),
            "tenants[0].apps[0].users[1].email: is also given by users[0] of this app",
        ),
        (
            json!({"tenants": [{"name": "T", "apps": [{"app_name": "A", "users": [
                {"email": "a@example.com", "credentials": {"password": "short"}}]}]}]}),
            "tenants[0].apps[0].users[0].credentials.password: ",
        ),
        (
            json!({"tenants": [{"name": "T", "apps": [{"app_name": "A", "users": [
                {"email": "a@example.com", "delegated_access": {"actor_id": "x", "permissions": []}}]}]}]}),
            "tenants[0].apps[0].users[0].delegated_access: is not supported in seed files",
        ),
        (
            json!({"tenants": [{"name": "T", "groups": [{"name": "G", "members": ["nobody@example.com"]}]}]}),
            "tenants[0].groups[0].members[0]: names no seeded user",
        ),
        (
            json!({"tenants": [{"name": "T", "apps": [{"app_name": "A", "users": [{"email": "not-an-email"}]}]}]}),
            "tenants[0].apps[0].users[0]: email",
        ),
    ];
    for (seed, expected) in cases {
        let got = error(seed);
        assert!(
            got.starts_with(expected),
            "{got:?} should start with {expected:?}"
        );
        assert!(!got.contains('\n'), "{got:?} is one line");
    }
}
