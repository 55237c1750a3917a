use serde::{Deserialize, Serialize};

/// A serving region. Users and the earlier UI speak in codes (`US`, `EU`, `ASIA`/`APAC`);
/// the database and the router speak in router regions (`us-east`, …). Parsing accepts both,
/// in any case, so the earlier system's `US` vs `us-east` mismatch cannot come back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "&'static str", try_from = "String")]
pub enum Region {
    UsEast,
    EuWest,
    AsiaPacific,
}

impl Region {
    pub const ALL: [Region; 3] = [Region::UsEast, Region::EuWest, Region::AsiaPacific];

    /// Accepts a UI code or a router region, in any case.
    pub fn parse(raw: &str) -> Option<Region> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "us" | "us-east" => Some(Region::UsEast),
            "eu" | "eu-west" => Some(Region::EuWest),
            "asia" | "apac" | "asia-pacific" => Some(Region::AsiaPacific),
            _ => None,
        }
    }

    /// The name stored in the database and sent to the router.
    pub fn router_region(self) -> &'static str {
        match self {
            Region::UsEast => "us-east",
            Region::EuWest => "eu-west",
            Region::AsiaPacific => "asia-pacific",
        }
    }

    /// The short code researchers use.
    pub fn code(self) -> &'static str {
        match self {
            Region::UsEast => "US",
            Region::EuWest => "EU",
            Region::AsiaPacific => "ASIA",
        }
    }

    pub fn display_name(self) -> &'static str {
        match self {
            Region::UsEast => "United States",
            Region::EuWest => "Europe",
            Region::AsiaPacific => "Asia Pacific",
        }
    }
}

impl std::fmt::Display for Region {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.router_region())
    }
}

impl From<Region> for &'static str {
    fn from(region: Region) -> Self {
        region.router_region()
    }
}

impl TryFrom<String> for Region {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Region::parse(&raw).ok_or_else(|| format!("unknown region {raw:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_router_regions_parse_in_any_case() {
        for (raw, want) in [
            ("US", Region::UsEast),
            ("us", Region::UsEast),
            ("US-EAST", Region::UsEast),
            ("eu", Region::EuWest),
            ("eu-west", Region::EuWest),
            ("ASIA", Region::AsiaPacific),
            ("apac", Region::AsiaPacific),
            ("Asia-Pacific", Region::AsiaPacific),
        ] {
            assert_eq!(Region::parse(raw), Some(want), "{raw}");
        }
        assert_eq!(Region::parse("mars"), None);
        assert_eq!(Region::parse(""), None);
    }
}
