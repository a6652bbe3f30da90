//! Arrow on the wire: the IPC streams that `dataset` and `sqlite` payloads carry, and the
//! plain-JSON forms of Arrow cells (binary as base64; dates, times and timestamps as text, as
//! the SDK writes them). Both sides take these: the server's tables store and toolkits, and
//! the client that decodes results.

use std::io::Cursor;

use arrow_array::types::{
    Date32Type, Date64Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    Time32MillisecondType, Time32SecondType, Time64MicrosecondType, Time64NanosecondType,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrayRef, RecordBatch, cast::AsArray};
use arrow_ipc::reader::StreamReader;
use arrow_ipc::writer::StreamWriter;
use arrow_schema::{DataType, Schema, SchemaRef, TimeUnit};
use base64::Engine;
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use serde_json::{Map, Value as Json};

pub const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Arrow data that cannot be read or written, as a sentence for the caller.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct ArrowDataError(pub String);

impl From<arrow_schema::ArrowError> for ArrowDataError {
    fn from(e: arrow_schema::ArrowError) -> ArrowDataError {
        ArrowDataError(format!("Arrow data is not valid: {e}"))
    }
}

pub fn schema_to_ipc(schema: &Schema) -> Result<Vec<u8>, ArrowDataError> {
    let mut out = Vec::new();
    let mut w = StreamWriter::try_new(&mut out, schema)?;
    w.finish()?;
    drop(w);
    Ok(out)
}

pub fn batch_to_ipc(batch: &RecordBatch) -> Result<Vec<u8>, ArrowDataError> {
    let mut out = Vec::new();
    let mut w = StreamWriter::try_new(&mut out, &batch.schema())?;
    w.write(batch)?;
    w.finish()?;
    drop(w);
    Ok(out)
}

/// Reads one Arrow IPC stream: its schema and every batch in it.
///
/// arrow-ipc trusts the buffer offsets a message declares and panics on some that point
/// outside it (found by fuzz/run arrow); input comes from the other side, so a panic inside
/// the decoder becomes an error for that call.
pub fn read_ipc(bytes: &[u8]) -> Result<(SchemaRef, Vec<RecordBatch>), ArrowDataError> {
    std::panic::catch_unwind(|| decode_ipc(bytes)).unwrap_or_else(|_| {
        Err(ArrowDataError(
            "the Arrow IPC stream is malformed (a buffer lies outside its message)".into(),
        ))
    })
}

fn decode_ipc(bytes: &[u8]) -> Result<(SchemaRef, Vec<RecordBatch>), ArrowDataError> {
    let reader = StreamReader::try_new(Cursor::new(bytes), None).map_err(|e| {
        ArrowDataError(format!(
            "the payload is not an Arrow IPC stream (application/vnd.apache.arrow.stream): {e}"
        ))
    })?;
    let schema = reader.schema();
    let mut batches = Vec::new();
    for b in reader {
        batches.push(b?);
    }
    Ok((schema, batches))
}

// ---- text forms of dates, times and UUIDs ----------------------------------------------

/// Parses `YYYY-MM-DD` (or the date part of a timestamp) into days since 1970-01-01.
pub fn parse_date(s: &str) -> Option<i32> {
    let s = s.trim();
    let day = s.get(..10).unwrap_or(s);
    let d = NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()?;
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1)?;
    i32::try_from((d - epoch).num_days()).ok()
}

pub fn format_date(days: i64) -> String {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    epoch
        .checked_add_signed(chrono::TimeDelta::days(days))
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| days.to_string())
}

fn unit_per_second(unit: TimeUnit) -> i64 {
    match unit {
        TimeUnit::Second => 1,
        TimeUnit::Millisecond => 1_000,
        TimeUnit::Microsecond => 1_000_000,
        TimeUnit::Nanosecond => 1_000_000_000,
    }
}

/// Parses a timestamp: RFC 3339 (`2024-01-02T03:04:05.6Z`, any offset) or naive
/// (`2024-01-02 03:04:05`, `2024-01-02T03:04:05`, `2024-01-02`). Returns `unit`s since the epoch.
pub fn parse_timestamp(s: &str, unit: TimeUnit) -> Option<i64> {
    let s = s.trim();
    let naive = if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        dt.naive_utc()
    } else if let Ok(dt) = DateTime::parse_from_rfc3339(&s.replacen(' ', "T", 1)) {
        dt.naive_utc()
    } else {
        let t = s.replacen(' ', "T", 1);
        match NaiveDateTime::parse_from_str(&t, "%Y-%m-%dT%H:%M:%S%.f") {
            Ok(dt) => dt,
            Err(_) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()?
                .and_hms_opt(0, 0, 0)?,
        }
    };
    let utc = naive.and_utc();
    let secs = utc.timestamp();
    let nanos = i64::from(utc.timestamp_subsec_nanos());
    let per = unit_per_second(unit);
    secs.checked_mul(per)?
        .checked_add(nanos / (1_000_000_000 / per))
}

pub fn format_timestamp(v: i64, unit: TimeUnit, utc: bool) -> String {
    let per = unit_per_second(unit);
    let secs = v.div_euclid(per);
    let frac = v.rem_euclid(per);
    let nanos = (frac * (1_000_000_000 / per)) as u32;
    let Some(dt) = DateTime::from_timestamp(secs, nanos) else {
        return v.to_string();
    };
    let base = dt.naive_utc().format("%Y-%m-%dT%H:%M:%S").to_string();
    let frac = match unit {
        TimeUnit::Second => String::new(),
        TimeUnit::Millisecond => format!(".{:03}", nanos / 1_000_000),
        TimeUnit::Microsecond => format!(".{:06}", nanos / 1_000),
        TimeUnit::Nanosecond => format!(".{nanos:09}"),
    };
    format!("{base}{frac}{}", if utc { "Z" } else { "" })
}

pub fn parse_time(s: &str, unit: TimeUnit) -> Option<i64> {
    let t = NaiveTime::parse_from_str(s.trim(), "%H:%M:%S%.f").ok()?;
    let per = unit_per_second(unit);
    Some(
        i64::from(t.num_seconds_from_midnight()) * per
            + i64::from(t.nanosecond()) / (1_000_000_000 / per),
    )
}

pub fn format_time(v: i64, unit: TimeUnit) -> String {
    let per = unit_per_second(unit);
    let secs = v.div_euclid(per);
    let nanos = (v.rem_euclid(per) * (1_000_000_000 / per)) as u32;
    match NaiveTime::from_num_seconds_from_midnight_opt(secs as u32, nanos) {
        Some(t) if nanos == 0 => t.format("%H:%M:%S").to_string(),
        Some(t) => t.format("%H:%M:%S%.f").to_string(),
        None => v.to_string(),
    }
}

pub fn parse_uuid(s: &str) -> Option<[u8; 16]> {
    let hex: String = s.chars().filter(|c| *c != '-').collect();
    if hex.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(i * 2..i * 2 + 2)?, 16).ok()?;
    }
    Some(out)
}

pub fn format_uuid(b: &[u8]) -> String {
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    if h.len() != 32 {
        return h;
    }
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

// ---- Arrow cells as JSON --------------------------------------------------------------

/// One cell of an Arrow array as plain JSON (binary as base64, dates and times as text).
pub fn array_value_to_json(array: &dyn Array, i: usize) -> Json {
    if array.is_null(i) {
        return Json::Null;
    }
    macro_rules! prim {
        ($t:ty) => {
            Json::from(array.as_primitive::<$t>().value(i))
        };
    }
    match array.data_type() {
        DataType::Boolean => Json::Bool(array.as_boolean().value(i)),
        DataType::Int8 => prim!(Int8Type),
        DataType::Int16 => prim!(Int16Type),
        DataType::Int32 => prim!(Int32Type),
        DataType::Int64 => prim!(Int64Type),
        DataType::UInt8 => prim!(UInt8Type),
        DataType::UInt16 => prim!(UInt16Type),
        DataType::UInt32 => prim!(UInt32Type),
        DataType::UInt64 => prim!(UInt64Type),
        DataType::Float32 => prim!(Float32Type),
        DataType::Float64 => prim!(Float64Type),
        DataType::Utf8 => Json::from(array.as_string::<i32>().value(i)),
        DataType::LargeUtf8 => Json::from(array.as_string::<i64>().value(i)),
        DataType::Utf8View => Json::from(array.as_string_view().value(i)),
        DataType::Binary => Json::from(B64.encode(array.as_binary::<i32>().value(i))),
        DataType::LargeBinary => Json::from(B64.encode(array.as_binary::<i64>().value(i))),
        DataType::BinaryView => Json::from(B64.encode(array.as_binary_view().value(i))),
        DataType::FixedSizeBinary(16) => {
            Json::from(format_uuid(array.as_fixed_size_binary().value(i)))
        }
        DataType::FixedSizeBinary(_) => {
            Json::from(B64.encode(array.as_fixed_size_binary().value(i)))
        }
        DataType::Date32 => Json::from(format_date(i64::from(
            array.as_primitive::<Date32Type>().value(i),
        ))),
        DataType::Date64 => Json::from(format_date(
            array.as_primitive::<Date64Type>().value(i) / 86_400_000,
        )),
        DataType::Timestamp(unit, tz) => {
            let v = match unit {
                TimeUnit::Second => array.as_primitive::<TimestampSecondType>().value(i),
                TimeUnit::Millisecond => array.as_primitive::<TimestampMillisecondType>().value(i),
                TimeUnit::Microsecond => array.as_primitive::<TimestampMicrosecondType>().value(i),
                TimeUnit::Nanosecond => array.as_primitive::<TimestampNanosecondType>().value(i),
            };
            Json::from(format_timestamp(v, *unit, tz.is_some()))
        }
        DataType::Time32(unit) => {
            let v = match unit {
                TimeUnit::Second => array.as_primitive::<Time32SecondType>().value(i),
                _ => array.as_primitive::<Time32MillisecondType>().value(i),
            };
            Json::from(format_time(i64::from(v), *unit))
        }
        DataType::Time64(unit) => {
            let v = match unit {
                TimeUnit::Nanosecond => array.as_primitive::<Time64NanosecondType>().value(i),
                _ => array.as_primitive::<Time64MicrosecondType>().value(i),
            };
            Json::from(format_time(v, *unit))
        }
        DataType::List(_) => list_json(&array.as_list::<i32>().value(i)),
        DataType::LargeList(_) => list_json(&array.as_list::<i64>().value(i)),
        DataType::FixedSizeList(_, _) => list_json(&array.as_fixed_size_list().value(i)),
        DataType::Struct(fields) => {
            let s = array.as_struct();
            let mut m = Map::new();
            for (f, col) in fields.iter().zip(s.columns()) {
                m.insert(f.name().clone(), array_value_to_json(col.as_ref(), i));
            }
            Json::Object(m)
        }
        _ => Json::Null,
    }
}

/// The values of one list cell as a JSON array.
fn list_json(values: &ArrayRef) -> Json {
    Json::Array(
        (0..values.len())
            .map(|j| array_value_to_json(values, j))
            .collect(),
    )
}

/// A batch's rows as plain JSON objects (for printing and for JSON output).
pub fn batch_rows(batch: &RecordBatch) -> Vec<Map<String, Json>> {
    let schema = batch.schema();
    (0..batch.num_rows())
        .map(|i| {
            schema
                .fields()
                .iter()
                .zip(batch.columns())
                .map(|(f, col)| (f.name().clone(), array_value_to_json(col.as_ref(), i)))
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip() {
        let v = parse_timestamp("2024-03-04T05:06:07.123456Z", TimeUnit::Microsecond).unwrap();
        assert_eq!(
            format_timestamp(v, TimeUnit::Microsecond, true),
            "2024-03-04T05:06:07.123456Z"
        );
        assert_eq!(
            parse_timestamp("2024-03-04 05:06:07", TimeUnit::Second),
            parse_timestamp("2024-03-04T05:06:07+00:00", TimeUnit::Second)
        );
        assert_eq!(parse_date("1970-01-02"), Some(1));
        assert_eq!(format_date(19_000), "2022-01-08");
    }

    #[test]
    fn uuids_parse() {
        let u = "12345678-1234-5678-1234-567812345678";
        assert_eq!(format_uuid(&parse_uuid(u).unwrap()), u);
        assert!(parse_uuid("nope").is_none());
    }
}
