//! Raw SQL on the server's database as its administrator, on either store: SQLite's file
//! through rusqlite, or PostgreSQL as the cluster's superuser `postgres` (who bypasses
//! row-level security and may do what no Keyhold role can: an attacker with the database's
//! keys). For the tests that look at what the server stored, or tamper with it.
//!
//! One statement text serves both stores when it only differs by its placeholders: write
//! SQLite's `?1`, PostgreSQL gets `$1`. Otherwise give both texts ([`Sql::per_store`]).
//! Values come back alike from both: integers (PostgreSQL's `timestamptz` as microseconds
//! since the epoch, as SQLite stores times), text (and JSON as text), bytes.

use std::borrow::Cow;
use std::path::Path;

use tokio_postgres::types::{ToSql, Type};

use crate::TestServer;
use crate::postgres::PgCluster;

/// The database Keyhold's tables live in on a test cluster (`use_postgres`).
pub const PG_DATABASE: &str = "keyhold";

/// A value read or bound, the same on both stores.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
    Bytes(Vec<u8>),
}

impl Value {
    pub fn int(&self) -> i64 {
        match self {
            Value::Int(i) => *i,
            other => panic!("not an integer: {other:?}"),
        }
    }

    pub fn text(&self) -> &str {
        match self {
            Value::Text(s) => s,
            other => panic!("not text: {other:?}"),
        }
    }

    pub fn bytes(&self) -> &[u8] {
        match self {
            Value::Bytes(b) => b,
            other => panic!("not bytes: {other:?}"),
        }
    }
}

/// What may be bound to a placeholder.
pub trait ToValue {
    fn to_value(&self) -> Value;
}

impl<T: ToValue + ?Sized> ToValue for &T {
    fn to_value(&self) -> Value {
        (**self).to_value()
    }
}

impl ToValue for str {
    fn to_value(&self) -> Value {
        Value::Text(self.to_owned())
    }
}

impl ToValue for String {
    fn to_value(&self) -> Value {
        Value::Text(self.clone())
    }
}

impl ToValue for [u8] {
    fn to_value(&self) -> Value {
        Value::Bytes(self.to_vec())
    }
}

impl ToValue for Vec<u8> {
    fn to_value(&self) -> Value {
        Value::Bytes(self.clone())
    }
}

impl ToValue for Value {
    fn to_value(&self) -> Value {
        self.clone()
    }
}

macro_rules! int_values {
    ($($t:ty),*) => {$(
        impl ToValue for $t {
            fn to_value(&self) -> Value {
                Value::Int(i64::try_from(*self).unwrap())
            }
        }
    )*};
}
int_values!(i32, i64, u32, u64, usize);

/// A statement's text for each store.
pub struct Sql<'a> {
    sqlite: &'a str,
    postgres: Cow<'a, str>,
}

impl<'a> Sql<'a> {
    /// Two texts, where the stores' dialects differ beyond placeholders.
    pub fn per_store(sqlite: &'a str, postgres: &'a str) -> Self {
        Self {
            sqlite,
            postgres: Cow::Borrowed(postgres),
        }
    }
}

impl<'a> From<&'a str> for Sql<'a> {
    fn from(sqlite: &'a str) -> Self {
        Self {
            sqlite,
            postgres: Cow::Owned(dollar_placeholders(sqlite)),
        }
    }
}

impl<'a> From<&'a String> for Sql<'a> {
    fn from(sqlite: &'a String) -> Self {
        Self::from(sqlite.as_str())
    }
}

/// `?1` → `$1`, and a bare `?` → the next number, as SQLite numbers them.
fn dollar_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    let mut next = 0;
    while let Some(c) = chars.next() {
        if c != '?' {
            out.push(c);
            continue;
        }
        let mut digits = String::new();
        while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            digits.push(*d);
            chars.next();
        }
        if digits.is_empty() {
            next += 1;
            digits = next.to_string();
        } else {
            next = digits.parse().unwrap();
        }
        out.push('$');
        out.push_str(&digits);
    }
    out
}

/// A connection to the server's database with every right.
pub enum AdminDb {
    Sqlite(rusqlite::Connection),
    Postgres(tokio_postgres::Client),
}

impl AdminDb {
    /// The database of a server whose data dir is `data_dir`: the cluster's when `pg` is
    /// given, else the SQLite file in the directory.
    pub async fn open(data_dir: &Path, pg: Option<&PgCluster>) -> Self {
        match pg {
            Some(pg) => {
                let url = pg.url("postgres", PG_DATABASE);
                Self::Postgres(crate::postgres::connect(&url).await.unwrap())
            }
            None => {
                let c = rusqlite::Connection::open(data_dir.join("keyhold.db")).unwrap();
                c.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
                Self::Sqlite(c)
            }
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Self::Postgres(_))
    }

    /// Every row of a query; the error's text carries the database's message.
    pub async fn try_query<'a>(
        &self,
        sql: impl Into<Sql<'a>>,
        params: &[&dyn ToValue],
    ) -> Result<Vec<Vec<Value>>, String> {
        let sql = sql.into();
        let params: Vec<Value> = params.iter().map(|p| p.to_value()).collect();
        match self {
            Self::Sqlite(c) => sqlite_query(c, sql.sqlite, &params).map_err(|e| e.to_string()),
            Self::Postgres(c) => {
                let st = c.prepare(&sql.postgres).await.map_err(pg_error)?;
                let bound = pg_params(&params, st.params())?;
                let rows = c.query(&st, &as_refs(&bound)).await.map_err(pg_error)?;
                rows.iter().map(pg_row).collect()
            }
        }
    }

    /// Every row of a query.
    pub async fn query<'a>(
        &self,
        sql: impl Into<Sql<'a>>,
        params: &[&dyn ToValue],
    ) -> Vec<Vec<Value>> {
        self.try_query(sql, params).await.unwrap()
    }

    /// The one row a query returns.
    pub async fn query_one<'a>(
        &self,
        sql: impl Into<Sql<'a>>,
        params: &[&dyn ToValue],
    ) -> Vec<Value> {
        let mut rows = self.query(sql, params).await;
        assert_eq!(rows.len(), 1, "{rows:?}");
        rows.remove(0)
    }

    /// Run a statement: the number of rows it changed, or the database's error.
    pub async fn try_execute<'a>(
        &self,
        sql: impl Into<Sql<'a>>,
        params: &[&dyn ToValue],
    ) -> Result<u64, String> {
        let sql = sql.into();
        let params: Vec<Value> = params.iter().map(|p| p.to_value()).collect();
        match self {
            Self::Sqlite(c) => c
                .execute(
                    sql.sqlite,
                    rusqlite::params_from_iter(params.iter().map(sqlite_value)),
                )
                .map(|n| n as u64)
                .map_err(|e| e.to_string()),
            Self::Postgres(c) => {
                let st = c.prepare(&sql.postgres).await.map_err(pg_error)?;
                let bound = pg_params(&params, st.params())?;
                c.execute(&st, &as_refs(&bound)).await.map_err(pg_error)
            }
        }
    }

    pub async fn execute<'a>(&self, sql: impl Into<Sql<'a>>, params: &[&dyn ToValue]) -> u64 {
        self.try_execute(sql, params).await.unwrap()
    }

    /// Statements without parameters, one after another.
    pub async fn batch<'a>(&self, sql: impl Into<Sql<'a>>) {
        let sql = sql.into();
        match self {
            Self::Sqlite(c) => c.execute_batch(sql.sqlite).unwrap(),
            Self::Postgres(c) => c.batch_execute(&sql.postgres).await.unwrap(),
        }
    }
}

fn sqlite_value(v: &Value) -> rusqlite::types::Value {
    use rusqlite::types::Value as V;
    match v {
        Value::Null => V::Null,
        Value::Int(i) => V::Integer(*i),
        Value::Text(s) => V::Text(s.clone()),
        Value::Bytes(b) => V::Blob(b.clone()),
    }
}

fn sqlite_query(
    c: &rusqlite::Connection,
    sql: &str,
    params: &[Value],
) -> rusqlite::Result<Vec<Vec<Value>>> {
    use rusqlite::types::ValueRef;
    let mut st = c.prepare(sql)?;
    let n = st.column_count();
    let rows = st.query_map(
        rusqlite::params_from_iter(params.iter().map(sqlite_value)),
        |r| {
            (0..n)
                .map(|i| {
                    Ok(match r.get_ref(i)? {
                        ValueRef::Null => Value::Null,
                        ValueRef::Integer(i) => Value::Int(i),
                        ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                        ValueRef::Blob(b) => Value::Bytes(b.to_vec()),
                        ValueRef::Real(f) => panic!("a REAL column ({f}): not read by these tests"),
                    })
                })
                .collect()
        },
    )?;
    rows.collect()
}

/// The error with the database's own message (tokio-postgres shows only "db error").
fn pg_error(e: tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{e}: {}", db.message()),
        None => e.to_string(),
    }
}

type Param = Box<dyn ToSql + Sync + Send>;

/// Each value as the Rust type the statement's parameter takes.
fn pg_params(values: &[Value], types: &[Type]) -> Result<Vec<Param>, String> {
    if values.len() != types.len() {
        return Err(format!(
            "{} parameters given, the statement takes {}",
            values.len(),
            types.len()
        ));
    }
    values
        .iter()
        .zip(types)
        .map(|(v, t)| pg_param(v, t))
        .collect()
}

fn pg_param(v: &Value, ty: &Type) -> Result<Param, String> {
    let int = |i: Option<i64>| -> Result<Param, String> {
        let narrow = |e: std::num::TryFromIntError| e.to_string();
        Ok(match *ty {
            Type::INT2 => Box::new(i.map(i16::try_from).transpose().map_err(narrow)?),
            Type::INT4 => Box::new(i.map(i32::try_from).transpose().map_err(narrow)?),
            _ => Box::new(i),
        })
    };
    match (v, ty) {
        (Value::Int(i), _) => int(Some(*i)),
        (Value::Null, &Type::INT2 | &Type::INT4 | &Type::INT8) => int(None),
        (Value::Null, &Type::BYTEA) => Ok(Box::new(None::<Vec<u8>>)),
        (Value::Null, _) => Ok(Box::new(None::<String>)),
        (Value::Text(s), _) => Ok(Box::new(s.clone())),
        (Value::Bytes(b), _) => Ok(Box::new(b.clone())),
    }
}

fn as_refs(params: &[Param]) -> Vec<&(dyn ToSql + Sync)> {
    params
        .iter()
        .map(|p| p.as_ref() as &(dyn ToSql + Sync))
        .collect()
}

fn pg_row(row: &tokio_postgres::Row) -> Result<Vec<Value>, String> {
    (0..row.len()).map(|i| pg_column(row, i)).collect()
}

fn pg_column(row: &tokio_postgres::Row, i: usize) -> Result<Value, String> {
    let ty = row.columns()[i].type_().clone();
    let e = |e: tokio_postgres::Error| format!("column {i}: {e}");
    let v = match ty {
        Type::INT2 => row
            .try_get::<_, Option<i16>>(i)
            .map_err(e)?
            .map(|v| Value::Int(v.into())),
        Type::INT4 => row
            .try_get::<_, Option<i32>>(i)
            .map_err(e)?
            .map(|v| Value::Int(v.into())),
        Type::INT8 => row.try_get::<_, Option<i64>>(i).map_err(e)?.map(Value::Int),
        Type::BOOL => row
            .try_get::<_, Option<bool>>(i)
            .map_err(e)?
            .map(|v| Value::Int(v.into())),
        Type::BYTEA => row
            .try_get::<_, Option<Vec<u8>>>(i)
            .map_err(e)?
            .map(Value::Bytes),
        Type::TIMESTAMPTZ => row
            .try_get::<_, Option<chrono::DateTime<chrono::Utc>>>(i)
            .map_err(e)?
            .map(|t| Value::Int(t.timestamp_micros())),
        Type::JSON | Type::JSONB => row
            .try_get::<_, Option<serde_json::Value>>(i)
            .map_err(e)?
            .map(|j| Value::Text(j.to_string())),
        _ => row
            .try_get::<_, Option<String>>(i)
            .map_err(e)?
            .map(Value::Text),
    };
    Ok(v.unwrap_or(Value::Null))
}

impl TestServer {
    /// The server's database, as its administrator ([`AdminDb`]).
    pub async fn admin_db(&self) -> AdminDb {
        AdminDb::open(self.data_dir(), self.pg.as_ref()).await
    }

    /// Every byte the database keeps on disk: SQLite's file and its write-ahead log; on
    /// PostgreSQL, after a `CHECKPOINT` (so the tables' files hold what the WAL does),
    /// every file of the cluster: tables, WAL, its log.
    pub async fn database_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        match &self.pg {
            None => {
                bytes.extend(std::fs::read(self.db_path()).unwrap());
                // The WAL is there until the last connection closes.
                if let Ok(wal) = std::fs::read(self.data_dir().join("keyhold.db-wal")) {
                    bytes.extend(wal);
                }
            }
            Some(pg) => {
                self.admin_db().await.batch("CHECKPOINT").await;
                for (_, b) in crate::leaks::files_under(pg.socket_dir()) {
                    bytes.extend(b);
                }
            }
        }
        bytes
    }
}
