//! End-user sessions (refresh-token families): their totals are capped per user and app,
//! and a family keeps only its latest used tokens.

use crate::setup;
use roster_core::session::Rotation;
use roster_core::user::CreateUserInput;
use roster_core::ClientId;
use serde_json::json;

#[tokio::test]
async fn sessions_are_capped_per_user_and_app_and_rotations_stay_bounded() {
    let (store, a, _) = setup().await;
    let t = store.tenant(&a);
    let (app, _) = t
        .create_app(&crate::new_app("Sessions"), None)
        .await
        .unwrap();
    let client = ClientId::generate();
    let now = roster_core::time::now_ms();
    let input = serde_json::from_value::<CreateUserInput>(json!({"email": "s@example.com"}))
        .unwrap()
        .validate(now)
        .unwrap();
    let (view, _) = t.create_user(Some(&app.app_id), &input).await.unwrap();
    let user = view.user.user_id;
    // 60 logins: only the newest 50 sessions survive.
    for i in 0..60 {
        let digest = format!("{}login-{i}", a.as_str());
        t.start_session(&app.app_id, &client, &user, &digest, now + i)
            .await
            .unwrap();
    }
    let rotate = |presented: String, next: String, at: i64| {
        let (t, client) = (t.clone(), client.clone());
        // Digests are unique across the installation: each run of the test its own.
        let (presented, next) = (
            format!("{}{presented}", a.as_str()),
            format!("{}{next}", a.as_str()),
        );
        async move {
            t.rotate_refresh_token(&client, &presented, &next, at)
                .await
                .unwrap()
        }
    };
    for i in 0..10 {
        let ended = rotate(format!("login-{i}"), format!("x-{i}"), now + 100).await;
        assert!(
            matches!(ended, Rotation::Refused),
            "session {i} should have ended"
        );
    }
    for i in 10..60 {
        let kept = rotate(format!("login-{i}"), format!("r-{i}-0"), now + 100).await;
        assert!(
            matches!(kept, Rotation::Rotated(_)),
            "session {i} should be alive"
        );
    }
    // One family rotated 30 times keeps working; a recent used token replayed still revokes
    // the family, and the count of stored tokens stays bounded (checked by the replay of
    // an old one, forgotten: refused without revoking).
    let mut current = "r-59-0".to_owned();
    for step in 1..=30 {
        let next = format!("r-59-{step}");
        let r = rotate(current.clone(), next.clone(), now + 200 + step).await;
        assert!(matches!(r, Rotation::Rotated(_)), "step {step}");
        current = next;
    }
    let forgotten = rotate("r-59-3".into(), "z-1".into(), now + 300).await;
    assert!(matches!(forgotten, Rotation::Refused));
    let still = rotate(current.clone(), "r-59-31".into(), now + 301).await;
    assert!(
        matches!(still, Rotation::Rotated(_)),
        "an old replay must not end the family"
    );
    let replay = rotate("r-59-29".into(), "z-2".into(), now + 302).await;
    assert!(matches!(replay, Rotation::Refused));
    let after = rotate("r-59-31".into(), "z-3".into(), now + 303).await;
    assert!(
        matches!(after, Rotation::Refused),
        "a recent replay revokes the family"
    );
}
