//! Group commit of concurrent creates on SQLite: each create joins a queue, and whoever
//! next holds the writer writes every queued create in one transaction and answers each
//! after the commit. Concurrent creates so share one WAL write instead of queueing for the
//! writer one by one. It sits above the queries it calls; the connection layer below knows
//! nothing of users.

use crate::db::{Db, Savepoint};
use crate::queries::users_create::{create_batch, Outcome};
use crate::sqlite::SqliteBackend;
use roster_core::user::NewUser;
use roster_core::{AppId, Error, TenantId};
use std::sync::{Mutex, PoisonError};

/// A create waiting for a group commit.
struct Job {
    tenant: TenantId,
    app: Option<AppId>,
    input: NewUser,
    reply: tokio::sync::oneshot::Sender<Outcome>,
}

#[derive(Default)]
pub(crate) struct GroupCommit {
    queue: Mutex<Vec<Job>>,
}

impl GroupCommit {
    pub(crate) async fn create(
        &self,
        sqlite: &SqliteBackend,
        tenant: &TenantId,
        app: Option<&AppId>,
        input: &NewUser,
    ) -> Outcome {
        let (reply, mut answer) = tokio::sync::oneshot::channel();
        self.queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Job {
                tenant: tenant.clone(),
                app: app.cloned(),
                input: input.clone(),
                reply,
            });
        let closed = || Error::Unavailable("the database is closed".into());
        tokio::select! {
            biased;
            // An earlier holder of the writer has written this create already.
            done = &mut answer => return done.map_err(|_| closed())?,
            writer = sqlite.write() => {
                let mut writer = writer?;
                let jobs = std::mem::take(&mut *self.queue.lock().unwrap_or_else(PoisonError::into_inner));
                if !jobs.is_empty() {
                    writer.begin_immediate().await?;
                    commit(Db::Sqlite(writer), jobs).await;
                }
            }
        }
        answer.await.map_err(|_| closed())?
    }
}

/// Writes the jobs, grouped by tenant and app, in the open transaction `db`, commits, and
/// only then answers them. With several groups each has a savepoint, so that a group that
/// fails takes only its own writes back.
async fn commit(mut db: Db<'_>, mut jobs: Vec<Job>) {
    let mut answers: Vec<(Job, Outcome)> = Vec::with_capacity(jobs.len());
    let mut failed = false;
    while let Some(first) = jobs.first() {
        let (tenant, app) = (first.tenant.clone(), first.app.clone());
        let (group, rest): (Vec<_>, Vec<_>) = jobs
            .into_iter()
            .partition(|j| j.tenant == tenant && j.app == app);
        jobs = rest;
        let alone = answers.is_empty() && jobs.is_empty();
        let inputs: Vec<&NewUser> = group.iter().map(|j| &j.input).collect();
        let written = if alone {
            create_batch(&mut db, &tenant, app.as_ref(), &inputs).await
        } else {
            match db.savepoint(Savepoint::Set, "grp").await {
                Ok(()) => create_batch(&mut db, &tenant, app.as_ref(), &inputs).await,
                Err(e) => Err(e.into()),
            }
        };
        let results: Vec<Outcome> = match written {
            Ok(results) => {
                if !alone {
                    let _ = db.savepoint(Savepoint::Release, "grp").await;
                }
                results
            }
            Err(e) => {
                if alone {
                    failed = true;
                } else {
                    let _ = db.savepoint(Savepoint::Undo, "grp").await;
                }
                group.iter().map(|_| Err(e.clone())).collect()
            }
        };
        answers.extend(group.into_iter().zip(results));
    }
    // A lone group that failed wrote nothing worth keeping: dropping `db` rolls back.
    let committed = if failed {
        Ok(())
    } else {
        db.commit().await.map_err(Error::from)
    };
    for (job, outcome) in answers {
        let outcome = match &committed {
            Ok(()) => outcome,
            Err(e) => Err(e.clone()),
        };
        // The caller may have gone; the user is created all the same.
        let _ = job.reply.send(outcome);
    }
}
