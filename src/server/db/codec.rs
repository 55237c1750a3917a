//! How the domain's types are stored: each as its text spelling, decoded in one place. A
//! spelling no variant has is a decode error (and so an internal error, logged with its
//! column), never a silent default; the schema's CHECK constraints keep such values out.

use sqlx::any::{Any, AnyTypeInfo, AnyValueRef};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::{Database, Decode, Encode, Type};

use crate::domain::{AttemptStatus, ExecutionStatus, JobId, JobStatus, Region, Role, Timestamp, Trigger, WarmupStatus};

macro_rules! stored_as_text {
    ($($ty:ty => $parse:expr, $spell:expr;)+) => {$(
        impl Type<Any> for $ty {
            fn type_info() -> AnyTypeInfo {
                <str as Type<Any>>::type_info()
            }
        }

        impl<'q> Encode<'q, Any> for $ty {
            fn encode_by_ref(&self, buf: &mut <Any as Database>::ArgumentBuffer) -> Result<IsNull, BoxDynError> {
                let text: String = ($spell)(self);
                <String as Encode<'q, Any>>::encode(text, buf)
            }
        }

        impl<'r> Decode<'r, Any> for $ty {
            fn decode(value: AnyValueRef<'r>) -> Result<Self, BoxDynError> {
                let raw = <&'r str as Decode<'r, Any>>::decode(value)?;
                let parsed: Result<$ty, String> = ($parse)(raw);
                Ok(parsed?)
            }
        }
    )+};
}

fn unknown(kind: &str, raw: &str) -> String {
    format!("unknown {kind} {raw:?} in the database")
}

stored_as_text! {
    ExecutionStatus => |raw| ExecutionStatus::parse(raw).ok_or_else(|| unknown("execution status", raw)), |v: &ExecutionStatus| v.as_str().to_string();
    JobStatus => |raw| JobStatus::parse(raw).ok_or_else(|| unknown("job status", raw)), |v: &JobStatus| v.as_str().to_string();
    AttemptStatus => |raw| AttemptStatus::parse(raw).ok_or_else(|| unknown("attempt status", raw)), |v: &AttemptStatus| v.as_str().to_string();
    WarmupStatus => |raw| WarmupStatus::parse(raw).ok_or_else(|| unknown("warm-up status", raw)), |v: &WarmupStatus| v.as_str().to_string();
    Trigger => |raw| Trigger::parse(raw).ok_or_else(|| unknown("trigger", raw)), |v: &Trigger| v.as_str().to_string();
    Role => |raw| Role::parse(raw).ok_or_else(|| unknown("role", raw)), |v: &Role| v.as_str().to_string();
    // Stored as the region id; which ids exist is configuration, so any stored id reads back.
    Region => |raw: &str| Ok::<_, String>(Region::from_stored(raw.to_string())), |v: &Region| v.router_region().to_string();
    JobId => |raw: &str| Ok(JobId::from_stored(raw.to_string())), |v: &JobId| v.as_str().to_string();
}

/// Moments are stored as milliseconds since the Unix epoch.
impl Type<Any> for Timestamp {
    fn type_info() -> AnyTypeInfo {
        <i64 as Type<Any>>::type_info()
    }
}

impl<'q> Encode<'q, Any> for Timestamp {
    fn encode_by_ref(&self, buf: &mut <Any as Database>::ArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <i64 as Encode<'q, Any>>::encode(self.millis(), buf)
    }
}

impl<'r> Decode<'r, Any> for Timestamp {
    fn decode(value: AnyValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(Timestamp::from_millis(<i64 as Decode<'r, Any>>::decode(value)?))
    }
}

/// A column holding JSON written by Beacon (a job's ordered lists). Text that does not parse
/// is a decode error, as with the enums.
#[derive(Debug, Clone, Default)]
pub struct JsonText<T>(pub T);

impl<T> Type<Any> for JsonText<T> {
    fn type_info() -> AnyTypeInfo {
        <str as Type<Any>>::type_info()
    }
}

impl<'r, T: serde::de::DeserializeOwned> Decode<'r, Any> for JsonText<T> {
    fn decode(value: AnyValueRef<'r>) -> Result<Self, BoxDynError> {
        let raw = <&'r str as Decode<'r, Any>>::decode(value)?;
        Ok(JsonText(serde_json::from_str(raw)?))
    }
}

impl<'q, T: serde::Serialize> Encode<'q, Any> for JsonText<T> {
    fn encode_by_ref(&self, buf: &mut <Any as Database>::ArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <String as Encode<'q, Any>>::encode(serde_json::to_string(&self.0)?, buf)
    }
}
