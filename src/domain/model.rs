/// A model Beacon can ask. The set is small and tied to what the router serves, so it lives
/// here rather than in the database; questions, which researchers add, live in the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Model {
    pub id: &'static str,
    pub name: &'static str,
}

impl Model {
    pub const ALL: [Model; 3] = [
        Model { id: "llama3.2-1b", name: "Llama 3.2-1B Instruct" },
        Model { id: "mistral-7b", name: "Mistral 7B Instruct" },
        Model { id: "qwen2.5-1.5b", name: "Qwen 2.5-1.5B Instruct" },
    ];

    pub fn find(id: &str) -> Option<Model> {
        Model::ALL.into_iter().find(|m| m.id == id)
    }
}
