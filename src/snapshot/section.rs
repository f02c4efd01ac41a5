//! The envelope every collector's part of the snapshot is wrapped in.
//!
//! A part is collected, skipped or failed, and always keeps the reason: "not checked" beats a
//! false "fine". On the wire the envelope's fields (`status`, `message`, `notes`, `elapsed_ms`) sit
//! beside the collector's own fields in one object, so rule authors write `tcp.counters...` and not
//! `tcp.data.counters...`.

use schemars::JsonSchema;
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::time::Duration;

/// Whether a collector produced its part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The part was read; its fields are present (individual counters may still be absent where
    /// the kernel or server does not have them).
    Ok,
    /// The part was deliberately not read (switched off, or the source does not exist here).
    Skipped,
    /// Reading the part failed; `message` says why.
    Error,
}

impl Status {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Skipped => "skipped",
            Status::Error => "error",
        }
    }
}

/// One collector's part of the snapshot together with how collecting it went.
#[derive(Debug, Clone, PartialEq)]
pub struct Section<T> {
    pub status: Status,
    /// Why the part is skipped or failed; absent when it is `ok`.
    pub message: Option<String>,
    /// Things a reader must know to interpret the part (a missing privilege, a counter this
    /// kernel does not have, ...). A part can be `ok` and still carry notes.
    pub notes: Vec<String>,
    /// Time spent collecting, sleeping excluded.
    pub elapsed_ms: f64,
    /// Where the part's figures come from when it was built by `doctor import` from pasted
    /// text: which input, which lines, recognised as which command's output. Empty for a part
    /// read from the machine (and then absent from the JSON).
    pub imported: Vec<Provenance>,
    /// The collector's fields; present exactly when `status` is `ok`.
    pub data: Option<T>,
}

/// One pasted output a section's figures were read from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Provenance {
    /// The input as named on the command line (`-` is `<stdin>`).
    pub input: String,
    /// The output's first and last line in that input, 1-based.
    pub first_line: usize,
    pub last_line: usize,
    /// The command whose output it was recognised as (`netstat -s`, `SHOW GLOBAL STATUS`, `ss -lnt`).
    pub output: String,
}

impl<T> Section<T> {
    #[must_use]
    pub fn ok(data: T, elapsed: Duration) -> Self {
        Section {
            status: Status::Ok,
            message: None,
            notes: Vec::new(),
            elapsed_ms: round_ms(elapsed),
            imported: Vec::new(),
            data: Some(data),
        }
    }

    #[must_use]
    pub fn skipped(message: impl Into<String>) -> Self {
        Section {
            status: Status::Skipped,
            message: Some(message.into()),
            notes: Vec::new(),
            elapsed_ms: 0.0,
            imported: Vec::new(),
            data: None,
        }
    }

    #[must_use]
    pub fn error(message: impl Into<String>, elapsed: Duration) -> Self {
        Section {
            status: Status::Error,
            message: Some(message.into()),
            notes: Vec::new(),
            elapsed_ms: round_ms(elapsed),
            imported: Vec::new(),
            data: None,
        }
    }

    #[must_use]
    pub fn with_notes(mut self, notes: Vec<String>) -> Self {
        self.notes = notes;
        self
    }

    /// The collected fields, if the part was collected.
    #[must_use]
    pub fn get(&self) -> Option<&T> {
        self.data.as_ref()
    }
}

/// Sections added in later versions of doctor default to "skipped" when an older snapshot is
/// read, so an old file still loads and the rules that need the part say "not checked".
impl<T> Default for Section<T> {
    fn default() -> Self {
        Section::skipped(
            "not collected: the snapshot was written by a doctor without this collector",
        )
    }
}

/// Milliseconds with microsecond precision: enough for cost accounting, short in JSON.
#[must_use]
pub fn round_ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

#[derive(Serialize)]
struct Wire<'a, T> {
    status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: &'a Option<String>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    notes: &'a [String],
    elapsed_ms: f64,
    #[serde(skip_serializing_if = "<[Provenance]>::is_empty")]
    imported: &'a [Provenance],
    #[serde(flatten)]
    data: &'a Option<T>,
}

impl<T: Serialize> Serialize for Section<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Wire {
            status: self.status,
            message: &self.message,
            notes: &self.notes,
            elapsed_ms: self.elapsed_ms,
            imported: &self.imported,
            data: &self.data,
        }
        .serialize(serializer)
    }
}

/// Hand-written because `#[serde(flatten)]` on an `Option` swallows the inner error, and a
/// malformed fixture must say what is wrong rather than load as "not collected".
///
/// The envelope's fields sit beside the collector's, so in general the object is first read
/// whole (as a `serde_json::Map`) and then taken apart. A section as doctor writes it starts
/// `status`, then `message`/`notes`/`elapsed_ms`: that order tells the status before the data
/// comes, and the data is read straight into `T` (a MySQL section is ~1400 values; reading them
/// twice was most of `doctor analyze`'s time on one). That order never occurs in a map read
/// back from a `serde_json::Value` (its keys are sorted, and those keys sort before `status`),
/// so the two-step reading of `snapshot::load`, whose errors are the ones users see, always
/// takes the general path; the one-pass reading gives up on any problem and leaves it to them.
///
/// Measured against the simpler general path alone (issue 8, `benches/analyze.sh`): it saves
/// ~12 M of the ~60 M instructions `doctor analyze` takes on a fixture, which keeps the worst
/// fixture within the 10 ms budget since the headline figures became data.
impl<'de, T: DeserializeOwned> Deserialize<'de> for Section<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(SectionVisitor(std::marker::PhantomData))
    }
}

struct SectionVisitor<T>(std::marker::PhantomData<T>);

impl<'de, T: DeserializeOwned> serde::de::Visitor<'de> for SectionVisitor<T> {
    type Value = Section<T>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // What `serde_json::Map` expects, so a wrong type reads as it always did.
        f.write_str("a map")
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Section<T>, E> {
        from_map(serde_json::Map::new())
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut access: A,
    ) -> Result<Section<T>, A::Error> {
        use serde_json::Value;
        let mut map = serde_json::Map::new();
        if let Some(first) = access.next_key::<String>()? {
            let value: Value = access.next_value()?;
            if first == "status" {
                if let Some(second) = access.next_key::<String>()? {
                    if ENVELOPE.contains(&second.as_str()) {
                        return in_one_pass(value, second, access);
                    }
                    map.insert(first, value);
                    let value: Value = access.next_value()?;
                    map.insert(second, value);
                } else {
                    map.insert(first, value);
                }
            } else {
                map.insert(first, value);
            }
        }
        // As `serde_json::Map` reads a map: a key given twice keeps its last value.
        while let Some((key, value)) = access.next_entry::<String, Value>()? {
            map.insert(key, value);
        }
        from_map(map)
    }
}

/// The envelope's keys other than `status`.
const ENVELOPE: [&str; 4] = ["message", "notes", "elapsed_ms", "imported"];

/// The object read whole, taken apart.
fn from_map<T: DeserializeOwned, E: serde::de::Error>(
    mut map: serde_json::Map<String, serde_json::Value>,
) -> Result<Section<T>, E> {
    let status: Status = match map.remove("status") {
        Some(v) => serde_json::from_value(v).map_err(|e| E::custom(format!("status: {e}")))?,
        None => return Err(E::missing_field("status")),
    };
    let (message, notes, elapsed_ms, imported) = envelope(
        map.remove("message"),
        map.remove("notes"),
        map.remove("elapsed_ms"),
        map.remove("imported"),
    )?;
    let data = if status == Status::Ok {
        let value = serde_json::Value::Object(map);
        Some(serde_path_to_error::deserialize(value).map_err(|e| {
            let path = e.path().to_string();
            if path == "." {
                E::custom(e.into_inner())
            } else {
                E::custom(format!("{path}: {}", e.into_inner()))
            }
        })?)
    } else {
        None
    };
    Ok(Section {
        status,
        message,
        notes,
        elapsed_ms,
        imported,
        data,
    })
}

type Envelope = (Option<String>, Vec<String>, f64, Vec<Provenance>);

fn envelope<E: serde::de::Error>(
    message: Option<serde_json::Value>,
    notes: Option<serde_json::Value>,
    elapsed_ms: Option<serde_json::Value>,
    imported: Option<serde_json::Value>,
) -> Result<Envelope, E> {
    let message = match message {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(s),
        Some(other) => {
            return Err(E::custom(format!(
                "message: expected a string, found {other}"
            )));
        }
    };
    let notes = match notes {
        None => Vec::new(),
        Some(v) => serde_json::from_value(v).map_err(|e| E::custom(format!("notes: {e}")))?,
    };
    let elapsed_ms = match elapsed_ms {
        None => 0.0,
        Some(v) => serde_json::from_value(v).map_err(|e| E::custom(format!("elapsed_ms: {e}")))?,
    };
    let imported = match imported {
        None => Vec::new(),
        Some(v) => serde_json::from_value(v).map_err(|e| E::custom(format!("imported: {e}")))?,
    };
    Ok((message, notes, elapsed_ms, imported))
}

/// The rest of a section that began with `status` and then `key`, one of [`ENVELOPE`]: the
/// envelope's keys are picked out wherever they come, the others go straight to `T`. A key of
/// the envelope given twice is refused (the general path keeps the last).
fn in_one_pass<'de, T: DeserializeOwned, A: serde::de::MapAccess<'de>>(
    status: serde_json::Value,
    key: String,
    mut access: A,
) -> Result<Section<T>, A::Error> {
    let status: Status =
        serde_json::from_value(status).map_err(|e| A::Error::custom(format!("status: {e}")))?;
    let mut rest = Rest {
        access: &mut access,
        envelope: [None, None, None, None],
        pending: Some(key),
    };
    let data = if status == Status::Ok {
        Some(T::deserialize(&mut rest)?)
    } else {
        // The data of a section that was not collected is not read (as in the general path).
        serde::de::IgnoredAny::deserialize(&mut rest)?;
        None
    };
    let [message, notes, elapsed_ms, imported] = rest.envelope;
    let (message, notes, elapsed_ms, imported) = envelope(message, notes, elapsed_ms, imported)?;
    Ok(Section {
        status,
        message,
        notes,
        elapsed_ms,
        imported,
        data,
    })
}

/// The entries of a section after `status`, without the envelope's: a map for `T` to read.
struct Rest<'a, A> {
    access: &'a mut A,
    /// `message`, `notes`, `elapsed_ms`, `imported`, as met.
    envelope: [Option<serde_json::Value>; 4],
    /// A key read but not yet handled.
    pending: Option<String>,
}

impl<'de, A: serde::de::MapAccess<'de>> serde::de::MapAccess<'de> for &mut Rest<'_, A> {
    type Error = A::Error;

    fn next_key_seed<K: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        loop {
            let key = match self.pending.take() {
                Some(k) => k,
                None => match self.access.next_key::<String>()? {
                    Some(k) => k,
                    None => return Ok(None),
                },
            };
            let slot = match key.as_str() {
                "status" => return Err(A::Error::custom("`status` given twice")),
                "message" => 0,
                "notes" => 1,
                "elapsed_ms" => 2,
                "imported" => 3,
                _ => {
                    let key = serde::de::IntoDeserializer::<A::Error>::into_deserializer(key);
                    return seed.deserialize(key).map(Some);
                }
            };
            if self.envelope[slot].is_some() {
                return Err(A::Error::custom(format!("`{key}` given twice")));
            }
            self.envelope[slot] = Some(self.access.next_value()?);
        }
    }

    fn next_value_seed<V: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, A::Error> {
        self.access.next_value_seed(seed)
    }
}

impl<'de, A: serde::de::MapAccess<'de>> Deserializer<'de> for &mut Rest<'_, A> {
    type Error = A::Error;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, A::Error> {
        visitor.visit_map(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier
        ignored_any
    }
}

/// The schema of the wire form: the envelope's properties plus `T`'s, `T`'s being required only
/// when `status` is `ok` (which JSON Schema cannot say simply, so they are documented as such).
impl<T: JsonSchema> JsonSchema for Section<T> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        format!("Section_{}", T::schema_name()).into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        #[derive(JsonSchema)]
        #[allow(dead_code)]
        struct Envelope {
            status: Status,
            /// Why the part is skipped or failed.
            message: Option<String>,
            /// Caveats for reading the part.
            notes: Option<Vec<String>>,
            /// Time spent collecting, sleeping excluded.
            elapsed_ms: f64,
            /// Where the figures come from, for a part `doctor import` built from pasted text.
            imported: Option<Vec<Provenance>>,
        }
        #[derive(JsonSchema)]
        #[allow(dead_code)]
        struct Wire<T> {
            #[serde(flatten)]
            envelope: Envelope,
            #[serde(flatten)]
            data: Option<T>,
        }
        let mut schema = Wire::<T>::json_schema(generator);
        schema.insert(
            "description".into(),
            "A collector's part: `status`, `message`, `notes`, `elapsed_ms` and `imported` beside the collector's own \
             fields, which are present when `status` is `ok`."
                .into(),
        );
        schema
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
    struct Data {
        answer: u32,
    }

    /// A section in doctor's order (`status`, then the envelope) is read in one pass; it gives
    /// what the general path gives for the same object.
    #[test]
    fn sections_in_doctor_order_read_as_in_general() {
        let texts = [
            r#"{"status":"ok","elapsed_ms":1.5,"answer":42}"#,
            r#"{"status":"ok","notes":["n"],"answer":42,"elapsed_ms":2.0,"extra":[1]}"#,
            r#"{"status":"skipped","message":"off","elapsed_ms":0.0,"answer":"not read"}"#,
            r#"{"status":"error","message":null,"notes":[],"elapsed_ms":3.0}"#,
        ];
        for t in texts {
            let one: Section<Data> = serde_json::from_str(t).unwrap();
            let value: serde_json::Value = serde_json::from_str(t).unwrap();
            let general: Section<Data> = serde_json::from_value(value).unwrap();
            assert_eq!(one, general, "{t}");
        }
        // The one pass refuses what the general path reads with the last value: the loader
        // then takes the general path.
        let twice = r#"{"status":"ok","elapsed_ms":1.0,"answer":1,"elapsed_ms":2.0}"#;
        assert!(serde_json::from_str::<Section<Data>>(twice).is_err());
        let value: serde_json::Value = serde_json::from_str(twice).unwrap();
        let general: Section<Data> = serde_json::from_value(value).unwrap();
        assert_eq!(general.elapsed_ms, 2.0);
        // Another order takes the general path, even from text.
        let other: Section<Data> =
            serde_json::from_str(r#"{"answer":1,"status":"ok","elapsed_ms":1.0,"elapsed_ms":2.0}"#)
                .unwrap();
        assert_eq!(other.elapsed_ms, 2.0);
    }

    #[test]
    fn ok_section_puts_data_beside_the_envelope() {
        let s = Section::ok(Data { answer: 42 }, Duration::from_micros(1500));
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(json, r#"{"status":"ok","elapsed_ms":1.5,"answer":42}"#);
        let back: Section<Data> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn error_section_keeps_the_reason_and_has_no_data() {
        let s: Section<Data> = Section::error("connection refused", Duration::from_millis(3));
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(
            json,
            r#"{"status":"error","message":"connection refused","elapsed_ms":3.0}"#
        );
        let back: Section<Data> = serde_json::from_str(&json).unwrap();
        assert_eq!(back.data, None);
        assert_eq!(back.message.as_deref(), Some("connection refused"));
    }

    /// A replayed snapshot must print exactly what the live one printed, so every float has to
    /// survive the trip through JSON bit for bit (`serde_json`'s `float_roundtrip`).
    #[test]
    fn floats_round_trip_exactly() {
        let mut s = Section::ok(Data { answer: 1 }, Duration::ZERO);
        s.elapsed_ms = 0.013 + 0.013;
        let back: Section<Data> =
            serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(back.elapsed_ms.to_bits(), s.elapsed_ms.to_bits());
    }

    #[test]
    fn malformed_data_names_the_field() {
        let err = serde_json::from_str::<Section<Data>>(r#"{"status":"ok","answer":"many"}"#)
            .unwrap_err();
        assert!(err.to_string().contains("answer"), "{err}");
        let err = serde_json::from_str::<Section<Data>>(r#"{"status":"ok"}"#).unwrap_err();
        assert!(err.to_string().contains("missing field `answer`"), "{err}");
        let err = serde_json::from_str::<Section<Data>>(r#"{"status":"fine"}"#).unwrap_err();
        assert!(err.to_string().contains("status"), "{err}");
    }
}
