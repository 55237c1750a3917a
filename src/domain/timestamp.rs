//! A moment as Beacon keeps it: milliseconds since the Unix epoch in the database, and RFC 3339
//! in UTC with milliseconds (`2026-12-08T03:02:57.123Z`) wherever it is sent or shown. One
//! type for both, so a stored row can be the view the API and the pages read. On the server
//! chrono writes and reads the text; in the browser the platform's own `Date` does (the same
//! format, `toISOString`), which keeps a date library out of the WASM module.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    pub fn from_millis(millis: i64) -> Timestamp {
        Timestamp(millis)
    }

    pub fn millis(self) -> i64 {
        self.0
    }

    /// `2026-12-08T03:02:57.123Z`.
    pub fn rfc3339(self) -> String {
        #[cfg(feature = "ssr")]
        {
            chrono::DateTime::from_timestamp_millis(self.0).unwrap_or_default().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        }
        #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
        {
            js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(self.0 as f64)).to_iso_string().into()
        }
        #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
        {
            self.0.to_string()
        }
    }

    /// RFC 3339 as [`Timestamp::rfc3339`] writes it (any offset is accepted and kept exact).
    pub fn parse(text: &str) -> Option<Timestamp> {
        #[cfg(feature = "ssr")]
        {
            chrono::DateTime::parse_from_rfc3339(text).ok().map(|moment| Timestamp(moment.timestamp_millis()))
        }
        #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
        {
            let millis = js_sys::Date::parse(text);
            millis.is_finite().then_some(Timestamp(millis as i64))
        }
        #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
        {
            text.parse().ok().map(Timestamp)
        }
    }

    /// `2026-12-08 03:02:57`, for tables (UTC, to the second).
    pub fn short(self) -> String {
        self.rfc3339().chars().take(19).map(|c| if c == 'T' { ' ' } else { c }).collect()
    }
}

impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Timestamp, D::Error> {
        let text = String::deserialize(deserializer)?;
        Timestamp::parse(&text).ok_or_else(|| serde::de::Error::custom(format!("expected an RFC 3339 time, got {text:?}")))
    }
}

#[cfg(feature = "ssr")]
impl utoipa::PartialSchema for Timestamp {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .description(Some("RFC 3339 in UTC with milliseconds"))
            .into()
    }
}

#[cfg(feature = "ssr")]
impl utoipa::ToSchema for Timestamp {}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn written_as_rfc3339_with_milliseconds_in_utc_and_read_back() {
        // 2026-12-08T03:02:57.123Z, by hand: 20,795 days after 1970-01-01, and 10,977.123 s.
        let moment = Timestamp::from_millis(20_795 * 86_400_000 + 10_977_123);
        assert_eq!(moment.rfc3339(), "2026-12-08T03:02:57.123Z");
        assert_eq!(moment.short(), "2026-12-08 03:02:57");
        assert_eq!(Timestamp::parse("2026-12-08T03:02:57.123Z"), Some(moment));
        assert_eq!(Timestamp::parse("2026-12-08T04:02:57.123+01:00"), Some(moment));
        assert_eq!(serde_json::to_string(&moment).unwrap(), r#""2026-12-08T03:02:57.123Z""#);
        assert_eq!(serde_json::from_str::<Timestamp>(r#""2026-12-08T03:02:57.123Z""#).unwrap(), moment);
        assert!(serde_json::from_str::<Timestamp>(r#""yesterday""#).is_err());
        assert_eq!(Timestamp::from_millis(0).rfc3339(), "1970-01-01T00:00:00.000Z");
    }
}
