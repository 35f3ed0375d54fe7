//! An app's members read all at once, for a seed that brings many of them to their entries:
//! one read per entry costs a round trip each on PostgreSQL (10,000 entries: over 3 s).

use super::users::reconcile_member;
use crate::db::{args, Db};
use crate::queries::users_read::{from_clause, view_columns, view_from_row};
use roster_core::password::PasswordHash;
use roster_core::seed::UserPlan;
use roster_core::user::{Scope, UserId, UserView};
use roster_core::{AppId, StoreError, TenantId};
use std::collections::HashMap;

/// Entries from which one read of the whole app pays, and how many members per entry the
/// app may have for it to pay.
const FROM_ENTRIES: usize = 100;
const MEMBERS_PER_ENTRY: i64 = 2;

pub(super) struct Members {
    views: HashMap<String, UserView>,
    passwords: HashMap<String, (PasswordHash, bool)>,
}

impl Members {
    /// The app's members and their passwords, unless `entries` are too few for a read of
    /// the whole app to pay.
    pub(super) async fn read(
        db: &mut Db<'_>,
        tenant: &TenantId,
        app: &AppId,
        entries: usize,
    ) -> Result<Option<Self>, StoreError> {
        if entries < FROM_ENTRIES {
            return Ok(None);
        }
        let (t, a) = (tenant.as_str(), app.as_str());
        let members = db
            .query_opt(
                "SELECT n FROM app_member_counts WHERE tenant_id = $1 AND app_id = $2",
                args![t, a],
            )
            .await?
            .map(|r| r.int("n"))
            .transpose()?
            .unwrap_or(0);
        let wanted = i64::try_from(entries).unwrap_or(i64::MAX);
        if members > wanted.saturating_mul(MEMBERS_PER_ENTRY) {
            return Ok(None);
        }
        let scope = Scope::Members(app.clone());
        let sql = format!(
            "SELECT {} {} WHERE u.tenant_id = $1",
            view_columns(db.dialect()),
            from_clause(&scope)
        );
        let mut views = HashMap::new();
        for row in db.query(&sql, args![t, a]).await? {
            let view = view_from_row(&row)?;
            views.insert(view.user.user_id.as_str().to_owned(), view);
        }
        let mut passwords = HashMap::new();
        let sql = "SELECT user_id, hash, temporary FROM user_passwords \
                   WHERE tenant_id = $1 AND app_id = $2";
        for row in db.query(sql, args![t, a]).await? {
            let hash = PasswordHash::from_stored(row.text("hash")?);
            passwords.insert(row.text("user_id")?, (hash, row.bool("temporary")?));
        }
        Ok(Some(Self { views, passwords }))
    }

    /// Whether the member already is what its entry says, password included: nothing to
    /// write. `false` sends the entry the way of one read (and write) per entry.
    pub(super) fn match_entry(&self, plan: &UserPlan, id: &UserId, now: i64) -> bool {
        let Some(view) = self.views.get(id.as_str()) else {
            return false;
        };
        let mut after = view.clone();
        reconcile_member(plan, &mut after.user, after.membership.as_mut(), now);
        if after != *view {
            return false;
        }
        match &plan.password {
            None => true,
            Some(wanted) => self
                .passwords
                .get(id.as_str())
                .is_some_and(|(hash, temporary)| {
                    *hash == wanted.hash && *temporary == wanted.temporary
                }),
        }
    }
}
