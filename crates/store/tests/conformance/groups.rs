//! Groups: names unique per tenant, all-or-nothing membership, the effects of deleting a
//! group or a user, `groupIds` on user views, and isolation between tenants.

use crate::setup;
use crate::users::{app, input, is_not_found};
use roster_core::group::{GroupChange, GroupInput};
use roster_core::user::{Scope, UserId};
use roster_core::{Error, GroupId};
use serde_json::{json, Value};

fn change(v: Value) -> GroupChange {
    serde_json::from_value::<GroupInput>(v)
        .unwrap()
        .for_create()
        .unwrap()
}

fn update(v: Value) -> GroupChange {
    serde_json::from_value::<GroupInput>(v)
        .unwrap()
        .for_update()
        .unwrap()
}

#[tokio::test]
async fn groups_are_created_read_renamed_and_deleted() {
    let (store, a, b) = setup().await;
    let t = store.tenant(&a);
    let admins = t
        .create_group(change(json!({"name": "Admins", "description": "d"})))
        .await
        .unwrap();
    let staff = t
        .create_group(change(json!({"name": "Staff", "custom_data": {"k": 1}})))
        .await
        .unwrap();
    assert_eq!(t.get_group(&admins.group_id).await.unwrap(), admins);
    let names: Vec<String> = t
        .list_groups()
        .await
        .unwrap()
        .into_iter()
        .map(|g| g.name)
        .collect();
    assert_eq!(names, ["Admins", "Staff"]);

    // A taken name is a conflict, on create and on rename; nothing changes.
    let taken = t.create_group(change(json!({"name": "Admins"}))).await;
    assert!(
        matches!(
            taken,
            Err(Error::Conflict {
                code: "GROUP_NAME_TAKEN",
                ..
            })
        ),
        "{taken:?}"
    );
    let renamed = t
        .update_group(&staff.group_id, update(json!({"name": "Admins"})))
        .await;
    assert!(
        matches!(renamed, Err(Error::Conflict { .. })),
        "{renamed:?}"
    );
    assert_eq!(t.get_group(&staff.group_id).await.unwrap().name, "Staff");

    let s = t
        .update_group(
            &staff.group_id,
            update(json!({"name": "Team", "custom_data": {"z": 2}})),
        )
        .await
        .unwrap();
    assert_eq!(
        (s.name.as_str(), Value::Object(s.custom_data)),
        ("Team", json!({"z": 2}))
    );

    // Another tenant sees none of it, and may use the same name.
    let other = store.tenant(&b);
    assert!(is_not_found(other.get_group(&admins.group_id).await));
    assert!(is_not_found(
        other
            .update_group(&admins.group_id, update(json!({"name": "x"})))
            .await
    ));
    assert!(is_not_found(other.delete_group(&admins.group_id).await));
    assert!(other.list_groups().await.unwrap().is_empty());
    other
        .create_group(change(json!({"name": "Admins"})))
        .await
        .unwrap();

    t.delete_group(&admins.group_id).await.unwrap();
    assert!(is_not_found(t.get_group(&admins.group_id).await));
    assert!(is_not_found(t.delete_group(&admins.group_id).await));
}

#[tokio::test]
async fn members_are_added_all_or_nothing_and_follow_deletes() {
    let (store, a, b) = setup().await;
    let t = store.tenant(&a);
    let shop = app(&store, &a, "Shop").await;
    let other_app = app(&store, &a, "Other").await;
    let ann = t
        .create_user(Some(&shop), &input(json!({"email": "ann@example.com"})))
        .await
        .unwrap()
        .0
        .user
        .user_id;
    let bob = t
        .create_user(
            Some(&other_app),
            &input(json!({"email": "bob@example.com"})),
        )
        .await
        .unwrap()
        .0
        .user
        .user_id;
    let stranger = store
        .tenant(&b)
        .create_user(None, &input(json!({"email": "x@example.com"})))
        .await
        .unwrap()
        .0
        .user
        .user_id;
    let g = t
        .create_group(change(json!({"name": "G"})))
        .await
        .unwrap()
        .group_id;
    let h = t
        .create_group(change(json!({"name": "H"})))
        .await
        .unwrap()
        .group_id;

    // Another tenant's user and an unknown id are named, and nothing is added.
    let ghost = UserId::from_string("no-such-user");
    let r = t
        .add_group_members(&g, &[ann.clone(), stranger.clone(), ghost.clone()])
        .await;
    match r {
        Err(Error::Invalid(m)) => {
            assert!(
                m[0].contains(stranger.as_str()) && m[0].contains("no-such-user"),
                "{m:?}"
            );
            assert!(!m[0].contains(ann.as_str()), "{m:?}");
        }
        other => panic!("expected a 400, got {other:?}"),
    }
    let tenant = Scope::Tenant(None);
    assert!(t
        .group_members(&tenant, &g, 100, 0)
        .await
        .unwrap()
        .is_empty());
    assert!(is_not_found(
        t.add_group_members(&GroupId::generate(), std::slice::from_ref(&ann))
            .await
    ));

    // Any user of the tenant may be added; adding one twice is no error.
    t.add_group_members(&g, &[ann.clone(), bob.clone()])
        .await
        .unwrap();
    t.add_group_members(&g, std::slice::from_ref(&ann))
        .await
        .unwrap();
    t.add_group_members(&h, std::slice::from_ref(&ann))
        .await
        .unwrap();
    let mut both = vec![ann.clone(), bob.clone()];
    both.sort();
    let ids = |v: Vec<roster_core::user::UserView>| {
        v.into_iter().map(|v| v.user.user_id).collect::<Vec<_>>()
    };
    assert_eq!(
        ids(t.group_members(&tenant, &g, 100, 0).await.unwrap()),
        both
    );
    assert_eq!(
        ids(t.group_members(&tenant, &g, 1, 1).await.unwrap()),
        both[1..]
    );
    // A client's scope sees its app's members only.
    assert_eq!(
        ids(t
            .group_members(&Scope::Members(shop.clone()), &g, 100, 0)
            .await
            .unwrap()),
        std::slice::from_ref(&ann)
    );

    // groupIds on the user, and the user's groups.
    let mut gh = vec![g.as_str().to_owned(), h.as_str().to_owned()];
    gh.sort();
    assert_eq!(t.get_user(&tenant, &ann).await.unwrap().user.group_ids, gh);
    let names: Vec<String> = t
        .user_groups(&tenant, &ann)
        .await
        .unwrap()
        .into_iter()
        .map(|g| g.name)
        .collect();
    assert_eq!(names, ["G", "H"]);
    assert!(is_not_found(
        t.user_groups(&Scope::Members(shop.clone()), &bob).await
    ));
    assert!(is_not_found(
        store
            .tenant(&b)
            .user_groups(&Scope::Tenant(None), &ann)
            .await
    ));

    // Removing one member; a second removal and an unknown group are 404.
    t.remove_group_member(&h, &ann).await.unwrap();
    assert!(is_not_found(t.remove_group_member(&h, &ann).await));
    assert!(is_not_found(
        t.remove_group_member(&GroupId::generate(), &ann).await
    ));
    assert_eq!(
        t.get_user(&tenant, &ann).await.unwrap().user.group_ids,
        [g.as_str()]
    );

    // Deleting a user removes its memberships; deleting a group removes the group's.
    t.delete_user(&bob).await.unwrap();
    assert_eq!(
        ids(t.group_members(&tenant, &g, 100, 0).await.unwrap()),
        std::slice::from_ref(&ann)
    );
    t.delete_group(&g).await.unwrap();
    assert!(t
        .get_user(&tenant, &ann)
        .await
        .unwrap()
        .user
        .group_ids
        .is_empty());
    assert!(is_not_found(t.group_members(&tenant, &g, 100, 0).await));
}
