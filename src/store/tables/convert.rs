//! Values between Arrow, SQLite and JSON.
//!
//! Storage in SQLite, per Arrow type (the table's Arrow schema is kept beside it, so reads give
//! back the original types):
//!
//! | Arrow | SQLite |
//! |---|---|
//! | ints (u64 up to i64::MAX), bool | INTEGER (bool as 0/1) |
//! | floats | REAL |
//! | strings, JSON (`arrow.json`) | TEXT |
//! | binary, fixed-size binary, UUID (`arrow.uuid`) | BLOB |
//! | date | TEXT `YYYY-MM-DD` |
//! | timestamp | TEXT RFC 3339 (`…Z` when the type has a time zone, in UTC) |
//! | time | TEXT `HH:MM:SS[.fff…]` |
//! | list, fixed-size list, struct | TEXT holding JSON |
//!
//! Dates and timestamps are text so that `where` clauses compare them as people write them
//! (`created_at > '2024-01-01'`).

use std::sync::Arc;

use arrow_array::types::{
    Date32Type, Date64Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    Time32MillisecondType, Time32SecondType, Time64MicrosecondType, Time64NanosecondType,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{
    Array, ArrayRef, BinaryArray, BooleanArray, FixedSizeBinaryArray, FixedSizeListArray,
    LargeBinaryArray, LargeListArray, LargeStringArray, ListArray, NullArray, PrimitiveArray,
    StringArray, StringViewArray, StructArray, cast::AsArray,
};
use arrow_buffer::{NullBuffer, OffsetBuffer};
use arrow_schema::{DataType, Field, TimeUnit};
use base64::Engine;
use rusqlite::types::Value;
use serde_json::{Map, Value as Json};

use super::StoreError;
pub(crate) use crate::protocol::arrow::{
    B64, array_value_to_json, format_date, format_timestamp, parse_date, parse_time,
    parse_timestamp, parse_uuid,
};

/// How a column is stored; decides the declared SQLite type.
pub(crate) fn decltype(dt: &DataType) -> Result<&'static str, StoreError> {
    Ok(match dt {
        DataType::Boolean => "BOOLEAN",
        t if t.is_integer() => "INTEGER",
        DataType::Float32 | DataType::Float64 => "REAL",
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "TEXT",
        DataType::Binary
        | DataType::LargeBinary
        | DataType::BinaryView
        | DataType::FixedSizeBinary(_) => "BLOB",
        DataType::Date32 | DataType::Date64 => "DATE",
        DataType::Timestamp(_, _) => "TIMESTAMP",
        DataType::Time32(_) | DataType::Time64(_) => "TIME",
        DataType::List(_)
        | DataType::LargeList(_)
        | DataType::FixedSizeList(_, _)
        | DataType::Struct(_) => "JSON",
        DataType::Null => "",
        other => {
            return Err(StoreError::Invalid(format!(
                "roomdeck cannot store Arrow type {other} yet; use ints, floats, bool, strings, \
                 binary, dates, timestamps, times, lists or structs"
            )));
        }
    })
}

/// The Arrow type for a column that has no stored schema, from its declared SQLite type
/// (SQLite's own affinity rules); None = decide from the values.
pub(crate) fn type_from_decltype(decl: &str) -> Option<DataType> {
    let d = decl.to_ascii_uppercase();
    if d.contains("BOOL") {
        Some(DataType::Boolean)
    } else if d.contains("INT") {
        Some(DataType::Int64)
    } else if d.contains("CHAR")
        || d.contains("CLOB")
        || d.contains("TEXT")
        || d.contains("JSON")
        || d.contains("DATE")
        || d.contains("TIME")
        || d.contains("UUID")
    {
        Some(DataType::Utf8)
    } else if d.contains("BLOB") {
        Some(DataType::Binary)
    } else if d.contains("REAL") || d.contains("FLOA") || d.contains("DOUB") {
        Some(DataType::Float64)
    } else {
        None
    }
}

/// The Arrow type that fits every value of a column of unknown type.
pub(crate) fn infer_type(values: &[Value], complete: bool) -> DataType {
    let (mut int, mut real, mut text, mut blob) = (false, false, false, false);
    for v in values {
        match v {
            Value::Null => {}
            Value::Integer(_) => int = true,
            Value::Real(_) => real = true,
            Value::Text(_) => text = true,
            Value::Blob(_) => blob = true,
        }
    }
    match (int, real, text, blob) {
        (false, false, false, false) if complete => DataType::Null,
        (_, _, false, true) if !int && !real => DataType::Binary,
        (true, false, false, false) => DataType::Int64,
        (_, true, false, false) => DataType::Float64,
        _ => DataType::Utf8,
    }
}

// ---- SQLite -> Arrow -------------------------------------------------------------------

fn bad(field: &Field, v: &Value, what: &str) -> StoreError {
    let shown = match v {
        Value::Null => "NULL".to_string(),
        Value::Integer(i) => i.to_string(),
        Value::Real(r) => r.to_string(),
        Value::Text(t) => format!("'{}'", t.chars().take(40).collect::<String>()),
        Value::Blob(b) => format!("a blob of {} bytes", b.len()),
    };
    StoreError::Invalid(format!(
        "column `{}` holds {shown}, which is not {what}; CAST it in the query or fix the row",
        field.name()
    ))
}

fn to_i64(field: &Field, v: &Value) -> Result<Option<i64>, StoreError> {
    Ok(match v {
        Value::Null => None,
        Value::Integer(i) => Some(*i),
        Value::Real(r) if r.fract() == 0.0 && r.abs() < 9.2e18 => Some(*r as i64),
        Value::Text(t) => match t.trim().parse::<i64>() {
            Ok(i) => Some(i),
            Err(_) => return Err(bad(field, v, "an integer")),
        },
        _ => return Err(bad(field, v, "an integer")),
    })
}

fn to_f64(field: &Field, v: &Value) -> Result<Option<f64>, StoreError> {
    Ok(match v {
        Value::Null => None,
        Value::Integer(i) => Some(*i as f64),
        Value::Real(r) => Some(*r),
        Value::Text(t) => match t.trim().parse::<f64>() {
            Ok(f) => Some(f),
            Err(_) => return Err(bad(field, v, "a number")),
        },
        _ => return Err(bad(field, v, "a number")),
    })
}

fn to_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::Integer(i) => Some(i.to_string()),
        Value::Real(r) => Some(r.to_string()),
        Value::Text(t) => Some(t.clone()),
        Value::Blob(b) => Some(String::from_utf8_lossy(b).into_owned()),
    }
}

fn to_bytes(v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::Null => None,
        Value::Blob(b) => Some(b.clone()),
        other => to_text(other).map(String::into_bytes),
    }
}

fn ints<T>(field: &Field, values: &[Value]) -> Result<ArrayRef, StoreError>
where
    T: arrow_array::ArrowPrimitiveType,
    T::Native: TryFrom<i64>,
{
    let mut out = Vec::with_capacity(values.len());
    for v in values {
        out.push(match to_i64(field, v)? {
            None => None,
            Some(i) => Some(
                T::Native::try_from(i)
                    .map_err(|_| bad(field, v, &format!("in range for {}", field.data_type())))?,
            ),
        });
    }
    Ok(Arc::new(out.into_iter().collect::<PrimitiveArray<T>>()))
}

fn uint64s(field: &Field, values: &[Value]) -> Result<ArrayRef, StoreError> {
    let mut out = Vec::with_capacity(values.len());
    for v in values {
        out.push(match to_i64(field, v)? {
            None => None,
            Some(i) => Some(u64::try_from(i).map_err(|_| bad(field, v, "unsigned"))?),
        });
    }
    Ok(Arc::new(PrimitiveArray::<UInt64Type>::from(out)))
}

fn temporal<T: arrow_array::ArrowPrimitiveType<Native = i64>>(
    field: &Field,
    values: &[Value],
    parse: impl Fn(&str) -> Option<i64>,
) -> Result<PrimitiveArray<T>, StoreError> {
    let mut out = Vec::with_capacity(values.len());
    for v in values {
        out.push(match v {
            Value::Null => None,
            Value::Integer(i) => Some(*i),
            Value::Text(t) => Some(parse(t).ok_or_else(|| bad(field, v, "a date/time"))?),
            _ => return Err(bad(field, v, "a date/time")),
        });
    }
    Ok(out.into_iter().collect::<PrimitiveArray<T>>())
}

fn temporal32<T: arrow_array::ArrowPrimitiveType<Native = i32>>(
    field: &Field,
    values: &[Value],
    parse: impl Fn(&str) -> Option<i64>,
) -> Result<ArrayRef, StoreError> {
    let mut out = Vec::with_capacity(values.len());
    for v in values {
        let x = match v {
            Value::Null => None,
            Value::Integer(i) => Some(*i),
            Value::Text(t) => Some(parse(t).ok_or_else(|| bad(field, v, "a date/time"))?),
            _ => return Err(bad(field, v, "a date/time")),
        };
        out.push(match x {
            None => None,
            Some(x) => Some(i32::try_from(x).map_err(|_| bad(field, v, "a date/time"))?),
        });
    }
    Ok(Arc::new(out.into_iter().collect::<PrimitiveArray<T>>()))
}

/// One column of SQLite values as an Arrow array of the field's type.
pub(crate) fn sqlite_to_array(field: &Field, values: &[Value]) -> Result<ArrayRef, StoreError> {
    let dt = field.data_type();
    Ok(match dt {
        DataType::Null => Arc::new(NullArray::new(values.len())),
        DataType::Boolean => {
            let mut out = Vec::with_capacity(values.len());
            for v in values {
                out.push(match v {
                    Value::Null => None,
                    Value::Integer(i) => Some(*i != 0),
                    Value::Real(r) => Some(*r != 0.0),
                    Value::Text(t) => match t.trim().to_ascii_lowercase().as_str() {
                        "true" | "1" | "t" | "yes" => Some(true),
                        "false" | "0" | "f" | "no" => Some(false),
                        _ => return Err(bad(field, v, "true or false")),
                    },
                    _ => return Err(bad(field, v, "true or false")),
                });
            }
            Arc::new(BooleanArray::from(out))
        }
        DataType::Int8 => ints::<Int8Type>(field, values)?,
        DataType::Int16 => ints::<Int16Type>(field, values)?,
        DataType::Int32 => ints::<Int32Type>(field, values)?,
        DataType::Int64 => ints::<Int64Type>(field, values)?,
        DataType::UInt8 => ints::<UInt8Type>(field, values)?,
        DataType::UInt16 => ints::<UInt16Type>(field, values)?,
        DataType::UInt32 => ints::<UInt32Type>(field, values)?,
        DataType::UInt64 => uint64s(field, values)?,
        DataType::Float32 => {
            let mut out = Vec::with_capacity(values.len());
            for v in values {
                out.push(to_f64(field, v)?.map(|f| f as f32));
            }
            Arc::new(PrimitiveArray::<Float32Type>::from(out))
        }
        DataType::Float64 => {
            let mut out = Vec::with_capacity(values.len());
            for v in values {
                out.push(to_f64(field, v)?);
            }
            Arc::new(PrimitiveArray::<Float64Type>::from(out))
        }
        DataType::Utf8 => Arc::new(StringArray::from(
            values.iter().map(to_text).collect::<Vec<_>>(),
        )),
        DataType::LargeUtf8 => Arc::new(LargeStringArray::from(
            values.iter().map(to_text).collect::<Vec<_>>(),
        )),
        DataType::Utf8View => Arc::new(StringViewArray::from(
            values.iter().map(to_text).collect::<Vec<_>>(),
        )),
        DataType::Binary | DataType::BinaryView => {
            let bytes: Vec<Option<Vec<u8>>> = values.iter().map(to_bytes).collect();
            let array = BinaryArray::from_iter(bytes.iter().map(|b| b.as_deref()));
            if matches!(dt, DataType::BinaryView) {
                Arc::new(arrow_array::BinaryViewArray::from_iter(
                    bytes.iter().map(|b| b.as_deref()),
                ))
            } else {
                Arc::new(array)
            }
        }
        DataType::LargeBinary => {
            let bytes: Vec<Option<Vec<u8>>> = values.iter().map(to_bytes).collect();
            Arc::new(LargeBinaryArray::from_iter(
                bytes.iter().map(|b| b.as_deref()),
            ))
        }
        DataType::FixedSizeBinary(n) => {
            let mut bytes = Vec::with_capacity(values.len());
            for v in values {
                bytes.push(match v {
                    Value::Null => None,
                    Value::Blob(b) if b.len() == *n as usize => Some(b.clone()),
                    Value::Text(t) if *n == 16 => Some(
                        parse_uuid(t)
                            .ok_or_else(|| bad(field, v, "a UUID"))?
                            .to_vec(),
                    ),
                    _ => return Err(bad(field, v, &format!("{n} bytes"))),
                });
            }
            Arc::new(
                FixedSizeBinaryArray::try_from_sparse_iter_with_size(bytes.into_iter(), *n)
                    .map_err(arrow_err)?,
            )
        }
        DataType::Date32 => {
            temporal32::<Date32Type>(field, values, |s| parse_date(s).map(i64::from))?
        }
        DataType::Date64 => Arc::new(temporal::<Date64Type>(field, values, |s| {
            parse_date(s).map(|d| i64::from(d) * 86_400_000)
        })?),
        DataType::Timestamp(unit, tz) => {
            let unit = *unit;
            let parse = move |s: &str| parse_timestamp(s, unit);
            let tz = tz.clone();
            match unit {
                TimeUnit::Second => Arc::new(
                    temporal::<TimestampSecondType>(field, values, parse)?.with_timezone_opt(tz),
                ),
                TimeUnit::Millisecond => Arc::new(
                    temporal::<TimestampMillisecondType>(field, values, parse)?
                        .with_timezone_opt(tz),
                ),
                TimeUnit::Microsecond => Arc::new(
                    temporal::<TimestampMicrosecondType>(field, values, parse)?
                        .with_timezone_opt(tz),
                ),
                TimeUnit::Nanosecond => Arc::new(
                    temporal::<TimestampNanosecondType>(field, values, parse)?
                        .with_timezone_opt(tz),
                ),
            }
        }
        DataType::Time32(unit) => {
            let unit = *unit;
            match unit {
                TimeUnit::Second => {
                    temporal32::<Time32SecondType>(field, values, |s| parse_time(s, unit))?
                }
                _ => temporal32::<Time32MillisecondType>(field, values, |s| parse_time(s, unit))?,
            }
        }
        DataType::Time64(unit) => {
            let unit = *unit;
            match unit {
                TimeUnit::Nanosecond => {
                    Arc::new(temporal::<Time64NanosecondType>(field, values, |s| {
                        parse_time(s, unit)
                    })?)
                }
                _ => Arc::new(temporal::<Time64MicrosecondType>(field, values, |s| {
                    parse_time(s, unit)
                })?),
            }
        }
        DataType::List(_)
        | DataType::LargeList(_)
        | DataType::FixedSizeList(_, _)
        | DataType::Struct(_) => {
            let mut json = Vec::with_capacity(values.len());
            for v in values {
                json.push(match v {
                    Value::Null => Json::Null,
                    Value::Text(t) => serde_json::from_str(t)
                        .map_err(|_| bad(field, v, "JSON for a list or struct"))?,
                    _ => return Err(bad(field, v, "JSON for a list or struct")),
                });
            }
            json_to_array(field, &json)?
        }
        other => {
            return Err(StoreError::Invalid(format!(
                "column `{}` has Arrow type {other}, which roomdeck cannot read yet",
                field.name()
            )));
        }
    })
}

pub(crate) fn arrow_err(e: arrow_schema::ArrowError) -> StoreError {
    StoreError::Invalid(format!("Arrow data is not valid: {e}"))
}

// ---- JSON -> Arrow ---------------------------------------------------------------------

/// Removes the SDK's single-key type wrappers (`{"date": …}`, `{"list": […]}`, …) so the
/// value is plain JSON; `{"json": x}` stays as the JSON text of x.
pub(crate) fn unwrap_value(v: Json) -> Json {
    match v {
        Json::Object(m) if m.len() == 1 => {
            let (k, inner) = m.into_iter().next().unwrap_or_default();
            match k.as_str() {
                "binary" | "uuid" | "date" | "timestamp" => inner,
                "list" => match inner {
                    Json::Array(items) => {
                        Json::Array(items.into_iter().map(unwrap_value).collect())
                    }
                    other => other,
                },
                "struct" => match inner {
                    Json::Object(fields) => Json::Object(
                        fields
                            .into_iter()
                            .map(|(k, v)| (k, unwrap_value(v)))
                            .collect(),
                    ),
                    other => other,
                },
                "json" => Json::String(inner.to_string()),
                _ => {
                    let mut m = Map::new();
                    m.insert(k, inner);
                    Json::Object(m)
                }
            }
        }
        Json::Array(items) => Json::Array(items.into_iter().map(unwrap_value).collect()),
        other => other,
    }
}

/// The Arrow type that JSON rows suggest for a column (for tables created from JSON rows).
/// Looks at the SDK wrappers before they are removed.
pub(crate) fn infer_json_type(values: &[&Json]) -> DataType {
    let mut seen: Option<DataType> = None;
    for v in values {
        let t = match v {
            Json::Null => continue,
            Json::Bool(_) => DataType::Boolean,
            Json::Number(n) if n.is_i64() || n.is_u64() => DataType::Int64,
            Json::Number(_) => DataType::Float64,
            Json::String(_) => DataType::Utf8,
            Json::Object(m) if m.len() == 1 => {
                let (k, inner) = m
                    .iter()
                    .next()
                    .map(|(k, v)| (k.as_str(), v))
                    .unwrap_or(("", v));
                match k {
                    "binary" => DataType::Binary,
                    "uuid" => DataType::Utf8,
                    "date" => DataType::Date32,
                    "timestamp" => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                    "json" => DataType::Utf8,
                    "list" => {
                        let items: Vec<&Json> = inner.as_array().into_iter().flatten().collect();
                        DataType::List(Arc::new(Field::new("item", infer_json_type(&items), true)))
                    }
                    "struct" => {
                        let fields: Vec<Field> = inner
                            .as_object()
                            .into_iter()
                            .flatten()
                            .map(|(k, v)| Field::new(k, infer_json_type(&[v]), true))
                            .collect();
                        DataType::Struct(fields.into())
                    }
                    _ => DataType::Utf8,
                }
            }
            _ => DataType::Utf8,
        };
        seen = Some(match seen {
            None => t,
            Some(DataType::Int64) if t == DataType::Float64 => t,
            Some(DataType::Float64) if t == DataType::Int64 => DataType::Float64,
            Some(prev) if prev == t => prev,
            Some(_) => DataType::Utf8,
        });
    }
    match seen {
        Some(DataType::Null) | None => DataType::Utf8,
        Some(t) => t,
    }
}

fn json_bad(field: &Field, v: &Json, what: &str) -> StoreError {
    let mut shown = v.to_string();
    shown.truncate(60);
    StoreError::Invalid(format!(
        "value {shown} for column `{}` is not {what}",
        field.name()
    ))
}

/// A plain JSON value as the SQLite value stored for a column of `field`'s type.
pub(crate) fn json_to_sqlite(field: &Field, v: &Json) -> Result<Value, StoreError> {
    let dt = field.data_type();
    if v.is_null() {
        return Ok(Value::Null);
    }
    Ok(match dt {
        DataType::Boolean => match v {
            Json::Bool(b) => Value::Integer(i64::from(*b)),
            Json::Number(n) => Value::Integer(i64::from(n.as_f64() != Some(0.0))),
            _ => return Err(json_bad(field, v, "true or false")),
        },
        t if t.is_integer() => match v {
            Json::Number(n) => match n.as_i64() {
                Some(i) => Value::Integer(i),
                None => match n.as_f64() {
                    Some(f) if f.fract() == 0.0 && f.abs() < 9.2e18 => Value::Integer(f as i64),
                    _ => return Err(json_bad(field, v, "an integer")),
                },
            },
            Json::String(s) => {
                Value::Integer(s.parse().map_err(|_| json_bad(field, v, "an integer"))?)
            }
            _ => return Err(json_bad(field, v, "an integer")),
        },
        DataType::Float32 | DataType::Float64 => match v {
            Json::Number(n) => Value::Real(n.as_f64().unwrap_or(f64::NAN)),
            Json::String(s) => Value::Real(s.parse().map_err(|_| json_bad(field, v, "a number"))?),
            _ => return Err(json_bad(field, v, "a number")),
        },
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => match v {
            Json::String(s) => Value::Text(s.clone()),
            other => Value::Text(other.to_string()),
        },
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => match v {
            Json::String(s) => Value::Blob(
                B64.decode(s)
                    .map_err(|_| json_bad(field, v, "base64 bytes"))?,
            ),
            _ => return Err(json_bad(field, v, "base64 bytes")),
        },
        DataType::FixedSizeBinary(n) => match v {
            Json::String(s) => {
                let bytes = match parse_uuid(s) {
                    Some(u) if *n == 16 && s.len() >= 32 => u.to_vec(),
                    _ => B64
                        .decode(s)
                        .map_err(|_| json_bad(field, v, "a UUID or base64 bytes"))?,
                };
                if bytes.len() != *n as usize {
                    return Err(json_bad(field, v, &format!("{n} bytes")));
                }
                Value::Blob(bytes)
            }
            _ => return Err(json_bad(field, v, "a UUID or base64 bytes")),
        },
        DataType::Date32 | DataType::Date64 => match v {
            Json::String(s) => Value::Text(format_date(i64::from(
                parse_date(s).ok_or_else(|| json_bad(field, v, "a date (YYYY-MM-DD)"))?,
            ))),
            _ => return Err(json_bad(field, v, "a date (YYYY-MM-DD)")),
        },
        DataType::Timestamp(unit, tz) => match v {
            Json::String(s) => Value::Text(format_timestamp(
                parse_timestamp(s, *unit)
                    .ok_or_else(|| json_bad(field, v, "a timestamp (RFC 3339)"))?,
                *unit,
                tz.is_some(),
            )),
            Json::Number(n) => Value::Text(format_timestamp(
                n.as_i64()
                    .ok_or_else(|| json_bad(field, v, "a timestamp"))?,
                *unit,
                tz.is_some(),
            )),
            _ => return Err(json_bad(field, v, "a timestamp (RFC 3339)")),
        },
        DataType::Time32(_) | DataType::Time64(_) => match v {
            Json::String(s) => Value::Text(s.clone()),
            _ => return Err(json_bad(field, v, "a time (HH:MM:SS)")),
        },
        DataType::List(_)
        | DataType::LargeList(_)
        | DataType::FixedSizeList(_, _)
        | DataType::Struct(_) => {
            // Check the shape now, so a bad row is refused rather than stored.
            json_to_array(field, std::slice::from_ref(v))?;
            Value::Text(v.to_string())
        }
        DataType::Null => Value::Null,
        other => {
            return Err(StoreError::Invalid(format!(
                "column `{}` has Arrow type {other}, which roomdeck cannot store yet",
                field.name()
            )));
        }
    })
}

/// Plain JSON values (nulls allowed) as an Arrow array of `field`'s type.
pub(crate) fn json_to_array(field: &Field, values: &[Json]) -> Result<ArrayRef, StoreError> {
    let dt = field.data_type();
    match dt {
        DataType::List(child) | DataType::LargeList(child) => {
            let mut flat = Vec::new();
            let mut offsets = vec![0usize];
            let mut valid = Vec::with_capacity(values.len());
            for v in values {
                match v {
                    Json::Null => valid.push(false),
                    Json::Array(items) => {
                        valid.push(true);
                        flat.extend(items.iter().cloned());
                    }
                    _ => return Err(json_bad(field, v, "a list")),
                }
                offsets.push(flat.len());
            }
            let child_array = json_to_array(child, &flat)?;
            let nulls = Some(NullBuffer::from(valid));
            if matches!(dt, DataType::List(_)) {
                let offs: Vec<i32> = offsets.iter().map(|o| *o as i32).collect();
                Ok(Arc::new(
                    ListArray::try_new(
                        child.clone(),
                        OffsetBuffer::new(offs.into()),
                        child_array,
                        nulls,
                    )
                    .map_err(arrow_err)?,
                ))
            } else {
                let offs: Vec<i64> = offsets.iter().map(|o| *o as i64).collect();
                Ok(Arc::new(
                    LargeListArray::try_new(
                        child.clone(),
                        OffsetBuffer::new(offs.into()),
                        child_array,
                        nulls,
                    )
                    .map_err(arrow_err)?,
                ))
            }
        }
        DataType::FixedSizeList(child, n) => {
            let size = *n as usize;
            let mut flat = Vec::with_capacity(values.len() * size);
            let mut valid = Vec::with_capacity(values.len());
            for v in values {
                match v {
                    Json::Null => {
                        valid.push(false);
                        flat.extend(std::iter::repeat_n(Json::Null, size));
                    }
                    Json::Array(items) if items.len() == size => {
                        valid.push(true);
                        flat.extend(items.iter().cloned());
                    }
                    _ => return Err(json_bad(field, v, &format!("a list of {size} items"))),
                }
            }
            let child_array = json_to_array(child, &flat)?;
            Ok(Arc::new(
                FixedSizeListArray::try_new(
                    child.clone(),
                    *n,
                    child_array,
                    Some(NullBuffer::from(valid)),
                )
                .map_err(arrow_err)?,
            ))
        }
        DataType::Struct(fields) => {
            let mut valid = Vec::with_capacity(values.len());
            for v in values {
                match v {
                    Json::Null => valid.push(false),
                    Json::Object(_) => valid.push(true),
                    _ => return Err(json_bad(field, v, "an object")),
                }
            }
            let mut children = Vec::with_capacity(fields.len());
            for f in fields.iter() {
                let col: Vec<Json> = values
                    .iter()
                    .map(|v| v.get(f.name()).cloned().unwrap_or(Json::Null))
                    .collect();
                children.push(json_to_array(f, &col)?);
            }
            if fields.is_empty() {
                return Ok(Arc::new(StructArray::new_empty_fields(
                    values.len(),
                    Some(NullBuffer::from(valid)),
                )));
            }
            Ok(Arc::new(
                StructArray::try_new(fields.clone(), children, Some(NullBuffer::from(valid)))
                    .map_err(arrow_err)?,
            ))
        }
        _ => {
            let mut sql = Vec::with_capacity(values.len());
            for v in values {
                sql.push(json_to_sqlite(field, v)?);
            }
            sqlite_to_array(field, &sql)
        }
    }
}

// ---- Arrow -> SQLite / JSON ------------------------------------------------------------

/// One cell of an Arrow array as the SQLite value stored for it.
pub(crate) fn array_value_to_sqlite(array: &dyn Array, i: usize) -> Result<Value, StoreError> {
    if array.is_null(i) {
        return Ok(Value::Null);
    }
    macro_rules! int {
        ($t:ty) => {
            Value::Integer(i64::from(array.as_primitive::<$t>().value(i)))
        };
    }
    Ok(match array.data_type() {
        DataType::Null => Value::Null,
        DataType::Boolean => Value::Integer(i64::from(array.as_boolean().value(i))),
        DataType::Int8 => int!(Int8Type),
        DataType::Int16 => int!(Int16Type),
        DataType::Int32 => int!(Int32Type),
        DataType::Int64 => int!(Int64Type),
        DataType::UInt8 => int!(UInt8Type),
        DataType::UInt16 => int!(UInt16Type),
        DataType::UInt32 => int!(UInt32Type),
        DataType::UInt64 => {
            let v = array.as_primitive::<UInt64Type>().value(i);
            Value::Integer(i64::try_from(v).map_err(|_| {
                StoreError::Invalid(format!(
                    "{v} is too large for SQLite's 64-bit signed integers"
                ))
            })?)
        }
        DataType::Float32 => Value::Real(f64::from(array.as_primitive::<Float32Type>().value(i))),
        DataType::Float64 => Value::Real(array.as_primitive::<Float64Type>().value(i)),
        DataType::Utf8 => Value::Text(array.as_string::<i32>().value(i).to_string()),
        DataType::LargeUtf8 => Value::Text(array.as_string::<i64>().value(i).to_string()),
        DataType::Utf8View => Value::Text(array.as_string_view().value(i).to_string()),
        DataType::Binary => Value::Blob(array.as_binary::<i32>().value(i).to_vec()),
        DataType::LargeBinary => Value::Blob(array.as_binary::<i64>().value(i).to_vec()),
        DataType::BinaryView => Value::Blob(array.as_binary_view().value(i).to_vec()),
        DataType::FixedSizeBinary(_) => Value::Blob(array.as_fixed_size_binary().value(i).to_vec()),
        DataType::Date32
        | DataType::Date64
        | DataType::Timestamp(_, _)
        | DataType::Time32(_)
        | DataType::Time64(_) => match array_value_to_json(array, i) {
            Json::String(s) => Value::Text(s),
            _ => Value::Null,
        },
        DataType::List(_)
        | DataType::LargeList(_)
        | DataType::FixedSizeList(_, _)
        | DataType::Struct(_) => Value::Text(array_value_to_json(array, i).to_string()),
        other => {
            return Err(StoreError::Invalid(format!(
                "roomdeck cannot store Arrow type {other} yet"
            )));
        }
    })
}

/// Converts a stored value for a column whose stored type differs from the incoming one
/// (e.g. a string into a timestamp column): normalises text dates, times and UUIDs.
pub(crate) fn coerce_for(field: &Field, v: Value) -> Result<Value, StoreError> {
    match (field.data_type(), v) {
        (DataType::Date32 | DataType::Date64, Value::Text(t)) => {
            let days =
                parse_date(&t).ok_or_else(|| bad(field, &Value::Text(t.clone()), "a date"))?;
            Ok(Value::Text(format_date(i64::from(days))))
        }
        (DataType::Timestamp(unit, tz), Value::Text(t)) => {
            let ts = parse_timestamp(&t, *unit)
                .ok_or_else(|| bad(field, &Value::Text(t.clone()), "a timestamp"))?;
            Ok(Value::Text(format_timestamp(ts, *unit, tz.is_some())))
        }
        (DataType::FixedSizeBinary(16), Value::Text(t)) => match parse_uuid(&t) {
            Some(u) => Ok(Value::Blob(u.to_vec())),
            None => Err(bad(field, &Value::Text(t), "a UUID")),
        },
        (_, v) => Ok(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wrappers_unwrap() {
        let v = unwrap_value(
            json!({"list": [{"date": "2024-01-01"}, {"struct": {"a": {"uuid": "x"}}}]}),
        );
        assert_eq!(v, json!(["2024-01-01", {"a": "x"}]));
        assert_eq!(unwrap_value(json!({"json": {"a": 1}})), json!("{\"a\":1}"));
    }

    #[test]
    fn nested_json_round_trips_through_arrow() {
        let field = Field::new(
            "s",
            DataType::Struct(
                vec![
                    Field::new(
                        "tags",
                        DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
                        true,
                    ),
                    Field::new("n", DataType::Int32, true),
                ]
                .into(),
            ),
            true,
        );
        let rows = vec![
            json!({"tags": ["a", "b"], "n": 3}),
            Json::Null,
            json!({"tags": null, "n": null}),
        ];
        let array = json_to_array(&field, &rows).unwrap();
        assert_eq!(array.len(), 3);
        assert_eq!(array_value_to_json(array.as_ref(), 0), rows[0]);
        assert!(array.is_null(1));
        assert_eq!(array_value_to_json(array.as_ref(), 2), rows[2]);
    }
}
