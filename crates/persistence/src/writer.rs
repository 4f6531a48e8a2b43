//! Group commit: the hot writes of an SQLite database share transactions.
//!
//! SQLite has one writer at a time, and a commit's cost barely depends on how
//! much it commits: it appends every page the transaction changed to the WAL
//! (one `pwrite` each), and a send changes the same few pages as the send
//! before it (the thread and conversation rows, the last leaf of the messages
//! table and of each index). Profiles of 32 concurrent senders showed BEGIN,
//! COMMIT and the queue for the write lock at a fifth of a send's CPU.
//!
//! So on SQLite the sends go to one writer thread with its own connection. It
//! runs the queued sends one after another, each in a savepoint of one
//! transaction (a send that fails rolls back alone), takes in the ones that
//! arrive meanwhile, commits once the queue is empty, and only then answers
//! each sender: nothing is acknowledged before it is committed. Every commit
//! writes each page the batch changed once, so the more sends share it the
//! fewer pages each send costs; yet an idle writer takes the next send at
//! once and commits when nothing else is queued, so a lone send waits for
//! nobody. PostgreSQL commits concurrently, so there [`Writer`] runs the
//! write in the caller's own transaction.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;

use diesel::connection::TransactionManager;
use diesel::prelude::*;
use diesel::r2d2::R2D2Connection;
use diesel::result::{DatabaseErrorKind, Error as QueryError};

use crate::conn::{begin_write, savepoint};
use crate::events::{Notice, collecting, pass_on};
use crate::{DbConn, DbManager, Engine, write_transaction};

/// Most writes one transaction takes. Bounds how long the first sender of a
/// batch waits for the others.
const MAX_BATCH: usize = 64;

/// Where a use case's write transaction runs: in the caller's connection, or
/// queued for the group committer (SQLite).
#[derive(Clone)]
pub struct Writer {
    queue: Option<mpsc::Sender<Box<dyn Job>>>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("grouped", &self.queue.is_some())
            .finish()
    }
}

impl Writer {
    /// Writes in the caller's connection, one transaction each (PostgreSQL, or
    /// a caller without a pool).
    pub fn direct() -> Self {
        Self { queue: None }
    }

    /// The writer for the database `manager` connects to: a group committer
    /// with a connection of its own on SQLite, direct writes on PostgreSQL.
    /// The committer's thread ends when the last clone of the returned writer
    /// is dropped.
    pub fn start(manager: &DbManager) -> Self {
        if manager.engine() != Engine::Sqlite {
            return Self::direct();
        }
        let manager = manager.clone();
        let (queue, jobs) = mpsc::channel();
        match std::thread::Builder::new()
            .name("colloq-writer".to_owned())
            .spawn(move || commit_loop(&manager, &jobs))
        {
            Ok(_thread) => Self { queue: Some(queue) },
            Err(err) => {
                tracing::warn!(error = %err, "no group-commit thread; writing directly");
                Self::direct()
            }
        }
    }

    /// Runs `f` in a write transaction and returns once it is committed: in
    /// the caller's connection, or as one savepoint of the committer's next
    /// transaction. Blocks; call it from the blocking pool.
    ///
    /// # Errors
    /// Whatever `f` returns, or the failure to begin or commit.
    pub fn write<T, E, F>(&self, conn: &mut DbConn, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<QueryError> + Send + 'static,
    {
        // Inside a caller's transaction (a batch, a test) the write belongs
        // to it; and a caller holding the write lock would wait forever for
        // a committer that waits for that lock.
        let Some(queue) = self.queue.as_ref().filter(|_| !in_transaction(conn)) else {
            return write_transaction(conn, f);
        };
        let (reply, answer) = mpsc::sync_channel(1);
        queue_depth().increment(1.0);
        if let Err(mpsc::SendError(job)) = queue.send(Box::new(Queued { f, reply })) {
            queue_depth().decrement(1.0);
            // The committer is gone (it cannot be, short of a bug): the send
            // is still made, in the caller's own transaction.
            tracing::error!("the writer thread has stopped; writing directly");
            write_transaction(conn, |conn| Ok::<_, QueryError>(job.run(conn)))
                .map_err(E::from)?
                .answer(Ok(()));
        }
        // The committer answers every job it takes, except one that panicked:
        // that one's batch was rolled back. The notices of what it committed
        // go on from the caller's thread, as a direct write's would.
        let (value, notices) = answer.recv().unwrap_or_else(|_gone| {
            Err(unavailable("the write panicked; nothing was committed").into())
        })?;
        pass_on(notices);
        Ok(value)
    }
}

impl Writer {
    /// Waits until every write queued before this call has been committed (or
    /// refused), at most `timeout`; false when the committer did not answer
    /// in time. Direct writers have nothing queued. Used to flush at shutdown
    /// and to tell readiness probes that the committer is alive.
    pub fn flush(&self, timeout: std::time::Duration) -> bool {
        let Some(queue) = &self.queue else {
            return true;
        };
        let (reply, answer) = mpsc::sync_channel(1);
        let marker = Queued {
            f: |_conn: &mut DbConn| Ok::<(), QueryError>(()),
            reply,
        };
        queue_depth().increment(1.0);
        if queue.send(Box::new(marker)).is_err() {
            queue_depth().decrement(1.0);
            return false;
        }
        // Jobs are taken in order, so the marker is answered after every job
        // queued before it.
        matches!(answer.recv_timeout(timeout), Ok(Ok(((), _))))
    }
}

/// Writes queued for the committer and not yet taken.
fn queue_depth() -> metrics::Gauge {
    metrics::gauge!("colloq_sqlite_writer_queue_depth")
}

/// A write waiting for the committer.
trait Job: Send {
    /// Runs in its own savepoint; what it returns answers the sender once the
    /// batch has ended.
    fn run(self: Box<Self>, conn: &mut DbConn) -> Box<dyn Ran>;
    /// Answers the sender without running (the batch could not begin).
    fn refuse(self: Box<Self>, why: &QueryError);
}

/// A write that ran, waiting for its batch's commit.
trait Ran: Send {
    fn answer(self: Box<Self>, commit: Result<(), &QueryError>);
}

/// What a sender hears: its write's value and the notices of the events it
/// committed, or why it failed.
type Answer<T, E> = Result<(T, Vec<Notice>), E>;

struct Queued<F, T, E> {
    f: F,
    reply: mpsc::SyncSender<Answer<T, E>>,
}

impl<F, T, E> Job for Queued<F, T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<QueryError> + Send + 'static,
{
    fn run(self: Box<Self>, conn: &mut DbConn) -> Box<dyn Ran> {
        // Nested in the batch's transaction, this is a savepoint, rolled back
        // alone when `f` fails.
        let Self { f, reply } = *self;
        let (result, notices) = collecting(|| savepoint(conn, f));
        Box::new(Done {
            result,
            notices,
            reply,
        })
    }

    fn refuse(self: Box<Self>, why: &QueryError) {
        // The sender may have gone; there is nobody else to tell.
        let _sent = self.reply.send(Err(copy(why).into()));
    }
}

struct Done<T, E> {
    result: Result<T, E>,
    notices: Vec<Notice>,
    reply: mpsc::SyncSender<Answer<T, E>>,
}

impl<T: Send, E: From<QueryError> + Send> Ran for Done<T, E> {
    fn answer(self: Box<Self>, commit: Result<(), &QueryError>) {
        let result = match (self.result, commit) {
            (Ok(_lost), Err(why)) => Err(copy(why).into()),
            (Ok(value), Ok(())) => Ok((value, self.notices)),
            (Err(err), _) => Err(err),
        };
        let _sent = self.reply.send(result);
    }
}

fn commit_loop(manager: &DbManager, jobs: &mpsc::Receiver<Box<dyn Job>>) {
    let mut conn: Option<DbConn> = None;
    while let Ok(first) = jobs.recv() {
        let batch = take_batch(first, jobs);
        if conn.as_mut().is_some_and(R2D2Connection::is_broken) {
            conn = None;
        }
        let mut open = match conn.take() {
            Some(open) => open,
            None => match manager.open() {
                Ok(open) => open,
                Err(err) => {
                    tracing::error!(error = %err, "the writer could not connect");
                    let why = unavailable("the writer could not connect");
                    batch.for_each(|job| job.refuse(&why));
                    continue;
                }
            },
        };
        if commit_batch(&mut open, batch) {
            conn = Some(open);
        }
    }
}

/// The batch that starts with `first`. Taken lazily: a job is pulled from the
/// queue only when the one before it has run, so the writes that arrive while
/// the batch runs join it too, and a lone write still commits at once.
fn take_batch(
    first: Box<dyn Job>,
    jobs: &mpsc::Receiver<Box<dyn Job>>,
) -> impl Iterator<Item = Box<dyn Job>> + '_ {
    std::iter::once(first)
        .chain(std::iter::from_fn(|| jobs.try_recv().ok()))
        .take(MAX_BATCH)
        .inspect(|_job| queue_depth().decrement(1.0))
}

/// Runs one batch in one transaction; false when the connection must not be
/// used again.
fn commit_batch(conn: &mut DbConn, batch: impl IntoIterator<Item = Box<dyn Job>>) -> bool {
    // Held until the batch has ended: the process's other writers wait.
    let _writer = match begin_write(conn) {
        Ok(writer) => writer,
        Err(why) => {
            tracing::error!(error = %why, "a write batch could not begin");
            batch.into_iter().for_each(|job| job.refuse(&why));
            return !conn.is_broken();
        }
    };
    let mut ran = Vec::with_capacity(8);
    for job in batch {
        match catch_unwind(AssertUnwindSafe(|| job.run(conn))) {
            Ok(done) => ran.push(done),
            Err(_panic) => {
                // A bug in a use case: its savepoint is in an unknown state, so
                // the whole batch is rolled back and the connection dropped.
                tracing::error!("a write panicked; its batch is rolled back");
                let why = unavailable("a write in the same batch failed");
                let _rolled_back =
                    <DbConn as Connection>::TransactionManager::rollback_transaction(conn);
                ran.into_iter().for_each(|done| done.answer(Err(&why)));
                // The writes not yet taken stay queued for the next batch.
                return false;
            }
        }
    }
    metrics::histogram!("colloq_sqlite_writer_batch_size").record(ran.len() as f64);
    let committed = <DbConn as Connection>::TransactionManager::commit_transaction(conn);
    if let Err(why) = &committed {
        tracing::error!(error = %why, "a write batch could not commit");
    }
    for done in ran {
        done.answer(committed.as_ref().map(|_| ()));
    }
    committed.is_ok() || !conn.is_broken()
}

/// Whether `conn` must write in its own transaction: it is already in one
/// (a broken transaction manager counts as in one), or it is PostgreSQL's.
fn in_transaction(conn: &mut DbConn) -> bool {
    match conn {
        DbConn::Sqlite(inner) => crate::conn::in_transaction(inner).unwrap_or(true),
        DbConn::Postgres(_) => true,
    }
}

fn unavailable(message: &str) -> QueryError {
    QueryError::DatabaseError(DatabaseErrorKind::Unknown, Box::new(message.to_owned()))
}

/// The same failure for each sender of a batch (diesel's error is not `Clone`).
fn copy(why: &QueryError) -> QueryError {
    match why {
        QueryError::DatabaseError(kind, info) => {
            QueryError::DatabaseError(*kind, Box::new(info.message().to_owned()))
        }
        QueryError::NotFound => QueryError::NotFound,
        other => unavailable(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]

    use chrono::Utc;
    use diesel::prelude::*;

    use super::{Job, MAX_BATCH, Queued, Writer, commit_batch, take_batch};
    use crate::schema::threads;
    use crate::testing::TestDatabase;
    use crate::{DbConn, StoreError, migrate};

    type Answer = std::sync::mpsc::Receiver<super::Answer<i64, StoreError>>;

    fn job<F>(f: F) -> (Box<dyn Job>, Answer)
    where
        F: FnOnce(&mut DbConn) -> Result<i64, StoreError> + Send + 'static,
    {
        let (reply, answer) = std::sync::mpsc::sync_channel(1);
        (Box::new(Queued { f, reply }), answer)
    }

    fn new_thread(conn: &mut DbConn) -> Result<i64, StoreError> {
        crate::messages::create_thread(conn, 1, crate::to_db_time(Utc::now()))
    }

    fn count(conn: &mut DbConn) -> i64 {
        threads::table.count().get_result(conn).unwrap()
    }

    fn connection(db: &TestDatabase) -> DbConn {
        let mut conn = db.manager().unwrap().open().unwrap();
        migrate(&mut conn).unwrap();
        conn
    }

    /// The writes of one batch share its transaction; one that fails is rolled
    /// back alone, and each sender hears its own outcome.
    #[test]
    fn a_failed_write_rolls_back_alone_and_its_batch_commits() {
        let db = TestDatabase::new().unwrap();
        let mut conn = connection(&db);
        let (first, first_answer) = job(new_thread);
        let (failing, failing_answer) = job(|conn| {
            new_thread(conn)?;
            Err(StoreError::Conflict {
                constraint: "refused after writing".to_owned(),
            })
        });
        // The third sees the first's row: the same, still open, transaction.
        let (third, third_answer) = job(|conn| {
            assert_eq!(count(conn), 1, "the failed write's row is gone");
            new_thread(conn)
        });
        assert!(commit_batch(&mut conn, vec![first, failing, third]));
        let (first_id, _) = first_answer.recv().unwrap().unwrap();
        assert!(matches!(
            failing_answer.recv().unwrap(),
            Err(StoreError::Conflict { .. })
        ));
        let (third_id, _) = third_answer.recv().unwrap().unwrap();
        let mut other = db.manager().unwrap().open().unwrap();
        let ids: Vec<i64> = threads::table
            .select(threads::id)
            .order(threads::id)
            .load(&mut other)
            .unwrap();
        assert_eq!(ids, vec![first_id, third_id], "committed, and only these");
    }

    /// A panicking write is a bug: its whole batch is rolled back, every
    /// sender in it hears an error, and the connection is not used again.
    /// The writes not yet taken wait, untouched, for the next batch.
    #[test]
    fn a_panicking_write_fails_its_batch_and_acknowledges_nothing() {
        let db = TestDatabase::new().unwrap();
        let mut conn = connection(&db);
        let (first, first_answer) = job(new_thread);
        #[expect(clippy::panic, reason = "the bug being simulated")]
        let (panicking, panicking_answer) = job(|conn| {
            new_thread(conn)?;
            panic!("a bug in a use case");
        });
        let (not_taken, not_taken_answer) = job(new_thread);
        let (queue, jobs) = std::sync::mpsc::channel();
        queue.send(panicking).unwrap();
        queue.send(not_taken).unwrap();
        assert!(!commit_batch(&mut conn, take_batch(first, &jobs)));
        assert!(first_answer.recv().unwrap().is_err());
        assert!(panicking_answer.recv().is_err(), "no answer: it panicked");
        let mut other = db.manager().unwrap().open().unwrap();
        assert_eq!(count(&mut other), 0);
        assert!(not_taken_answer.try_recv().is_err(), "not answered yet");
        // As the committer does: the connection is dropped, and with it its
        // transaction, whatever state the panic left it in.
        drop(conn);
        let next = jobs.try_recv().unwrap(); // still queued
        assert!(commit_batch(&mut other, take_batch(next, &jobs)));
        not_taken_answer.recv().unwrap().unwrap();
        assert_eq!(count(&mut other), 1);
    }

    /// A write queued while a batch runs joins that batch (its sender is
    /// answered by the same commit), up to the most a batch takes.
    #[test]
    fn writes_queued_while_a_batch_runs_join_it() {
        let db = TestDatabase::new().unwrap();
        let mut conn = connection(&db);
        let (queue, jobs) = std::sync::mpsc::channel();
        let (late, late_answer) = job(new_thread);
        let arriving = queue.clone();
        let (first, first_answer) = job(move |conn| {
            arriving.send(late).unwrap();
            new_thread(conn)
        });
        assert!(commit_batch(&mut conn, take_batch(first, &jobs)));
        first_answer.try_recv().unwrap().unwrap();
        // Answered by the first batch's commit.
        late_answer.try_recv().unwrap().unwrap();

        let answers: Vec<Answer> = (0..MAX_BATCH + 2)
            .map(|_| {
                let (queued, answer) = job(new_thread);
                queue.send(queued).unwrap();
                answer
            })
            .collect();
        let first = jobs.try_recv().unwrap();
        assert!(commit_batch(&mut conn, take_batch(first, &jobs)));
        let answered = answers.iter().filter(|a| a.try_recv().is_ok()).count();
        assert_eq!(answered, MAX_BATCH);
        assert_eq!(jobs.try_iter().count(), 2, "left for the next batch");
    }

    /// Each write's savepoint is a prepared statement, made once per
    /// connection (diesel's own savepoints are parsed again every time), and
    /// a transaction nested in a write still nests under it.
    #[test]
    fn savepoints_are_prepared_once_and_nest() {
        use diesel::connection::{Connection, InstrumentationEvent};
        let db = TestDatabase::new().unwrap();
        let mut conn = connection(&db);
        let prepared = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        let sink = std::sync::Arc::clone(&prepared);
        let DbConn::Sqlite(inner) = &mut conn else {
            return; // the committer is SQLite's alone
        };
        inner.set_instrumentation(move |event: InstrumentationEvent<'_>| {
            if let InstrumentationEvent::CacheQuery { sql, .. } = event {
                sink.lock().unwrap().push(sql.to_owned());
            }
        });
        let nested = |conn: &mut DbConn| {
            let kept = new_thread(conn)?;
            // An inner failure rolls back the inner part only.
            let inner: Result<i64, StoreError> = crate::write_transaction(conn, |conn| {
                new_thread(conn)?;
                Err(StoreError::NotFound)
            });
            assert!(inner.is_err());
            Ok(kept)
        };
        for _batch in 0..2 {
            let (first, first_answer) = job(nested);
            let (second, second_answer) = job(new_thread);
            assert!(commit_batch(&mut conn, vec![first, second]));
            first_answer.recv().unwrap().unwrap();
            second_answer.recv().unwrap().unwrap();
        }
        assert_eq!(
            count(&mut conn),
            4,
            "two writes of two batches, no inner rows"
        );
        let prepared = prepared.lock().unwrap();
        for statement in ["SAVEPOINT colloq_write", "RELEASE colloq_write"] {
            let times = prepared.iter().filter(|sql| *sql == statement).count();
            assert_eq!(times, 1, "{statement} prepared once: {prepared:#?}");
        }
    }

    fn new_thread_and_event(conn: &mut DbConn) -> Result<i64, StoreError> {
        use colloq_domain::event::{Change, Feed, NewEvent};
        use colloq_domain::ids::ThreadId;
        let id = new_thread(conn)?;
        let event = NewEvent {
            audience: vec![Feed::Staff],
            thread: ThreadId(id),
            actor: None,
            change: Change::OrderCreated,
        };
        crate::events::record(conn, &[event], Utc::now())?;
        Ok(id)
    }

    /// The notices of what a write committed reach its sender, through the
    /// committer as through a direct write; a write rolled back has none.
    #[test]
    fn committed_events_are_noticed_and_rolled_back_ones_are_not() {
        use colloq_domain::event::Feed;
        let db = TestDatabase::new().unwrap();
        let mut conn = connection(&db);
        let (first, first_answer) = job(new_thread_and_event);
        let (failing, failing_answer) = job(|conn| {
            new_thread_and_event(conn)?;
            Err(StoreError::NotFound)
        });
        let (third, third_answer) = job(new_thread_and_event);
        assert!(commit_batch(&mut conn, vec![first, failing, third]));
        let staff = |notices: Vec<(Feed, i64)>| match notices[..] {
            [(Feed::Staff, position)] => position,
            _ => panic!("one notice of the staff feed: {notices:?}"),
        };
        let first = staff(first_answer.recv().unwrap().unwrap().1);
        assert!(failing_answer.recv().unwrap().is_err());
        let third = staff(third_answer.recv().unwrap().unwrap().1);

        // A direct write hands them to the caller's `collecting`.
        let (written, notices) =
            crate::events::collecting(|| crate::write_transaction(&mut conn, new_thread_and_event));
        assert!(written.is_ok());
        let direct = staff(notices);
        // Each notice is its event's position: in order, and what is stored.
        crate::testing::settle(&mut conn);
        let stored: Vec<i64> = crate::events::after(&mut conn, Feed::Staff, 0, 10)
            .unwrap()
            .iter()
            .map(|e| e.position)
            .collect();
        assert_eq!(stored, [first, third, direct]);
        assert!(first < third && third < direct);
        let (refused, notices) = crate::events::collecting(|| {
            crate::write_transaction(&mut conn, |conn| {
                new_thread_and_event(conn)?;
                Err::<(), _>(StoreError::NotFound)
            })
        });
        assert!(refused.is_err());
        assert!(notices.is_empty(), "rolled back: {notices:?}");
    }

    /// Should the committer's thread be gone, a send is still made, in the
    /// caller's own transaction.
    #[test]
    fn a_writer_without_its_thread_writes_directly() {
        let db = TestDatabase::new().unwrap();
        let mut conn = connection(&db);
        let (queue, jobs) = std::sync::mpsc::channel();
        drop(jobs);
        let writer = Writer { queue: Some(queue) };
        let id = writer.write(&mut conn, new_thread).unwrap();
        let refused = writer.write(&mut conn, |conn| {
            new_thread(conn)?;
            Err::<i64, _>(StoreError::NotFound)
        });
        assert!(matches!(refused, Err(StoreError::NotFound)));
        let mut other = db.manager().unwrap().open().unwrap();
        let ids: Vec<i64> = threads::table.select(threads::id).load(&mut other).unwrap();
        assert_eq!(ids, vec![id]);
    }
}
