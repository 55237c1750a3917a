//! Questions and question sets (RESEARCH.md §1). A question used by any job is marked
//! `in_use` in that job's transaction and is never changed or deleted afterwards; a stored
//! category of `''` means "none" (the column predates optional categories).

use std::collections::HashMap;

use crate::domain::question::NewQuestion;
use crate::domain::views::{QuestionSetView, QuestionView};
use crate::server::imports::{ImportedQuestion, LineError};

use super::codec::JsonText;
use super::{assembled, now_ms, placeholders, Db};
use crate::domain::Timestamp;

/// Rows per multi-row statement: well under both databases' parameter limits.
const CHUNK: usize = 500;

type Row = (String, String, String, JsonText<Vec<String>>, i64);

const COLUMNS: &str = "q.id, q.category, q.text, q.tags, q.in_use";

fn view((id, category, text, tags, in_use): Row) -> QuestionView {
    QuestionView { id, category: (!category.is_empty()).then_some(category), text, tags: tags.0, in_use: in_use != 0 }
}

/// `GET /api/v1/questions`' filters; both optional.
#[derive(Debug, Default)]
pub struct QuestionFilter<'a> {
    pub set: Option<&'a str>,
    pub category: Option<&'a str>,
}

/// Questions in catalogue order, or in a set's order when filtered by set.
pub async fn list(db: &Db, filter: &QuestionFilter<'_>) -> sqlx::Result<Vec<QuestionView>> {
    let rows: Vec<Row> = match (filter.set, filter.category) {
        (Some(set), category) => {
            sqlx::query_as(assembled(format!(
                "SELECT {COLUMNS} FROM questions q JOIN question_set_members m ON m.question_id = q.id
                  WHERE m.set_id = $1 AND ($2 = '' OR q.category = $2) ORDER BY m.position, q.id"
            )))
            .bind(set)
            .bind(category.unwrap_or(""))
            .fetch_all(&db.pool)
            .await?
        }
        (None, category) => {
            sqlx::query_as(assembled(format!("SELECT {COLUMNS} FROM questions q WHERE ($1 = '' OR q.category = $1) ORDER BY q.position, q.id")))
                .bind(category.unwrap_or(""))
                .fetch_all(&db.pool)
                .await?
        }
    };
    Ok(rows.into_iter().map(view).collect())
}

/// The first `limit` questions in catalogue order.
pub async fn first(db: &Db, limit: i64) -> sqlx::Result<Vec<QuestionView>> {
    let rows: Vec<Row> = sqlx::query_as(assembled(format!("SELECT {COLUMNS} FROM questions q ORDER BY q.position, q.id LIMIT $1")))
        .bind(limit)
        .fetch_all(&db.pool)
        .await?;
    Ok(rows.into_iter().map(view).collect())
}

pub async fn get(db: &Db, id: &str) -> sqlx::Result<Option<QuestionView>> {
    let row: Option<Row> =
        sqlx::query_as(assembled(format!("SELECT {COLUMNS} FROM questions q WHERE q.id = $1"))).bind(id).fetch_optional(&db.pool).await?;
    Ok(row.map(view))
}

/// The texts and categories, by id, of a job's questions `first..first + step` (positions in
/// `job_questions`, the job's own order): exports and analyses read a large job a few
/// questions at a time, so neither holds every question text at once.
pub async fn texts_of_step(db: &Db, job_questions: &[String], first: i64, step: i64) -> sqlx::Result<HashMap<String, (String, Option<String>)>> {
    let position = |at: i64| (at.max(0) as usize).min(job_questions.len());
    let ids: Vec<&str> = job_questions[position(first)..position(first + step)].iter().map(String::as_str).collect();
    Ok(get_many(db, &ids).await?.into_iter().map(|q| (q.id, (q.text, q.category))).collect())
}

/// The questions with these ids (unknown ids are left out), in catalogue order.
pub async fn get_many(db: &Db, ids: &[&str]) -> sqlx::Result<Vec<QuestionView>> {
    let mut questions = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        let sql = format!("SELECT {COLUMNS} FROM questions q WHERE q.id IN ({}) ORDER BY q.position, q.id", placeholders(1, chunk.len()));
        let mut query = sqlx::query_as::<_, Row>(assembled(sql));
        for id in chunk {
            query = query.bind(*id);
        }
        questions.extend(query.fetch_all(&db.pool).await?.into_iter().map(view));
    }
    Ok(questions)
}

pub enum Written {
    Done,
    NotFound,
    InUse,
    Duplicate,
}

/// Stores a new question at the end of the catalogue; `Duplicate` when the id exists.
pub async fn insert(db: &Db, question: &NewQuestion) -> sqlx::Result<Written> {
    let mut tx = db.write_tx().await?;
    let created = insert_many(&mut tx, std::slice::from_ref(question)).await?;
    tx.commit().await?;
    Ok(if created == 1 { Written::Done } else { Written::Duplicate })
}

/// Inserts those not yet stored (an existing id is left as it is) and returns how many were new.
async fn insert_many(conn: &mut sqlx::AnyConnection, questions: &[NewQuestion]) -> sqlx::Result<u64> {
    let next: i64 = sqlx::query_scalar("SELECT CAST(COALESCE(MAX(position), 0) AS BIGINT) FROM questions").fetch_one(&mut *conn).await?;
    let mut created = 0;
    for (n, chunk) in questions.chunks(CHUNK).enumerate() {
        let rows: Vec<String> = (0..chunk.len())
            .map(|row| {
                let p = row * 5;
                format!("(${}, ${}, ${}, ${}, ${})", p + 1, p + 2, p + 3, p + 4, p + 5)
            })
            .collect();
        let sql = format!("INSERT INTO questions (id, category, text, tags, position) VALUES {} ON CONFLICT (id) DO NOTHING", rows.join(", "));
        let mut insert = sqlx::query(assembled(sql));
        for (i, question) in chunk.iter().enumerate() {
            insert = insert
                .bind(&question.id)
                .bind(question.category.as_deref().unwrap_or(""))
                .bind(&question.text)
                .bind(JsonText(&question.tags))
                .bind(next + 1 + (n * CHUNK + i) as i64);
        }
        created += insert.execute(&mut *conn).await?.rows_affected();
    }
    Ok(created)
}

/// Replaces text, category and tags of a question no job has used.
pub async fn update(db: &Db, question: &NewQuestion) -> sqlx::Result<Written> {
    let mut tx = db.write_tx().await?;
    let updated = sqlx::query("UPDATE questions SET text = $2, category = $3, tags = $4 WHERE id = $1 AND in_use = 0")
        .bind(&question.id)
        .bind(&question.text)
        .bind(question.category.as_deref().unwrap_or(""))
        .bind(JsonText(&question.tags))
        .execute(&mut *tx)
        .await?;
    let outcome = if updated.rows_affected() == 1 { Written::Done } else { why_not(&mut tx, &question.id).await? };
    tx.commit().await?;
    Ok(outcome)
}

/// Deletes a question no job has used, and its place in any set.
pub async fn delete(db: &Db, id: &str) -> sqlx::Result<Written> {
    let mut tx = db.write_tx().await?;
    let in_use: Option<i64> = sqlx::query_scalar(assembled(format!("SELECT in_use FROM questions WHERE id = $1{}", db.lock_rows())))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
    let outcome = match in_use {
        None => Written::NotFound,
        Some(0) => {
            sqlx::query("DELETE FROM question_set_members WHERE question_id = $1").bind(id).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM questions WHERE id = $1 AND in_use = 0").bind(id).execute(&mut *tx).await?;
            Written::Done
        }
        Some(_) => Written::InUse,
    };
    tx.commit().await?;
    Ok(outcome)
}

async fn why_not(conn: &mut sqlx::AnyConnection, id: &str) -> sqlx::Result<Written> {
    let in_use: Option<i64> = sqlx::query_scalar("SELECT in_use FROM questions WHERE id = $1").bind(id).fetch_optional(conn).await?;
    Ok(if in_use.is_some() { Written::InUse } else { Written::NotFound })
}

/// Marks the questions a job asks as used, in the job's own transaction.
pub async fn mark_in_use(conn: &mut sqlx::AnyConnection, ids: &[String]) -> sqlx::Result<()> {
    for chunk in ids.chunks(CHUNK) {
        let sql = format!("UPDATE questions SET in_use = 1 WHERE in_use = 0 AND id IN ({})", placeholders(1, chunk.len()));
        let mut query = sqlx::query(assembled(sql));
        for id in chunk {
            query = query.bind(id);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// The stored text of each of these questions (missing ones are left out), read inside a
/// transaction.
pub async fn texts_in(conn: &mut sqlx::AnyConnection, ids: &[String]) -> sqlx::Result<HashMap<String, String>> {
    let mut texts = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        let sql = format!("SELECT id, text FROM questions WHERE id IN ({})", placeholders(1, chunk.len()));
        let mut query = sqlx::query_as::<_, (String, String)>(assembled(sql));
        for id in chunk {
            query = query.bind(id);
        }
        texts.extend(query.fetch_all(&mut *conn).await?);
    }
    Ok(texts)
}

/// What an import stored.
pub struct Imported {
    pub created: u64,
    pub unchanged: u64,
}

/// Stores an import all or nothing: new ids are added, lines identical to a stored question
/// are unchanged, and a line whose id is stored with other content is that line's error (then
/// nothing is kept). With `set`, every line joins that set, created if missing, in file order
/// after its present members.
pub async fn import(
    db: &Db,
    questions: &[ImportedQuestion],
    set: Option<&str>,
    created_by: Option<&str>,
) -> sqlx::Result<Result<Imported, Vec<LineError>>> {
    let mut tx = db.write_tx().await?;
    let new: Vec<NewQuestion> = questions.iter().map(|q| q.question.clone()).collect();
    let created = insert_many(&mut tx, &new).await?;

    // Read back what is stored under each id (inserted just now, earlier, or by an import
    // racing this one) and compare: one rule for all three cases.
    let mut stored: HashMap<String, QuestionView> = HashMap::with_capacity(questions.len());
    for chunk in questions.chunks(CHUNK) {
        let sql = format!("SELECT {COLUMNS} FROM questions q WHERE q.id IN ({}){}", placeholders(1, chunk.len()), db.share_rows());
        let mut query = sqlx::query_as::<_, Row>(assembled(sql));
        for q in chunk {
            query = query.bind(&q.question.id);
        }
        for row in query.fetch_all(&mut *tx).await? {
            let question = view(row);
            stored.insert(question.id.clone(), question);
        }
    }
    let errors: Vec<LineError> = questions
        .iter()
        .filter(|q| stored.get(&q.question.id).is_none_or(|s| !same(s, &q.question)))
        .map(|q| LineError {
            line: q.line,
            error: format!("id: `{}` is already stored with other content (questions never change once stored by id; use a new id)", q.question.id),
        })
        .collect();
    if !errors.is_empty() {
        // Dropping the transaction rolls back what was inserted.
        return Ok(Err(errors));
    }
    if let Some(set) = set {
        sqlx::query("INSERT INTO question_sets (id, name, created_at, created_by) VALUES ($1, $1, $2, $3) ON CONFLICT (id) DO NOTHING")
            .bind(set)
            .bind(now_ms())
            .bind(created_by)
            .execute(&mut *tx)
            .await?;
        let ids: Vec<&str> = questions.iter().map(|q| q.question.id.as_str()).collect();
        add_members(&mut tx, set, &ids).await?;
    }
    tx.commit().await?;
    Ok(Ok(Imported { created, unchanged: questions.len() as u64 - created }))
}

fn same(stored: &QuestionView, new: &NewQuestion) -> bool {
    stored.text == new.text && stored.category == new.category && stored.tags == new.tags
}

/// Appends questions to a set after its present members; ones already in it keep their place.
async fn add_members(conn: &mut sqlx::AnyConnection, set: &str, ids: &[&str]) -> sqlx::Result<()> {
    let next: i64 = sqlx::query_scalar("SELECT CAST(COALESCE(MAX(position), 0) AS BIGINT) FROM question_set_members WHERE set_id = $1")
        .bind(set)
        .fetch_one(&mut *conn)
        .await?;
    for (n, chunk) in ids.chunks(CHUNK).enumerate() {
        let rows: Vec<String> = (0..chunk.len()).map(|row| format!("($1, ${}, ${})", row * 2 + 2, row * 2 + 3)).collect();
        let sql = format!(
            "INSERT INTO question_set_members (set_id, question_id, position) VALUES {} ON CONFLICT (set_id, question_id) DO NOTHING",
            rows.join(", ")
        );
        let mut insert = sqlx::query(assembled(sql)).bind(set);
        for (i, id) in chunk.iter().enumerate() {
            insert = insert.bind(*id).bind(next + 1 + (n * CHUNK + i) as i64);
        }
        insert.execute(&mut *conn).await?;
    }
    Ok(())
}

pub enum SetCreated {
    Created,
    Exists,
    /// These ids are not stored questions.
    Unknown(Vec<String>),
}

/// Creates a set of stored questions, in the order given.
pub async fn create_set(db: &Db, id: &str, name: &str, questions: &[String], created_by: Option<&str>) -> sqlx::Result<SetCreated> {
    let mut tx = db.write_tx().await?;
    let wanted: Vec<&str> = questions.iter().map(String::as_str).collect();
    let mut known = std::collections::HashSet::new();
    for chunk in wanted.chunks(CHUNK) {
        let sql = format!("SELECT id FROM questions WHERE id IN ({}){}", placeholders(1, chunk.len()), db.share_rows());
        let mut query = sqlx::query_scalar::<_, String>(assembled(sql));
        for id in chunk {
            query = query.bind(*id);
        }
        known.extend(query.fetch_all(&mut *tx).await?);
    }
    let unknown: Vec<String> = questions.iter().filter(|q| !known.contains(*q)).cloned().collect();
    if !unknown.is_empty() {
        return Ok(SetCreated::Unknown(unknown));
    }
    let inserted = sqlx::query("INSERT INTO question_sets (id, name, created_at, created_by) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING")
        .bind(id)
        .bind(name)
        .bind(now_ms())
        .bind(created_by)
        .execute(&mut *tx)
        .await?;
    if inserted.rows_affected() == 0 {
        return Ok(SetCreated::Exists);
    }
    add_members(&mut tx, id, &wanted).await?;
    tx.commit().await?;
    Ok(SetCreated::Created)
}

type SetRow = (String, String, i64, Option<String>);

/// Every set with its members in order (sets are few; their members are ids only).
pub async fn list_sets(db: &Db) -> sqlx::Result<Vec<QuestionSetView>> {
    let sets: Vec<SetRow> =
        sqlx::query_as("SELECT id, name, created_at, created_by FROM question_sets ORDER BY created_at, id").fetch_all(&db.pool).await?;
    let members: Vec<(String, String)> =
        sqlx::query_as("SELECT set_id, question_id FROM question_set_members ORDER BY set_id, position, question_id").fetch_all(&db.pool).await?;
    let mut by_set: HashMap<String, Vec<String>> = HashMap::new();
    for (set, question) in members {
        by_set.entry(set).or_default().push(question);
    }
    Ok(sets
        .into_iter()
        .map(|(id, name, created_at, created_by)| QuestionSetView {
            questions: by_set.remove(&id).unwrap_or_default(),
            id,
            name,
            created_at: Timestamp::from_millis(created_at),
            created_by,
        })
        .collect())
}

pub async fn get_set(db: &Db, id: &str) -> sqlx::Result<Option<QuestionSetView>> {
    let set: Option<SetRow> =
        sqlx::query_as("SELECT id, name, created_at, created_by FROM question_sets WHERE id = $1").bind(id).fetch_optional(&db.pool).await?;
    let Some((id, name, created_at, created_by)) = set else { return Ok(None) };
    let questions: Vec<String> = sqlx::query_scalar("SELECT question_id FROM question_set_members WHERE set_id = $1 ORDER BY position, question_id")
        .bind(&id)
        .fetch_all(&db.pool)
        .await?;
    Ok(Some(QuestionSetView { id, name, questions, created_at: Timestamp::from_millis(created_at), created_by }))
}
