//! Token signing keys: installation-wide, shared by every node on one database.

use crate::db::{args, Db, Row};
use roster_core::signing_key::SigningKeyRecord;
use roster_core::StoreError;

const KEY_COLUMNS: &str = "kid, purpose, algorithm, private_key, public_key, created_at";

fn key_from_row(row: &Row) -> Result<SigningKeyRecord, StoreError> {
    Ok(SigningKeyRecord {
        kid: row.text("kid")?,
        purpose: row.text("purpose")?,
        algorithm: row.text("algorithm")?,
        private_key: row.text("private_key")?,
        public_key: row.text("public_key")?,
        created_at: row.int("created_at")?,
    })
}

pub(crate) async fn ensure_signing_key(
    db: &mut Db<'_>,
    candidate: &SigningKeyRecord,
) -> Result<SigningKeyRecord, StoreError> {
    db.execute(
        "INSERT INTO signing_keys (kid, purpose, algorithm, private_key, public_key, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        args![
            &candidate.kid,
            &candidate.purpose,
            &candidate.algorithm,
            &candidate.private_key,
            &candidate.public_key,
            candidate.created_at
        ],
    )
    .await?;
    let sql = format!("SELECT {KEY_COLUMNS} FROM signing_keys WHERE purpose = $1");
    key_from_row(&db.query_one(&sql, args![&candidate.purpose]).await?)
}

pub(crate) async fn signing_keys(db: &mut Db<'_>) -> Result<Vec<SigningKeyRecord>, StoreError> {
    let sql = format!("SELECT {KEY_COLUMNS} FROM signing_keys ORDER BY created_at");
    db.query(&sql, &[])
        .await?
        .iter()
        .map(key_from_row)
        .collect()
}

/// Replaces a key's stored private key if it is still `from` (another node may have
/// sealed it first); whether this call replaced it.
pub(crate) async fn replace_private_key(
    db: &mut Db<'_>,
    kid: &str,
    from: &str,
    to: &str,
) -> Result<bool, StoreError> {
    let n = db
        .execute(
            "UPDATE signing_keys SET private_key = $1 WHERE kid = $2 AND private_key = $3",
            args![to, kid, from],
        )
        .await?;
    Ok(n == 1)
}
