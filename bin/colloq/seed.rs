//! `colloq seed`: demo and benchmark data, bulk-loaded in batched transactions,
//! with a progress bar on stderr and a JSON summary on stdout.

use colloq_auth::password::hash_password;
use colloq_core::Clock;
use colloq_domain::ids::ThreadId;
use colloq_domain::message::SenderRole;
use colloq_persistence::bulk::{self, BulkUser, Writers};
use colloq_persistence::{DbConn, DbPool, StoreError, write_transaction};
use indicatif::{ProgressBar, ProgressStyle};

use crate::anyhow_free::Failure;
use crate::cli::SeedArgs;

/// Small threads written per transaction.
const THREADS_PER_TRANSACTION: usize = 200;

pub(crate) fn run(pool: &DbPool, args: &SeedArgs) -> Result<(), Failure> {
    let clock = Clock::default();
    let now = clock.now();
    let tag = args
        .tag
        .clone()
        .unwrap_or_else(|| format!("s{}", now.timestamp() % 1_000_000));
    let users = args.users.max(2);
    if args.conversations > users * (users - 1) / 2 {
        return Err(Failure::new(format!(
            "{users} users cannot have {} distinct conversations",
            args.conversations
        )));
    }
    let mut conn = pool.get().map_err(StoreError::from)?;
    bulk::prepare(&mut conn)?;
    let hash = hash_password(&args.password)?;

    let mut people = vec![BulkUser {
        username: format!("{tag}_staff"),
        is_staff: true,
    }];
    people.extend((0..users).map(|i| BulkUser {
        username: format!("{tag}_u{i}"),
        is_staff: false,
    }));
    people.push(BulkUser {
        username: format!("{tag}_hot_a"),
        is_staff: false,
    });
    people.push(BulkUser {
        username: format!("{tag}_hot_b"),
        is_staff: false,
    });
    let ids = write_transaction(&mut conn, |c| bulk::users(c, &people, &hash, now))?;
    let staff = (ids[0], people[0].username.as_str(), SenderRole::Staff);
    let member = |i: usize| {
        (
            ids[1 + i],
            people[1 + i].username.as_str(),
            SenderRole::User,
        )
    };
    let hot_a = (
        ids[users + 1],
        people[users + 1].username.as_str(),
        SenderRole::User,
    );
    let hot_b = (
        ids[users + 2],
        people[users + 2].username.as_str(),
        SenderRole::User,
    );

    let threads = args.orders + args.conversations;
    let per_thread = if threads == 0 {
        0
    } else {
        args.messages / i64::try_from(threads).unwrap_or(1)
    };
    let total =
        u64::try_from(per_thread * i64::try_from(threads).unwrap_or(0) + 2 * args.hot_messages)
            .unwrap_or(0);
    let bar = ProgressBar::new(total).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} messages, {per_sec}, eta {eta}")
            .unwrap_or_else(|_template| ProgressStyle::default_bar()),
    );
    let mut tick = |n: u64| bar.inc(n);

    let plan: Vec<(bool, usize)> = (0..args.orders)
        .map(|i| (true, i))
        .chain((0..args.conversations).map(|i| (false, i)))
        .collect();
    for chunk in plan.chunks(THREADS_PER_TRANSACTION) {
        write_transaction(&mut conn, |c| {
            for &(is_order, i) in chunk {
                if is_order {
                    let owner = member(i % users);
                    let thread = bulk::order(c, owner.0, &format!("Custom theme #{i}"), now)?;
                    bulk::messages(
                        c,
                        thread,
                        Writers {
                            first: owner,
                            second: staff,
                            direct: false,
                        },
                        per_thread,
                        now,
                        &mut tick,
                    )?;
                } else {
                    let (a, b) = (i % users, (i % users + 1 + i / users) % users);
                    let thread = bulk::conversation(c, member(a).0, member(b).0, now)?;
                    bulk::messages(
                        c,
                        thread,
                        Writers {
                            first: member(a),
                            second: member(b),
                            direct: true,
                        },
                        per_thread,
                        now,
                        &mut tick,
                    )?;
                }
            }
            Ok::<_, StoreError>(())
        })?;
    }
    let mut hot_order = None;
    let mut hot_conversation = None;
    if args.hot_messages > 0 {
        let order =
            write_transaction(&mut conn, |c| bulk::order(c, hot_a.0, "The hot order", now))?;
        fill_big(
            &mut conn,
            order,
            Writers {
                first: hot_a,
                second: staff,
                direct: false,
            },
            args.hot_messages,
            now,
            &mut tick,
        )?;
        let conversation =
            write_transaction(&mut conn, |c| bulk::conversation(c, hot_a.0, hot_b.0, now))?;
        fill_big(
            &mut conn,
            conversation,
            Writers {
                first: hot_a,
                second: hot_b,
                direct: true,
            },
            args.hot_messages,
            now,
            &mut tick,
        )?;
        hot_order = Some(order.get());
        hot_conversation = Some(conversation.get());
    }
    bar.finish();
    bulk::finish(&mut conn)?;
    crate::print_json(&serde_json::json!({
        "tag": tag,
        "password": args.password,
        "staff": people[0].username,
        "users": users,
        "sample_user": people[1].username,
        "orders": args.orders,
        "conversations": args.conversations,
        "messages": total,
        "hot_order": hot_order,
        "hot_conversation": hot_conversation,
        "hot_users": [hot_a.1, hot_b.1],
    }))
}

/// A hot thread goes in one transaction: its counters are set at the end, so an
/// interrupted load leaves nothing half-counted.
fn fill_big(
    conn: &mut DbConn,
    thread: ThreadId,
    writers: Writers<'_>,
    count: i64,
    now: chrono::DateTime<chrono::Utc>,
    tick: &mut dyn FnMut(u64),
) -> Result<(), StoreError> {
    write_transaction(conn, |c| {
        bulk::messages(c, thread, writers, count, now, tick)
    })
}
