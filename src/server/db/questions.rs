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
