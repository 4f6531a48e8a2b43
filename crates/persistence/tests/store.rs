//! Storage tests. Each test has its own database: a fresh SQLite file, or a fresh
//! PostgreSQL schema when `COLLOQ_TEST_DATABASE_URL` is set (CI runs both).

#![expect(
    clippy::unwrap_used,
    clippy::tests_outside_test_module,
    reason = "an integration-test crate is all tests; failing loudly is the point"
)]

use std::io::Write;

use chrono::{Duration, Utc};
use colloq_domain::conversation::Conversation;
use colloq_domain::event::{Change, Feed, NewEvent};
use colloq_domain::ids::{AccountId, OrderId, UserId};
use colloq_domain::message::{MessageBody, MessageType, NewMessage, SenderRole};
use colloq_domain::order::{NewOrder, OrderEdit, OrderExtra, OrderStatus};
use colloq_domain::page::PageRequest;
use colloq_domain::user::{Email, LoginName, User};
use colloq_persistence::orders::OrderFilter;
use colloq_persistence::testing::{TEST_DATABASE_URL, TestDatabase};
use colloq_persistence::{
    DbConn, Engine, StoreError, Writer, accounts, app_keys, conversations, events, messages,
    migrate, orders, read_snapshot, revert_all, revert_latest, tokens, write_transaction,
};

fn db() -> (TestDatabase, DbConn) {
    let db = TestDatabase::new().unwrap();
    let mut conn = db.manager().unwrap().open().unwrap();
    migrate(&mut conn).unwrap();
    (db, conn)
}

fn user(conn: &mut DbConn, name: &str, uid: i64) -> User {
    let email = format!("{name}@example.com");
    accounts::create(
        conn,
        accounts::NewAccount {
            aid: &format!("aid{uid}"),
            uid,
            username: name,
            nickname: name,
            email: Some(&email),
            phone: None,
            password_hash: "$argon2id$stub",
            is_staff: false,
        },
        Utc::now(),
    )
    .unwrap()
}

fn order(conn: &mut DbConn, owner: UserId) -> OrderId {
    let new = NewOrder::parse(
        7,
        "Title",
        "Content",
        "138 0000 0000",
        vec!["https://x/1.png".to_owned()],
        OrderExtra::from([("k".to_owned(), "v".to_owned())]),
    )
    .unwrap();
    orders::create(conn, owner, &new, Utc::now()).unwrap().id
}

fn text(sender: UserId, body: &str) -> NewMessage {
    NewMessage {
        sender: Some(sender),
        role: SenderRole::User,
        sender_name: "alice".to_owned(),
        kind: MessageType::Text,
        body: MessageBody::parse(body.to_owned()).unwrap(),
        file: None,
    }
}

/// The suite runs on SQLite unless `COLLOQ_TEST_DATABASE_URL` names a PostgreSQL
/// server; `.ci/run` runs it both ways and fails under `CI=true` when PostgreSQL
/// is unreachable. Here: say visibly when PostgreSQL was skipped, and when it was
/// asked for, prove that is what the tests ran on.
#[test]
fn postgres_runs_when_configured_and_says_so_when_not() {
    if !std::env::var(TEST_DATABASE_URL).is_ok_and(|v| !v.trim().is_empty()) {
        // Straight to the file descriptor: libtest captures only the print macros,
        // and this notice must show in a plain `cargo test`.
        let _ = writeln!(
            std::io::stderr(),
            "NOTICE: {TEST_DATABASE_URL} is unset: PostgreSQL tests skipped, SQLite only"
        );
        return;
    }
    let (db, _conn) = db();
    assert_eq!(db.engine(), Engine::Postgres);
    assert!(db.pg_schema().is_some());
}

#[test]
fn migrations_go_down_and_up_again() {
    let (_db, mut conn) = db();
    revert_all(&mut conn).unwrap();
    migrate(&mut conn).unwrap();
    let alice = user(&mut conn, "alice", 1);
    assert_eq!(accounts::find(&mut conn, alice.id).unwrap(), Some(alice));
}

/// SQLite's feed became one log (migration 000013; on PostgreSQL it changes
/// nothing): each feed keeps its events in order, at positions above every
/// old one, so a position given before the upgrade misses nothing (a stream
/// finds it below the feed's oldest and answers `resync`).
#[test]
fn sqlite_feeds_keep_their_events_when_they_become_one_log() {
    let (_db, mut conn) = db();
    if !matches!(conn, DbConn::Sqlite(_)) {
        return;
    }
    let alice = user(&mut conn, "alice", 3);
    let bob = user(&mut conn, "bob", 4);
    let conversation = conversations::create(&mut conn, alice.id, bob.id, Utc::now()).unwrap();
    revert_latest(&mut conn).unwrap();
    // Alice's feed holds a pin and an unpin, Bob's the hide: positions
    // 1, 2 and 1, as the row-per-feed table numbered them.
    let (thread, a, b) = (conversation.id.get(), alice.id.get(), bob.id.get());
    let old_rows = diesel::sql_query(format!(
        "INSERT INTO events (feed, position, kind, thread_id, actor_id, message_id, detail, \
                             created_at) VALUES \
           ({a}, 1, 6, {thread}, {a}, NULL, '{{\"pinned\":true}}', '2026-12-01 10:00:00'), \
           ({a}, 2, 6, {thread}, {a}, NULL, '{{\"pinned\":false}}', '2026-12-01 10:00:01'), \
           ({b}, 1, 5, {thread}, {b}, NULL, NULL, '2026-12-01 10:00:02')"
    ));
    diesel::RunQueryDsl::execute(old_rows, &mut conn).unwrap();
    migrate(&mut conn).unwrap();
    let changes = |conn: &mut DbConn, user: UserId, after: i64| {
        events::after(conn, Feed::User(user), after, 10)
            .unwrap()
            .into_iter()
            .map(|e| (e.position, e.change))
            .collect::<Vec<_>>()
    };
    let alices = changes(&mut conn, alice.id, 0);
    assert_eq!(
        alices.iter().map(|(_, c)| c.clone()).collect::<Vec<_>>(),
        [
            Change::ConversationPinned { pinned: true },
            Change::ConversationPinned { pinned: false },
        ]
    );
    assert!(alices[0].0 > 2 && alices[0].0 < alices[1].0, "{alices:?}");
    assert_eq!(
        changes(&mut conn, alice.id, 2),
        alices,
        "resumed from before"
    );
    assert_eq!(
        changes(&mut conn, bob.id, 1)
            .iter()
            .map(|(_, c)| c.clone())
            .collect::<Vec<_>>(),
        [Change::ConversationHidden]
    );
    // New events go above the migrated ones.
    write_transaction(&mut conn, |c| {
        events::record(
            c,
            &[NewEvent {
                audience: vec![Feed::User(alice.id), Feed::User(bob.id)],
                thread: conversation.id,
                actor: Some(alice.id),
                change: Change::ConversationHidden,
            }],
            Utc::now(),
        )
    })
    .unwrap();
    let newest = events::head(&mut conn, Feed::User(alice.id)).unwrap();
    assert!(newest > alices[1].0);
    assert_eq!(events::head(&mut conn, Feed::User(bob.id)).unwrap(), newest);
    // And back down: a row per event per feed, numbered 1, 2, 3 along each.
    revert_latest(&mut conn).unwrap();
    let stored = diesel::sql_query("SELECT feed, position FROM events ORDER BY feed, position");
    let positions: Vec<(i64, i64)> = diesel::RunQueryDsl::load::<FeedPosition>(stored, &mut conn)
        .unwrap()
        .into_iter()
        .map(|r| (r.feed, r.position))
        .collect();
    assert_eq!(positions, [(a, 1), (a, 2), (a, 3), (b, 1), (b, 2)]);
}

/// The trim docs/operations.md gives for SQLite, run as written: old events
/// go from the log and from every feed's index, the newest stays, and the
/// next event still takes a new id.
#[test]
fn the_documented_sqlite_trim_keeps_the_newest_event() {
    let (_db, mut conn) = db();
    if !matches!(conn, DbConn::Sqlite(_)) {
        return;
    }
    let guide = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/operations.md"
    ))
    .unwrap();
    let trim: String = guide
        .lines()
        .skip_while(|line| !line.starts_with("-- SQLite:"))
        .take_while(|line| !line.starts_with("```"))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(trim.contains("DELETE FROM event_log"), "{trim}");
    let alice = user(&mut conn, "alice", 5);
    let bob = user(&mut conn, "bob", 6);
    let conversation = conversations::create(&mut conn, alice.id, bob.id, Utc::now()).unwrap();
    let both = [Feed::User(alice.id), Feed::User(bob.id)];
    let record = |conn: &mut DbConn, at| {
        write_transaction(conn, |c| {
            events::record(
                c,
                &[NewEvent {
                    audience: both.to_vec(),
                    thread: conversation.id,
                    actor: Some(alice.id),
                    change: Change::ConversationHidden,
                }],
                at,
            )
        })
        .unwrap();
    };
    let long_ago = Utc::now() - Duration::days(40);
    for _ in 0..3 {
        record(&mut conn, long_ago);
    }
    let newest = events::head(&mut conn, both[0]).unwrap();
    diesel::connection::SimpleConnection::batch_execute(&mut conn, &trim).unwrap();
    for feed in both {
        assert_eq!(events::oldest(&mut conn, feed).unwrap(), Some(newest));
        assert_eq!(events::after(&mut conn, feed, 0, 10).unwrap().len(), 1);
    }
    record(&mut conn, Utc::now());
    assert_eq!(events::head(&mut conn, both[1]).unwrap(), newest + 1);
}

#[derive(diesel::QueryableByName)]
struct FeedPosition {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    feed: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    position: i64,
}

#[test]
fn accounts_are_found_by_every_login_name_and_unique_values_conflict() {
    let (_db, mut conn) = db();
    let alice = user(&mut conn, "alice", 11);
    let by_name =
        accounts::find_credentials(&mut conn, &LoginName::Username("alice".to_owned())).unwrap();
    assert_eq!(by_name.map(|c| c.user), Some(alice.clone()));
    let email = Email::parse("alice@example.com").unwrap();
    let by_email = accounts::find_credentials(&mut conn, &LoginName::Email(email)).unwrap();
    assert_eq!(
        by_email.map(|c| c.password_hash),
        Some("$argon2id$stub".to_owned())
    );
    assert!(
        accounts::find_credentials(&mut conn, &LoginName::Username("bob".to_owned()))
            .unwrap()
            .is_none()
    );
    assert_eq!(
        accounts::find_by_account(&mut conn, alice.account_id).unwrap(),
        Some(alice)
    );

    assert_eq!(
        accounts::first_taken(&mut conn, "alice", None, None).unwrap(),
        Some(accounts::Taken::Username)
    );
    assert_eq!(
        accounts::first_taken(&mut conn, "bob", Some("alice@example.com"), None).unwrap(),
        Some(accounts::Taken::Email)
    );
    assert_eq!(
        accounts::first_taken(&mut conn, "bob", None, Some("1")).unwrap(),
        None
    );
    let dup = write_transaction(&mut conn, |conn| {
        accounts::create(
            conn,
            accounts::NewAccount {
                aid: "other",
                uid: 12,
                username: "alice",
                nickname: "a",
                email: None,
                phone: None,
                password_hash: "x",
                is_staff: false,
            },
            Utc::now(),
        )
    });
    assert!(matches!(dup, Err(StoreError::Conflict { .. })), "{dup:?}");
}

#[test]
fn tokens_are_stored_by_hash_and_revocable() {
    let (_db, mut conn) = db();
    let alice = user(&mut conn, "alice", 21);
    let now = Utc::now();
    let token = tokens::NewToken {
        hash: "abc",
        account: alice.account_id,
        user: Some(alice.id),
        scope: "anqicms:user",
        expires_at: now + Duration::days(1),
        platform_id: None,
        app_id: None,
        parent_hash: None,
    };
    tokens::insert(&mut conn, token, now).unwrap();
    let found = tokens::find(&mut conn, "abc").unwrap().unwrap();
    assert_eq!(
        (found.account, found.user, found.scope.as_str()),
        (alice.account_id, Some(alice.id), "anqicms:user")
    );
    assert_eq!(
        found.expires_at.timestamp(),
        (now + Duration::days(1)).timestamp()
    );
    assert_eq!(tokens::purge_expired(&mut conn, now).unwrap(), 0);
    assert_eq!(
        tokens::purge_expired(&mut conn, now + Duration::days(2)).unwrap(),
        1
    );
    tokens::insert(&mut conn, token, now).unwrap();
    assert!(tokens::delete(&mut conn, "abc").unwrap());
    assert!(!tokens::delete(&mut conn, "abc").unwrap());
    assert!(tokens::find(&mut conn, "abc").unwrap().is_none());
    assert_eq!(tokens::find(&mut conn, "zzz").unwrap(), None);
    let _ = AccountId(0);
}

#[test]
fn the_by_id_token_reads_agree_with_the_full_ones() {
    // The hot checks read the token's holder by id only; they must find the
    // same tokens, with the same facts, as the reads that load the profile.
    let (_db, mut conn) = db();
    let alice = user(&mut conn, "alice", 31);
    let now = Utc::now();
    let token = tokens::NewToken {
        hash: "h-alice",
        account: alice.account_id,
        user: Some(alice.id),
        scope: "fresns:account",
        expires_at: now + Duration::days(1),
        platform_id: Some(4),
        app_id: Some("app"),
        parent_hash: None,
    };
    tokens::insert(&mut conn, token, now).unwrap();

    let (scope, expires_at, full) = accounts::find_by_token(&mut conn, "h-alice")
        .unwrap()
        .unwrap();
    let holder = accounts::find_token_holder(&mut conn, "h-alice")
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            holder.scope,
            holder.expires_at,
            holder.user,
            holder.account,
            holder.is_staff
        ),
        (scope, expires_at, full.id, full.account_id, full.is_staff)
    );
    assert_eq!(
        accounts::find_token_holder(&mut conn, "nope").unwrap(),
        None
    );
    assert!(
        accounts::find_by_token(&mut conn, "nope")
            .unwrap()
            .is_none()
    );

    for hash in ["h-alice", "nope"] {
        let (profile, record) =
            accounts::find_with_token(&mut conn, accounts::Holder::Account("aid31"), hash)
                .unwrap()
                .unwrap();
        let (account, by_id) = accounts::find_account_with_token(&mut conn, "aid31", hash)
            .unwrap()
            .unwrap();
        assert_eq!((account, by_id), (profile.account_id, record), "{hash}");
    }
    assert!(
        accounts::find_account_with_token(&mut conn, "aid-none", "h-alice")
            .unwrap()
            .is_none()
    );

    // The one read of a request's key and both tokens finds what the three
    // reads find.
    tokens::insert(
        &mut conn,
        tokens::NewToken {
            hash: "h-alice-user",
            scope: "fresns:user",
            parent_hash: Some("h-alice"),
            ..token
        },
        now,
    )
    .unwrap();
    let key = colloq_domain::client::AppKey {
        app_id: "app".to_owned(),
        app_secret: "secret".to_owned(),
        platform_id: 4,
        name: "test".to_owned(),
        purpose: colloq_domain::client::KeyPurpose::Api,
        is_enabled: true,
        is_read_only: false,
        token_ttl_secs: None,
    };
    app_keys::insert(&mut conn, &key, now).unwrap();
    for (account_hash, user_hash) in [
        ("h-alice", "h-alice-user"),
        ("h-alice-user", "h-alice"),
        ("nope", "h-alice-user"),
        ("h-alice", "nope"),
    ] {
        let (found_key, presented) =
            accounts::find_key_and_user(&mut conn, "app", alice.uid, account_hash, user_hash)
                .unwrap()
                .unwrap();
        let (_, account_token) =
            accounts::find_account_with_token(&mut conn, "aid31", account_hash)
                .unwrap()
                .unwrap();
        let (profile, user_token) =
            accounts::find_with_token(&mut conn, accounts::Holder::Profile(alice.uid), user_hash)
                .unwrap()
                .unwrap();
        assert_eq!(
            found_key,
            app_keys::find(&mut conn, "app").unwrap().unwrap()
        );
        assert_eq!(
            presented,
            Some(accounts::UserWithTokens {
                user: profile,
                primary: true,
                account_token,
                user_token
            }),
            "{account_hash} {user_hash}"
        );
    }
    let (_, nobody) = accounts::find_key_and_user(&mut conn, "app", 999, "h-alice", "h-alice-user")
        .unwrap()
        .unwrap();
    assert_eq!(nobody, None);
    assert_eq!(
        accounts::find_key_and_user(&mut conn, "other", alice.uid, "h-alice", "h-alice-user")
            .unwrap(),
        None
    );
}

#[test]
fn orders_round_trip_list_newest_first_and_change_status_optimistically() {
    let (_db, mut conn) = db();
    let alice = user(&mut conn, "alice", 31);
    let bob = user(&mut conn, "bob", 32);
    let first = order(&mut conn, alice.id);
    let second = order(&mut conn, alice.id);
    let _bobs = order(&mut conn, bob.id);

    let stored = orders::find(&mut conn, first).unwrap().unwrap();
    assert_eq!(stored.images, vec!["https://x/1.png".to_owned()]);
    assert_eq!(stored.order_extra.get("k").map(String::as_str), Some("v"));
    assert_eq!(stored.status, OrderStatus::Pending);

    let page = orders::list(
        &mut conn,
        OrderFilter::Owner(alice.id),
        PageRequest::new(1, 10, 100).unwrap(),
    )
    .unwrap();
    assert_eq!(page.total, 2);
    assert_eq!(
        page.items.iter().map(|o| o.id).collect::<Vec<_>>(),
        vec![second, first]
    );
    let all = orders::list(
        &mut conn,
        OrderFilter::All(None),
        PageRequest::new(2, 2, 100).unwrap(),
    )
    .unwrap();
    assert_eq!((all.total, all.items.len()), (3, 1));

    let edit = OrderEdit::parse(Some("New"), None, None).unwrap();
    orders::edit(&mut conn, first, &edit, Utc::now()).unwrap();
    assert_eq!(
        orders::find(&mut conn, first).unwrap().unwrap().title,
        "New"
    );
    assert_eq!(
        orders::find(&mut conn, first).unwrap().unwrap().content,
        "Content"
    );

    orders::set_status(
        &mut conn,
        first,
        OrderStatus::Pending,
        OrderStatus::Communicating,
        Utc::now(),
    )
    .unwrap();
    let stale = orders::set_status(
        &mut conn,
        first,
        OrderStatus::Pending,
        OrderStatus::Cancelled,
        Utc::now(),
    );
    assert!(matches!(stale, Err(StoreError::Conflict { .. })));
    let pending = orders::list(
        &mut conn,
        OrderFilter::All(Some(OrderStatus::Pending)),
        PageRequest::new(1, 10, 100).unwrap(),
    )
    .unwrap();
    assert_eq!(pending.total, 2);
}

#[test]
fn messages_get_gap_free_sequences_and_exact_counts() {
    let (_db, mut conn) = db();
    let alice = user(&mut conn, "alice", 41);
    let a = order(&mut conn, alice.id);
    let b = order(&mut conn, alice.id);
    for i in 0..25 {
        let thread = if i % 5 == 0 { b } else { a };
        write_transaction(&mut conn, |conn| {
            messages::append(
                conn,
                thread.thread(),
                &text(alice.id, &format!("m{i}")),
                Utc::now(),
            )
        })
        .unwrap();
    }
    assert_eq!(messages::count(&mut conn, a.thread()).unwrap(), 20);
    assert_eq!(messages::count(&mut conn, b.thread()).unwrap(), 5);
    let page2 = messages::after_seq(&mut conn, a.thread(), 10, 10).unwrap();
    assert_eq!(
        page2.iter().map(|m| m.seq).collect::<Vec<_>>(),
        (11..=20).collect::<Vec<_>>()
    );
    assert!(page2.iter().all(|m| m.thread == a.thread()));
    assert!(
        messages::after_seq(&mut conn, a.thread(), 20, 10)
            .unwrap()
            .is_empty()
    );
    let latest = messages::latest(&mut conn, a.thread(), 3).unwrap();
    assert_eq!(
        latest.iter().map(|m| m.seq).collect::<Vec<_>>(),
        vec![18, 19, 20]
    );
    assert_eq!(latest[2].body, "m24");
    assert!(matches!(
        messages::count(&mut conn, OrderId(999).thread()),
        Err(StoreError::NotFound)
    ));
}

/// A node whose clock lags stamps its message with the thread's latest time, so
/// time never goes back along `seq`. On SQLite that comparison is between
/// stored texts; the times here have 0, 3 and 6 fractional digits so that a
/// text order that disagreed with time would show.
#[test]
fn a_lagging_clock_never_moves_a_thread_back_in_time() {
    let (_db, mut conn) = db();
    let alice = user(&mut conn, "alice", 43);
    let thread = order(&mut conn, alice.id).thread();
    let noon = Utc::now()
        .date_naive()
        .and_hms_opt(12, 0, 0)
        .unwrap()
        .and_utc();
    let clocks = [
        noon,
        noon - Duration::milliseconds(1),
        noon + Duration::milliseconds(500),
        noon + Duration::microseconds(499_999),
        noon + Duration::microseconds(500_001),
        noon - Duration::hours(1),
    ];
    for (i, clock) in clocks.into_iter().enumerate() {
        write_transaction(&mut conn, |conn| {
            messages::append(conn, thread, &text(alice.id, &format!("m{i}")), clock)
        })
        .unwrap();
    }
    let stamps: Vec<_> = messages::latest(&mut conn, thread, 10)
        .unwrap()
        .into_iter()
        .map(|m| m.created_at)
        .collect();
    let half = noon + Duration::milliseconds(500);
    let later = noon + Duration::microseconds(500_001);
    assert_eq!(stamps, vec![noon, noon, half, half, later, later]);
}

#[test]
fn a_failed_write_transaction_leaves_nothing_behind() {
    let (_db, mut conn) = db();
    let alice = user(&mut conn, "alice", 51);
    let a = order(&mut conn, alice.id);
    let failed: Result<(), StoreError> = write_transaction(&mut conn, |conn| {
        messages::append(conn, a.thread(), &text(alice.id, "lost"), Utc::now())?;
        Err(StoreError::NotFound)
    });
    assert!(failed.is_err());
    assert_eq!(messages::count(&mut conn, a.thread()).unwrap(), 0);
    // Nested write transactions (a batch around use cases) use savepoints.
    write_transaction(&mut conn, |conn| {
        write_transaction(conn, |conn| {
            messages::append(conn, a.thread(), &text(alice.id, "kept"), Utc::now())
        })
    })
    .unwrap();
    assert_eq!(messages::count(&mut conn, a.thread()).unwrap(), 1);
}

#[test]
fn a_read_snapshot_sees_one_state_on_sqlite_and_ends_either_way() {
    let db = TestDatabase::new().unwrap();
    let manager = db.manager().unwrap();
    let mut reader = manager.open().unwrap();
    migrate(&mut reader).unwrap();
    let mut writer = manager.open().unwrap();
    let alice = user(&mut writer, "alice", 56);
    let a = order(&mut writer, alice.id);
    messages::append(&mut writer, a.thread(), &text(alice.id, "one"), Utc::now()).unwrap();
    let (before, after) = read_snapshot(&mut reader, |conn| {
        let before = messages::count(conn, a.thread())?;
        // Another connection commits a message between the two reads.
        messages::append(&mut writer, a.thread(), &text(alice.id, "two"), Utc::now())?;
        Ok::<_, StoreError>((before, messages::count(conn, a.thread())?))
    })
    .unwrap();
    assert_eq!(before, 1);
    match db.engine() {
        // One read transaction: the second read still sees the first state.
        Engine::Sqlite => assert_eq!(after, 1),
        // PostgreSQL runs the reads as they are, each its own snapshot.
        Engine::Postgres => assert_eq!(after, 2),
    }
    // The transaction is over: the reader now sees the commit, and a failed
    // closure ends its transaction too.
    assert_eq!(messages::count(&mut reader, a.thread()).unwrap(), 2);
    let failed: Result<(), StoreError> = read_snapshot(&mut reader, |conn| {
        messages::count(conn, a.thread())?;
        Err(StoreError::NotFound)
    });
    assert!(matches!(failed, Err(StoreError::NotFound)));
    messages::append(
        &mut writer,
        a.thread(),
        &text(alice.id, "three"),
        Utc::now(),
    )
    .unwrap();
    assert_eq!(messages::count(&mut reader, a.thread()).unwrap(), 3);
    // Inside a write transaction it adds nothing and the write still lands.
    write_transaction(&mut reader, |conn| {
        read_snapshot(conn, |conn| messages::count(conn, a.thread()))?;
        messages::append(conn, a.thread(), &text(alice.id, "four"), Utc::now())
    })
    .unwrap();
    assert_eq!(messages::count(&mut writer, a.thread()).unwrap(), 4);
}

/// Stores a direct message from `from` to `to` as a send does
/// (`core::threads::append`): its event ahead of it where the store draws
/// its id, then the message, then the conversation's state.
fn send_direct(
    conn: &mut DbConn,
    conversation: &Conversation,
    from: UserId,
    to: UserId,
) -> Result<(), StoreError> {
    let upcoming = events::Upcoming {
        audience: &[Feed::User(from), Feed::User(to)],
        thread: conversation.id,
        sender: Some(from),
    };
    let drawn = events::record_ahead(conn, &[], upcoming, Utc::now())?;
    messages::append_as(
        conn,
        conversation.id,
        &text(from, "hi"),
        Some(to),
        drawn,
        Utc::now(),
    )?;
    conversations::record_message(conn, conversation, from, Utc::now())
}

/// The `xmax` of each row of `table` with one of `ids`, in id order
/// (PostgreSQL): a row lock taken on a row, shared ones included, stays
/// written there after its transaction ends.
fn row_locks(conn: &mut DbConn, table: &str, ids: &[i64]) -> Vec<String> {
    #[derive(diesel::QueryableByName)]
    struct Marked {
        #[diesel(sql_type = diesel::sql_types::Text)]
        xmax: String,
    }
    let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
    let sql = format!(
        "SELECT xmax::text AS xmax FROM {table} WHERE id IN ({}) ORDER BY id",
        ids.join(", ")
    );
    let marked: Vec<Marked> = diesel::RunQueryDsl::load(diesel::sql_query(sql), conn).unwrap();
    marked.into_iter().map(|m| m.xmax).collect()
}

#[test]
fn a_send_leaves_its_sender_and_recipient_rows_alone() {
    let (_db, mut conn) = db();
    if matches!(conn, DbConn::Sqlite(_)) {
        // SQLite's writers lock the whole database, never a row.
        return;
    }
    let alice = user(&mut conn, "alice", 81);
    let bob = user(&mut conn, "bob", 82);
    let conversation = conversations::create(&mut conn, alice.id, bob.id, Utc::now()).unwrap();
    // A foreign key check share-locks the row it finds, and the lock stays
    // written in it (its xmax) after the commit. Creating the conversation
    // checks both users; a send must not: with a key from messages to
    // users, every send by or to a user wrote that user's row, inside the
    // thread's locked section.
    let ids = [alice.id.get(), bob.id.get()];
    let marks = |conn: &mut DbConn| row_locks(conn, "users", &ids);
    let before = marks(&mut conn);
    write_transaction(&mut conn, |conn| {
        send_direct(conn, &conversation, alice.id, bob.id)
    })
    .unwrap();
    assert_eq!(
        marks(&mut conn),
        before,
        "the send wrote no lock into either user's row"
    );
}

#[test]
fn a_send_prepares_its_statements_once_per_connection() {
    use diesel::connection::{Connection, InstrumentationEvent};
    // diesel caches no UPDATE by default; a send's are fixed and must be
    // prepared once, not on every send.
    let (_db, mut conn) = db();
    let alice = user(&mut conn, "alice", 57);
    let bob = user(&mut conn, "bob", 58);
    let cached = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let sink = std::sync::Arc::clone(&cached);
    let record = move |event: InstrumentationEvent<'_>| {
        if let InstrumentationEvent::CacheQuery { sql, .. } = event {
            sink.lock().unwrap().push(sql.to_owned());
        }
    };
    match &mut conn {
        DbConn::Sqlite(c) => c.set_instrumentation(record),
        DbConn::Postgres(c) => c.set_instrumentation(record),
    }
    let conversation = conversations::create(&mut conn, alice.id, bob.id, Utc::now()).unwrap();
    std::mem::take(&mut *cached.lock().unwrap());
    let send = |conn: &mut DbConn| {
        write_transaction(conn, |conn| {
            send_direct(conn, &conversation, alice.id, bob.id)?;
            let event = NewEvent {
                audience: vec![Feed::User(alice.id), Feed::User(bob.id)],
                thread: conversation.id,
                actor: Some(alice.id),
                change: Change::ConversationHidden,
            };
            events::record(conn, &[event], Utc::now())
        })
        .unwrap();
    };
    send(&mut conn);
    let first: Vec<String> = std::mem::take(&mut *cached.lock().unwrap());
    let updates = first.iter().filter(|sql| sql.starts_with("UPDATE")).count();
    assert_eq!(updates, 2, "the send's UPDATEs are cached: {first:#?}");
    // SQLite inserts an event into its log and then one entry per feed,
    // a statement per row (its writer holds the only write lock);
    // PostgreSQL inserts all rows in one, from arrays, drawing the
    // message's id in it when the message comes next.
    let feed_statements = first
        .iter()
        .filter(|sql| match conn {
            DbConn::Sqlite(_) => {
                sql.starts_with("INSERT INTO `event_log`")
                    || sql.starts_with("INSERT INTO `event_audience`")
            }
            DbConn::Postgres(_) => sql.contains("INSERT INTO events ") && sql.contains("unnest("),
        })
        .count();
    let expected = 2;
    assert_eq!(
        feed_statements, expected,
        "the change feed's statements are cached: {first:#?}"
    );
    send(&mut conn);
    assert_eq!(
        *cached.lock().unwrap(),
        Vec::<String>::new(),
        "nothing prepared again"
    );
    // A stream reads its feed on every notice: those statements too.
    let read = |conn: &mut DbConn| {
        events::after(conn, Feed::User(bob.id), 0, 100).unwrap();
        events::head(conn, Feed::User(bob.id)).unwrap();
    };
    read(&mut conn);
    let reads = std::mem::take(&mut *cached.lock().unwrap());
    assert_eq!(reads.len(), 2, "the feed's reads are cached: {reads:#?}");
    read(&mut conn);
    assert_eq!(*cached.lock().unwrap(), Vec::<String>::new());
}

#[test]
fn concurrent_appends_through_the_pool_keep_sequences_unique() {
    let db = TestDatabase::new().unwrap();
    let pool = db.pool(4).unwrap();
    let mut conn = pool.get().unwrap();
    let alice = user(&mut conn, "alice", 61);
    let a = order(&mut conn, alice.id);
    drop(conn);
    std::thread::scope(|s| {
        for t in 0..4 {
            let pool = &pool;
            let alice = &alice;
            s.spawn(move || {
                let mut conn = pool.get().unwrap();
                for i in 0..25 {
                    write_transaction(&mut conn, |conn| {
                        messages::append(
                            conn,
                            a.thread(),
                            &text(alice.id, &format!("{t}-{i}")),
                            Utc::now(),
                        )
                    })
                    .unwrap();
                }
            });
        }
    });
    let mut conn = pool.get().unwrap();
    assert_eq!(messages::count(&mut conn, a.thread()).unwrap(), 100);
    let all = messages::after_seq(&mut conn, a.thread(), 0, 1000).unwrap();
    assert_eq!(
        all.iter().map(|m| m.seq).collect::<Vec<_>>(),
        (1..=100).collect::<Vec<_>>()
    );
}

/// Sends through the group committer from many threads at once: every
/// acknowledged message is stored, every refused one left nothing, and the
/// sequence stays gap-free. (On PostgreSQL the writer writes directly.)
#[test]
fn the_group_committer_stores_exactly_what_it_acknowledges() {
    let db = TestDatabase::new().unwrap();
    let pool = db.pool(8).unwrap();
    let writer = Writer::start(&db.manager().unwrap());
    let mut conn = pool.get().unwrap();
    let alice = user(&mut conn, "alice", 62);
    let a = order(&mut conn, alice.id);
    drop(conn);
    let acknowledged: Vec<Vec<String>> = std::thread::scope(|s| {
        // All spawned before any is joined, so that they send at once.
        let mut senders = Vec::new();
        for t in 0..8 {
            let (pool, writer, sender) = (&pool, &writer, alice.id);
            senders.push(s.spawn(move || {
                let mut conn = pool.get().unwrap();
                let mut acked = Vec::new();
                for i in 0..40 {
                    let body = format!("{t}-{i}");
                    let refuse = i % 7 == 3;
                    let message = text(sender, &body);
                    let sent = writer.write(&mut conn, move |conn| {
                        messages::append(conn, a.thread(), &message, Utc::now())?;
                        if refuse {
                            return Err(StoreError::Conflict {
                                constraint: "refused after writing".to_owned(),
                            });
                        }
                        Ok(())
                    });
                    match sent {
                        Ok(()) => acked.push(body),
                        Err(StoreError::Conflict { .. }) => assert!(refuse),
                        Err(other) => panic!("unexpected failure: {other}"),
                    }
                }
                acked
            }));
        }
        senders.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut expected: Vec<String> = acknowledged.into_iter().flatten().collect();
    assert_eq!(expected.len(), 8 * (40 - 6));
    let mut conn = pool.get().unwrap();
    let stored = messages::after_seq(&mut conn, a.thread(), 0, 1000).unwrap();
    assert_eq!(
        stored.iter().map(|m| m.seq).collect::<Vec<_>>(),
        (1..=i64::try_from(expected.len()).unwrap()).collect::<Vec<_>>()
    );
    let mut bodies: Vec<String> = stored.into_iter().map(|m| m.body).collect();
    bodies.sort();
    expected.sort();
    assert_eq!(bodies, expected);
    assert_eq!(
        messages::count(&mut conn, a.thread()).unwrap(),
        i64::try_from(expected.len()).unwrap()
    );
}

#[test]
fn writers_to_different_databases_do_not_wait_for_each_other() {
    let (_a, mut conn_a) = db();
    let (b, _) = db();
    let mut conn_b = b.manager().unwrap().open().unwrap();
    write_transaction(&mut conn_a, |conn_a| {
        // Database A's write lock is held here; a write to B must not queue
        // behind it.
        user(conn_a, "alice", 1);
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::scope(|scope| {
            scope.spawn(|| {
                write_transaction(&mut conn_b, |conn_b| {
                    user(conn_b, "bob", 2);
                    Ok::<_, StoreError>(())
                })
                .unwrap();
                done.send(()).unwrap();
            });
            let waited = finished.recv_timeout(std::time::Duration::from_secs(20));
            assert!(
                waited.is_ok(),
                "the write to another database waited for this one"
            );
        });
        Ok::<_, StoreError>(())
    })
    .unwrap();
}

/// PostgreSQL writers number a feed's events without waiting for each other,
/// so a reader must not see a younger transaction's event while an older one
/// can still commit an event below it.
#[test]
fn an_event_is_read_only_once_every_older_writer_has_ended() {
    let (db, mut older) = db();
    let alice = user(&mut older, "alice", 61);
    let bob = user(&mut older, "bob", 62);
    let conversation = conversations::create(&mut older, alice.id, bob.id, Utc::now()).unwrap();
    let feed = Feed::User(alice.id);
    let event = |pinned| NewEvent {
        audience: vec![feed],
        thread: conversation.id,
        actor: Some(alice.id),
        change: Change::ConversationPinned { pinned },
    };
    let mut reader = db.manager().unwrap().open().unwrap();
    if matches!(older, DbConn::Sqlite(_)) {
        // One writer at a time: there is no older writer to wait for, and
        // positions are the log's ids, 1, 2, 3, … in commit order.
        for pinned in [true, false] {
            write_transaction(&mut older, |c| {
                events::record(c, &[event(pinned)], Utc::now())
            })
            .unwrap();
        }
        let seen = events::after(&mut reader, feed, 0, 10).unwrap();
        assert_eq!(seen.iter().map(|e| e.position).collect::<Vec<_>>(), [1, 2]);
        return;
    }
    let mut younger = db.manager().unwrap().open().unwrap();
    write_transaction(&mut older, |older| {
        events::record(older, &[event(true)], Utc::now())?;
        write_transaction(&mut younger, |c| {
            events::record(c, &[event(false)], Utc::now())
        })?;
        // The younger one has committed, and is still not readable.
        assert_eq!(events::after(&mut reader, feed, 0, 10)?, []);
        assert_eq!(events::head(&mut reader, feed)?, 0);
        Ok::<_, StoreError>(())
    })
    .unwrap();
    colloq_persistence::testing::settle(&mut reader);
    let seen = events::after(&mut reader, feed, 0, 10).unwrap();
    let changes: Vec<&Change> = seen.iter().map(|e| &e.change).collect();
    // In the order the transactions began writing, the older one first.
    assert_eq!(
        changes,
        [
            &Change::ConversationPinned { pinned: true },
            &Change::ConversationPinned { pinned: false }
        ]
    );
    assert!(seen[0].position < seen[1].position);
    assert_eq!(events::head(&mut reader, feed).unwrap(), seen[1].position);
    // Read from either position, the rest is the same.
    assert_eq!(
        events::after(&mut reader, feed, seen[0].position, 10).unwrap(),
        seen[1..]
    );
}

#[test]
fn one_transaction_numbers_its_events_of_a_feed_in_order() {
    let (_db, mut conn) = db();
    let alice = user(&mut conn, "alice", 63);
    let bob = user(&mut conn, "bob", 64);
    let conversation = conversations::create(&mut conn, alice.id, bob.id, Utc::now()).unwrap();
    let event = |audience: Vec<Feed>, pinned| NewEvent {
        audience,
        thread: conversation.id,
        actor: Some(alice.id),
        change: Change::ConversationPinned { pinned },
    };
    let (a, b) = (Feed::User(alice.id), Feed::User(bob.id));
    // Two calls in one transaction, the second to both feeds.
    write_transaction(&mut conn, |c| {
        events::record(
            c,
            &[event(vec![a], true), event(vec![a], false)],
            Utc::now(),
        )?;
        events::record(c, &[event(vec![b, a], true)], Utc::now())
    })
    .unwrap();
    colloq_persistence::testing::settle(&mut conn);
    let mut pins = |feed| -> Vec<bool> {
        let seen = events::after(&mut conn, feed, 0, 10).unwrap();
        assert!(seen.windows(2).all(|w| w[0].position < w[1].position));
        seen.iter()
            .map(|e| matches!(e.change, Change::ConversationPinned { pinned: true }))
            .collect()
    };
    assert_eq!(pins(a), [true, false, true]);
    assert_eq!(pins(b), [true]);
}

/// A PostgreSQL transaction's events take places 1 to 65,535 after its id;
/// the places a thread hands out start again when they run out, and one
/// transaction cannot record more.
#[test]
fn places_run_out_per_transaction_not_per_thread() {
    let (_db, mut conn) = db();
    if matches!(conn, DbConn::Sqlite(_)) {
        // SQLite numbers events in commit order and has no places.
        return;
    }
    let alice = user(&mut conn, "alice", 65);
    let bob = user(&mut conn, "bob", 66);
    let conversation = conversations::create(&mut conn, alice.id, bob.id, Utc::now()).unwrap();
    let feed = Feed::User(alice.id);
    let many = |n| -> Vec<NewEvent> {
        (0..n)
            .map(|_| NewEvent {
                audience: vec![feed],
                thread: conversation.id,
                actor: None,
                change: Change::ConversationHidden,
            })
            .collect()
    };
    let last_places = |conn: &mut DbConn| -> Vec<i64> {
        colloq_persistence::testing::settle(conn);
        let seen = events::after(conn, feed, 0, 100).unwrap();
        seen.iter().map(|e| e.position & 0xFFFF).collect()
    };
    // Near the end of the thread's places, a new transaction starts again.
    events::set_next_place(65_530);
    write_transaction(&mut conn, |c| events::record(c, &many(3), Utc::now())).unwrap();
    write_transaction(&mut conn, |c| events::record(c, &many(10), Utc::now())).unwrap();
    let places = last_places(&mut conn);
    assert_eq!(places[..3], [65_530, 65_531, 65_532]);
    assert_eq!(places[3..], (1..=10).collect::<Vec<_>>());
    // One transaction that reaches the end cannot go on: refused, and
    // nothing of it kept.
    events::set_next_place(65_530);
    let refused = write_transaction(&mut conn, |c| {
        events::record(c, &many(3), Utc::now())?;
        events::record(c, &many(10), Utc::now())
    });
    assert!(
        matches!(refused, Err(StoreError::Corrupt(_))),
        "{refused:?}"
    );
    assert_eq!(last_places(&mut conn).len(), 13);
}

#[test]
fn messages_share_an_order_and_a_change_holds_it_alone() {
    use diesel::connection::SimpleConnection;
    let (db, mut first) = db();
    if matches!(first, DbConn::Sqlite(_)) {
        // SQLite's writers hold the database's only write lock instead.
        return;
    }
    let alice = user(&mut first, "alice", 71);
    let a = order(&mut first, alice.id);
    let b = order(&mut first, alice.id);
    let mut second = db.manager().unwrap().open().unwrap();
    // Each attempt waits at most this long for a lock, then fails: held or
    // not is then an answer, whatever the machine's speed.
    let begin = |conn: &mut DbConn| {
        conn.batch_execute("BEGIN; SET LOCAL lock_timeout = '200ms'")
            .unwrap();
    };
    let end = |conn: &mut DbConn| conn.batch_execute("ROLLBACK").unwrap();
    let held = |conn: &mut DbConn, id, hold| orders::find_held(conn, id, hold).map(|o| o.is_some());

    // A customer's message holds the order shared.
    begin(&mut first);
    assert!(held(&mut first, a, orders::Hold::Rely).unwrap());
    begin(&mut second);
    assert!(
        held(&mut second, a, orders::Hold::Rely).unwrap(),
        "messages go on side by side"
    );
    assert!(
        held(&mut second, b, orders::Hold::Change).unwrap(),
        "another order is free"
    );
    // Nor do they write the order's row to hold it (a shared row lock would
    // mark it with a MultiXact of its holders, for every message).
    assert_eq!(
        row_locks(&mut second, "comm_orders", &[a.get()]),
        ["0"],
        "a message leaves the order's row alone"
    );
    end(&mut second);
    begin(&mut second);
    let change = held(&mut second, a, orders::Hold::Change);
    assert!(
        change.is_err(),
        "a change waits for the message: {change:?}"
    );
    end(&mut second);
    end(&mut first);

    // A change holds it alone, against messages and other changes.
    begin(&mut first);
    assert!(held(&mut first, a, orders::Hold::Change).unwrap());
    for hold in [orders::Hold::Rely, orders::Hold::Change] {
        begin(&mut second);
        let waited = held(&mut second, a, hold);
        assert!(waited.is_err(), "{hold:?} waits for the change: {waited:?}");
        end(&mut second);
    }
    end(&mut first);
    begin(&mut second);
    assert!(
        held(&mut second, a, orders::Hold::Change).unwrap(),
        "free once it ended"
    );
    end(&mut second);
}
