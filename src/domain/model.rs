//! What a configuration offers (PROVIDERS.md §1): its regions, its models, and which regions
//! serve each model. Shared with the browser, which shows the same choices; the server resolves
//! every region and model a request names against it.

use serde::{Deserialize, Serialize};

use super::Region;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RegionInfo {
    pub id: Region,
    pub label: String,
    /// Other names accepted for it, any case (`US`, `EU`, …).
    pub aliases: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ModelInfo {
    /// `[a-z0-9._-]{1,64}`
    pub id: String,
    pub name: String,
    /// Where some provider serves it, in configuration order.
    pub regions: Vec<Region>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalogue {
    pub regions: Vec<RegionInfo>,
    pub models: Vec<ModelInfo>,
}

impl Catalogue {
    /// A region by its id or one of its aliases, in any case.
    pub fn region(&self, raw: &str) -> Option<&RegionInfo> {
        let raw = raw.trim();
        self.regions.iter().find(|r| r.id.as_str().eq_ignore_ascii_case(raw) || r.aliases.iter().any(|alias| alias.eq_ignore_ascii_case(raw)))
    }

    /// A model by its exact id.
    pub fn model(&self, id: &str) -> Option<&ModelInfo> {
        self.models.iter().find(|m| m.id == id)
    }

    /// A model's id, if the configuration has it.
    pub fn model_id(&self, id: &str) -> Option<super::ModelId> {
        self.model(id).map(|m| super::ModelId::configured(&m.id))
    }

    /// Whether some provider serves `model` in `region`.
    pub fn serves(&self, region: &Region, model: &str) -> bool {
        self.model(model).is_some_and(|m| m.regions.contains(region))
    }

    /// The region's label, or its id if the configuration no longer has it (an old job).
    pub fn label<'a>(&'a self, region: &'a Region) -> &'a str {
        self.regions.iter().find(|r| &r.id == region).map(|r| r.label.as_str()).unwrap_or(region.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalogue() -> Catalogue {
        let us = Region::new("us-east").unwrap();
        Catalogue {
            regions: vec![RegionInfo { id: us.clone(), label: "United States".into(), aliases: vec!["US".into()] }],
            models: vec![ModelInfo { id: "llama3.2-1b".into(), name: "Llama".into(), regions: vec![us] }],
        }
    }

    #[test]
    fn regions_by_id_or_alias_in_any_case() {
        let c = catalogue();
        for raw in ["us-east", "US-EAST", "us", " US "] {
            assert_eq!(c.region(raw).map(|r| r.id.as_str()), Some("us-east"), "{raw}");
        }
        assert!(c.region("mars").is_none());
        assert!(c.serves(&Region::new("us-east").unwrap(), "llama3.2-1b"));
        assert!(!c.serves(&Region::new("eu-west").unwrap(), "llama3.2-1b"));
        assert!(c.model("LLAMA3.2-1B").is_none(), "model ids are exact");
    }
}
