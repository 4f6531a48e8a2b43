//! The floor of colloq's benchmarks: actix-web, diesel and r2d2 doing exactly the
//! database work of a message page — read the thread's counter, read one index
//! range — and returning the rows as plain JSON. No authentication, no envelope,
//! no dialect mapping. colloq's own endpoints are reported as a ratio to it.
//!
//! Usage: `colloq-bench-floor DATABASE_URL BIND` (`COLLOQ_DATABASE__PG_SCHEMA`
//! selects a PostgreSQL schema). `GET /page?thread=ID&page=N&size=M`.
//!
//! Two variants measure what a Fresns page cannot avoid on top of the floor:
//! `pad=N` appends N bytes of filler to the body (a Fresns page is tens of
//! kilobytes), and `key=APP_ID&aid=AID&aid_hash=H&uid=UID&uid_hash=H` first
//! makes the read of Fresns's caller check (app key, profile, account and
//! user tokens by their SHA-256, in one statement) as colloq makes it, in one
//! read transaction with the page, and fails unless every row is found.

use std::time::Duration;

use actix_web::{App, HttpResponse, HttpServer, web};
use colloq_domain::ids::ThreadId;
use colloq_domain::page::PageRequest;
use colloq_persistence::accounts;
use colloq_persistence::{
    DbConn, DbManager, DbPool, PoolOptions, StoreError, build_pool, messages, read_snapshot,
};
use serde::{Deserialize, Serialize};

// The same allocator as colloq's binary, so that a ratio to the floor compares
// the code above the stack and not two allocators.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(Deserialize)]
struct PageQuery {
    thread: i64,
    page: i64,
    size: i64,
    #[serde(default)]
    pad: usize,
    // The caller of the checked variant (flattening a struct here would
    // turn a malformed uid into no check at all).
    key: Option<String>,
    aid: Option<String>,
    aid_hash: Option<String>,
    uid: Option<i64>,
    uid_hash: Option<String>,
}

/// The caller a Fresns page checks: its app key and its two sessions.
struct Caller {
    key: String,
    aid: String,
    aid_hash: String,
    uid: i64,
    uid_hash: String,
}

/// Fresns's caller read, as colloq makes it for a request acting as a user:
/// the key, the profile and both tokens' records in one statement.
/// `NotFound` unless each is found and the profile is the aid's.
fn check_caller(conn: &mut DbConn, caller: &Caller) -> Result<(), StoreError> {
    let found = accounts::find_key_and_user(
        conn,
        &caller.key,
        caller.uid,
        &caller.aid_hash,
        &caller.uid_hash,
    )?;
    match found {
        Some((_, Some(presented)))
            if presented.user.aid == caller.aid
                && presented.account_token.is_some()
                && presented.user_token.is_some() =>
        {
            Ok(())
        }
        _ => Err(StoreError::NotFound),
    }
}

#[derive(Serialize)]
struct Page {
    total: i64,
    rows: Vec<(i64, i64, String)>,
}

/// The page as JSON, with `pad` bytes of filler in a last `"pad"` member. The
/// filler is appended as raw bytes, not passed through serde_json, whose
/// escape scan over a long string would cost more than sending it: the padded
/// read must show what the body's size costs, not what escaping costs.
fn body(page: &Page, pad: usize) -> serde_json::Result<Vec<u8>> {
    let mut out = serde_json::to_vec(page)?;
    if pad > 0 {
        out.pop(); // the closing brace
        out.reserve(pad + 10);
        out.extend_from_slice(b",\"pad\":\"");
        out.resize(out.len() + pad, b'x');
        out.extend_from_slice(b"\"}");
    }
    Ok(out)
}

async fn page(pool: web::Data<DbPool>, query: web::Query<PageQuery>) -> HttpResponse {
    let pool = pool.get_ref().clone();
    let PageQuery {
        thread,
        page,
        size,
        pad,
        key,
        aid,
        aid_hash,
        uid,
        uid_hash,
    } = query.into_inner();
    let caller = match (key, aid, aid_hash, uid, uid_hash) {
        (None, None, None, None, None) => None,
        (Some(key), Some(aid), Some(aid_hash), Some(uid), Some(uid_hash)) => Some(Caller {
            key,
            aid,
            aid_hash,
            uid,
            uid_hash,
        }),
        _ => {
            return HttpResponse::BadRequest()
                .body("key, aid, aid_hash, uid and uid_hash go together");
        }
    };
    let result = web::block(move || {
        let mut conn = pool.get()?;
        let read = |conn: &mut DbConn| {
            let thread = ThreadId(thread);
            let total = messages::count(conn, thread)?;
            let (after, limit) = PageRequest::new(page, size, 1000)
                .map(PageRequest::seq_window)
                .unwrap_or((0, 10));
            let rows = messages::after_seq(conn, thread, after, limit)?;
            Ok::<_, StoreError>(Page {
                total,
                rows: rows
                    .into_iter()
                    .map(|m| (m.id.get(), m.seq, m.body))
                    .collect(),
            })
        };
        match &caller {
            None => read(&mut conn),
            // Three reads, in one read transaction as colloq makes them: on
            // SQLite that takes WAL's read lock once instead of three times.
            Some(caller) => read_snapshot(&mut conn, |conn| {
                check_caller(conn, caller)?;
                read(conn)
            }),
        }
    })
    .await;
    match result.map(|page| page.map(|page| body(&page, pad))) {
        Ok(Ok(Ok(bytes))) => HttpResponse::Ok()
            .content_type("application/json")
            .body(bytes),
        _ => HttpResponse::InternalServerError().finish(),
    }
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(url), Some(bind)) = (args.next(), args.next()) else {
        return Err(std::io::Error::other(
            "usage: colloq-bench-floor DATABASE_URL BIND",
        ));
    };
    let schema = std::env::var("COLLOQ_DATABASE__PG_SCHEMA").ok();
    let pool = DbManager::new(&url, schema)
        .and_then(|manager| {
            build_pool(
                manager,
                PoolOptions {
                    max_size: 16,
                    checkout_timeout: Duration::from_secs(10),
                },
            )
        })
        .map_err(std::io::Error::other)?;
    actix_web::rt::System::new().block_on(
        HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(pool.clone()))
                .route("/page", web::get().to(page))
        })
        .bind(bind)?
        .run(),
    )
}
