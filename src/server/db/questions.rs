use crate::domain::views::QuestionView;

use super::Db;

pub async fn list(db: &Db) -> sqlx::Result<Vec<QuestionView>> {
    let rows: Vec<(String, String, String)> =
        sqlx::query_as("SELECT id, category, text FROM questions ORDER BY position, id")
            .fetch_all(&db.pool)
            .await?;
    Ok(rows
        .into_iter()
        .map(|(id, category, text)| QuestionView { id, category, text })
        .collect())
}

/// The questions with these ids (unknown ids are left out): a page's worth, not the catalogue.
pub async fn get_many(db: &Db, ids: &[&str]) -> sqlx::Result<Vec<QuestionView>> {
    let mut questions = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let sql = format!(
            "SELECT id, category, text FROM questions WHERE id IN ({}) ORDER BY position, id",
            super::placeholders(1, chunk.len())
        );
        let mut query = sqlx::query_as::<_, (String, String, String)>(super::assembled(sql));
        for id in chunk {
            query = query.bind(*id);
        }
        questions.extend(query.fetch_all(&db.pool).await?.into_iter().map(|(id, category, text)| QuestionView { id, category, text }));
    }
    Ok(questions)
}
