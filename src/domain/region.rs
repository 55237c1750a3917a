use serde::{Deserialize, Serialize};

/// A serving region, by its id: the name stored in the database and sent to the router
/// (`us-east`, `us-central`, …). Which regions exist is configuration (`beacon.toml`), not code:
/// a request's region (an id or an alias, any case) is resolved against the [`Catalogue`]
/// (crate::domain::Catalogue) at the edge, so a `Region` inside Beacon is always a known one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Region(String);

impl Region {
    /// A region id as configured: `[a-z0-9-]{1,32}`.
    pub fn new(id: &str) -> Option<Region> {
        let fine = !id.is_empty() && id.len() <= 32 && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        fine.then(|| Region(id.to_string()))
    }

    /// A region read back from Beacon's own storage, which only ever holds configured ids.
    pub fn from_stored(id: String) -> Region {
        Region(id)
    }

    /// The name stored in the database and sent to the router.
    pub fn router_region(&self) -> &str {
        &self.0
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Region {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_ids_are_lowercase_names() {
        assert!(Region::new("us-central").is_some());
        assert!(Region::new("eu2").is_some());
        for bad in ["", "US", "us east", "us_east", &"a".repeat(33)] {
            assert!(Region::new(bad).is_none(), "{bad:?}");
        }
    }
}
