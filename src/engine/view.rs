//! The snapshot as the rules see it: CEL values built straight from the typed snapshot, and only
//! for the fields some rule reads.
//!
//! What a rule reads is its JSON (see [`super::eval`]): `serde_json::to_value(snapshot)`, every
//! number a CEL `double`. Building that whole tree, then CEL's `Value` tree, then the boxed values
//! the interpreter works on, was most of `doctor analyze`'s time on a MySQL snapshot (its
//! `global_status` and `variables` alone are ~700 entries), while the rules read a few dozen of
//! its fields (`benches/analyze.sh`). So:
//!
//! - [`Reads`] is computed once, when the rules are compiled: every chain of field selections
//!   that starts at a snapshot name (`mysql.variables.max_connections`, `tcp.sysctls[?'k']`,
//!   `has(listeners.sockets)`) marks the value at its end as read *whole*. Any other use of a
//!   name (iterated, compared, passed to a function) ends the chain there. A `let` bound to
//!   such a chain (`gs = mysql.global_status`) is an alias ([`Aliases`]): its uses continue the
//!   chain (`gs.Questions` reads `mysql.global_status.Questions`), so the let is bound to a map
//!   holding only what the rule selects of it, not ~500 counters copied on every binding.
//! - [`variables`] serializes the snapshot with a serde serializer that builds the interpreter's
//!   own values (cel 0.15 `common::types`: `CelMap`, `CelList`, `CelDouble`, ...) directly,
//!   exactly as `to_value` followed by the old `to_cel` and cel's `Value` → `Val` conversion
//!   did, and skips every field no rule reads without serializing it.
//!
//! Why leaving fields out changes nothing a rule can observe: an object on a chain keeps every
//! key some chain selects from it, with what that key holds; the only way a rule reaches into
//! that object is one of those selections (a map iterated, sized, compared or handed on is read
//! whole, with all its keys). Selecting a key that the snapshot lacks fails as before
//! (`NoSuchKey`), and `has()` and `.?` answer as before. Values that are not objects are always
//! built whole. Each key's value is what `to_value` would have produced for it, so a `let`, a
//! comprehension or a function sees the same values.

use cel::common::ast::operators::{INDEX, OPT_INDEX, OPT_SELECT};
use cel::common::ast::{EntryExpr, Expr as Ast, IdedExpr, LiteralValue};
use cel::common::types::{CelBool, CelDouble, CelList, CelMap, CelMapKey, CelNull, CelString};
use cel::common::value::Val;
use serde::ser::{self, Serialize};
use std::collections::{BTreeMap, HashMap};

/// Which parts of the snapshot the rules read: a tree of field names, a node either read whole
/// or only through the fields under it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Reads {
    whole: bool,
    fields: BTreeMap<String, Reads>,
}

/// The `let`s of one scope that are aliases of a snapshot path (a chain of constant selections
/// from a snapshot name or from another alias), with that path.
pub type Aliases = HashMap<String, Vec<String>>;

/// The path `e` is an alias of: a constant chain (or a bare name) from a snapshot name, or from
/// an alias of `aliases`. `None` for anything else.
#[must_use]
pub fn alias_of(
    e: &IdedExpr,
    is_root: &dyn Fn(&str) -> bool,
    aliases: &Aliases,
) -> Option<Vec<String>> {
    let (base, path) = match chain(e) {
        Some((base, path)) => (base, path),
        None => (e, Vec::new()),
    };
    let Ast::Ident(name) = &base.expr else {
        return None;
    };
    let mut full = path_of(name, is_root, aliases)?;
    full.extend(path);
    Some(full.into_iter().map(str::to_owned).collect())
}

/// The snapshot path the free name `name` stands for: an alias's path, or the snapshot name
/// itself; `None` for any other name (a `let` that is not an alias, a function's).
fn path_of<'a>(
    name: &'a str,
    is_root: &dyn Fn(&str) -> bool,
    aliases: &'a Aliases,
) -> Option<Vec<&'a str>> {
    if let Some(p) = aliases.get(name) {
        Some(p.iter().map(String::as_str).collect())
    } else {
        is_root(name).then(|| vec![name])
    }
}

impl Reads {
    /// Everything, as `to_value` gives it (the tests compare the pruned view with it).
    #[cfg(test)]
    #[must_use]
    pub fn everything() -> Self {
        Reads {
            whole: true,
            fields: BTreeMap::new(),
        }
    }

    /// Records what `expr` reads of the snapshot; `is_root` tells the snapshot's names from
    /// `let` names (whose own expressions are recorded on their own).
    pub fn record(&mut self, expr: &IdedExpr, is_root: &dyn Fn(&str) -> bool) {
        self.record_with(expr, is_root, &Aliases::new());
    }

    /// [`record`](Self::record), the uses of `aliases` read as the paths they stand for.
    pub fn record_with(
        &mut self,
        expr: &IdedExpr,
        is_root: &dyn Fn(&str) -> bool,
        aliases: &Aliases,
    ) {
        let mut walk = Walk {
            reads: self,
            bound: Vec::new(),
            is_root,
            aliases,
        };
        walk.expr(expr);
    }

    /// Makes sure the value at `path` is built, without reading anything under it: an alias
    /// bound but never selected from is still a value (an empty map when it is an object).
    pub fn ensure(&mut self, path: &[&str]) {
        if self.whole {
            return;
        }
        if let Some((first, rest)) = path.split_first() {
            self.fields
                .entry((*first).to_owned())
                .or_default()
                .ensure(rest);
        }
    }

    /// What is read under `name`, if anything.
    #[must_use]
    pub fn field(&self, name: &str) -> Option<&Reads> {
        if self.whole {
            Some(self)
        } else {
            self.fields.get(name)
        }
    }

    /// What is read under the top-level names `keep` accepts; all of it when it is read whole.
    #[must_use]
    pub fn only(&self, keep: &dyn Fn(&str) -> bool) -> Reads {
        if self.whole {
            return self.clone();
        }
        Reads {
            whole: false,
            fields: self
                .fields
                .iter()
                .filter(|(k, _)| keep(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        }
    }

    /// Whether anything at `path` or under it is read (a value read whole above it counts):
    /// a rule reading `tcp.counters` whole sees `tcp.counters.TcpRetransSegs` change.
    #[must_use]
    pub fn touches(&self, path: &[&str]) -> bool {
        if self.whole {
            return true;
        }
        match path.split_first() {
            None => !self.fields.is_empty(),
            Some((first, rest)) => self.fields.get(*first).is_some_and(|r| r.touches(rest)),
        }
    }

    /// Whether the value at `path` is read whole (itself, or a value above it): building it
    /// builds everything under it.
    #[must_use]
    pub fn whole_at(&self, path: &[&str]) -> bool {
        if self.whole {
            return true;
        }
        match path.split_first() {
            None => false,
            Some((first, rest)) => self.fields.get(*first).is_some_and(|r| r.whole_at(rest)),
        }
    }

    /// The top-level names read.
    #[cfg(test)]
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.fields.keys().map(String::as_str)
    }

    /// Adds what `other` reads, as if its expressions had been recorded here.
    pub fn merge(&mut self, other: Reads) {
        if self.whole {
            return;
        }
        if other.whole {
            self.whole = true;
            self.fields.clear();
            return;
        }
        for (name, reads) in other.fields {
            self.fields.entry(name).or_default().merge(reads);
        }
    }

    /// Marks the value at `path` as read whole.
    fn add(&mut self, path: &[&str]) {
        if self.whole {
            return;
        }
        match path.split_first() {
            None => {
                self.whole = true;
                self.fields.clear();
            }
            Some((first, rest)) => self
                .fields
                .entry((*first).to_owned())
                .or_default()
                .add(rest),
        }
    }
}

/// One expression walked for what it reads: the comprehension variables bound where it is, the
/// snapshot's names and the aliases in scope.
struct Walk<'a> {
    reads: &'a mut Reads,
    bound: Vec<String>,
    is_root: &'a dyn Fn(&str) -> bool,
    aliases: &'a Aliases,
}

impl Walk<'_> {
    /// Reads the value of `name` followed by `path`, if `name` is the snapshot's or an alias.
    fn name(&mut self, name: &str, path: &[&str]) {
        if self.bound.iter().any(|b| b == name) {
            return;
        }
        if let Some(mut full) = path_of(name, self.is_root, self.aliases) {
            full.extend(path);
            self.reads.add(&full);
        }
    }

    fn expr(&mut self, e: &IdedExpr) {
        if let Some((base, path)) = chain(e) {
            match &base.expr {
                Ast::Ident(name) => self.name(name, &path),
                _ => self.expr(base),
            }
            return;
        }
        match &e.expr {
            Ast::Ident(name) => self.name(name, &[]),
            Ast::Call(call) => {
                if let Some(t) = &call.target {
                    self.expr(t);
                }
                for a in &call.args {
                    self.expr(a);
                }
            }
            Ast::Comprehension(c) => {
                self.expr(&c.iter_range);
                self.expr(&c.accu_init);
                let n = self.bound.len();
                self.bound.push(c.iter_var.clone());
                if let Some(v) = &c.iter_var2 {
                    self.bound.push(v.clone());
                }
                self.bound.push(c.accu_var.clone());
                self.expr(&c.loop_cond);
                self.expr(&c.loop_step);
                self.expr(&c.result);
                self.bound.truncate(n);
            }
            Ast::List(l) => {
                for x in &l.elements {
                    self.expr(x);
                }
            }
            Ast::Map(m) => {
                for entry in &m.entries {
                    self.entry(&entry.expr);
                }
            }
            Ast::Struct(s) => {
                for entry in &s.entries {
                    self.entry(&entry.expr);
                }
            }
            // A selection is a chain, handled above.
            Ast::Select(s) => self.expr(&s.operand),
            Ast::Literal(_) | Ast::Unspecified => {}
        }
    }

    fn entry(&mut self, e: &EntryExpr) {
        match e {
            EntryExpr::StructField(f) => self.expr(&f.value),
            EntryExpr::MapEntry(me) => {
                self.expr(&me.key);
                self.expr(&me.value);
            }
        }
    }
}

/// `a.b.?c['d']` (also under `has()`): the expression the selections start from, and the field
/// names selected, in order. `None` when `e` selects nothing by a constant name.
fn chain(e: &IdedExpr) -> Option<(&IdedExpr, Vec<&str>)> {
    let mut fields = Vec::new();
    let mut cur = e;
    loop {
        match &cur.expr {
            Ast::Select(s) => {
                fields.push(s.field.as_str());
                cur = &s.operand;
            }
            Ast::Call(c)
                if c.target.is_none()
                    && c.args.len() == 2
                    && [INDEX, OPT_INDEX, OPT_SELECT].contains(&c.func_name.as_str()) =>
            {
                let Ast::Literal(LiteralValue::String(name)) = &c.args[1].expr else {
                    break;
                };
                fields.push(name.inner());
                cur = &c.args[0];
            }
            _ => break,
        }
    }
    if fields.is_empty() {
        None
    } else {
        fields.reverse();
        Some((cur, fields))
    }
}

/// The snapshot's top-level names that the rules read, with their values as CEL sees them.
///
/// An `Err` means the serializer met a form of data it does not mirror `to_value` for (none of
/// the snapshot's types has one: its map keys are strings); the caller then takes the general
/// path.
pub fn variables<T: Serialize>(snapshot: &T, reads: &Reads) -> Result<Entries, Unsupported> {
    match snapshot.serialize(Builder { reads })? {
        Built::Object(entries) => Ok(entries),
        Built::Val(_) => Err(Unsupported("the snapshot is not an object".into())),
    }
}

/// A form of data the builder does not handle.
#[derive(Debug)]
pub struct Unsupported(String);

impl std::fmt::Display for Unsupported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Unsupported {}

impl ser::Error for Unsupported {
    fn custom<M: std::fmt::Display>(msg: M) -> Self {
        Unsupported(msg.to_string())
    }
}

/// Named values: the top-level variables, or an object's entries in the order written.
pub type Entries = Vec<(String, Box<dyn Val>)>;

/// What one value became: objects stay a list of entries until their parent takes them, so the
/// top level can be bound name by name.
enum Built {
    Val(Box<dyn Val>),
    Object(Entries),
}

impl Built {
    fn into_val(self) -> Box<dyn Val> {
        match self {
            Built::Val(v) => v,
            // Later entries replace earlier ones of the same key, as in a `serde_json::Map`.
            Built::Object(entries) => Box::new(CelMap::from(
                entries
                    .into_iter()
                    .map(|(k, v)| (CelMapKey::from(k), v))
                    .collect::<HashMap<_, _>>(),
            )),
        }
    }
}

/// A finished value, as the serializer methods return it.
#[allow(clippy::unnecessary_wraps)] // the shape every `serialize_*` returns
fn val(v: impl Val + 'static) -> Result<Built, Unsupported> {
    Ok(Built::Val(Box::new(v)))
}

/// Every number is a double (`to_cel`); a float that is not finite is `null`, as `to_value`
/// makes it (`serde_json`'s `Value::from(f64)`).
fn number(f: f64) -> Result<Built, Unsupported> {
    if f.is_finite() {
        val(CelDouble::from(f))
    } else {
        val(CelNull)
    }
}

fn string(s: String) -> Result<Built, Unsupported> {
    val(CelString::from(s))
}

/// Serializes one value as `serde_json::value::Serializer` does, into CEL values; `reads` says
/// which fields of an object to keep.
struct Builder<'r> {
    reads: &'r Reads,
}

impl<'r> ser::Serializer for Builder<'r> {
    type Ok = Built;
    type Error = Unsupported;
    type SerializeSeq = Seq;
    type SerializeTuple = Seq;
    type SerializeTupleStruct = Seq;
    type SerializeTupleVariant = Variant<Seq>;
    type SerializeMap = Object<'r>;
    type SerializeStruct = Object<'r>;
    type SerializeStructVariant = Variant<Object<'r>>;

    fn serialize_bool(self, v: bool) -> Result<Built, Unsupported> {
        val(CelBool::from(v))
    }
    fn serialize_i8(self, v: i8) -> Result<Built, Unsupported> {
        number(f64::from(v))
    }
    fn serialize_i16(self, v: i16) -> Result<Built, Unsupported> {
        number(f64::from(v))
    }
    fn serialize_i32(self, v: i32) -> Result<Built, Unsupported> {
        number(f64::from(v))
    }
    fn serialize_i64(self, v: i64) -> Result<Built, Unsupported> {
        number(v as f64)
    }
    fn serialize_i128(self, v: i128) -> Result<Built, Unsupported> {
        // serde_json keeps an i128 that fits an u64 or an i64, and refuses the others.
        if let Ok(u) = u64::try_from(v) {
            number(u as f64)
        } else if let Ok(i) = i64::try_from(v) {
            number(i as f64)
        } else {
            Err(Unsupported("number out of range".into()))
        }
    }
    fn serialize_u8(self, v: u8) -> Result<Built, Unsupported> {
        number(f64::from(v))
    }
    fn serialize_u16(self, v: u16) -> Result<Built, Unsupported> {
        number(f64::from(v))
    }
    fn serialize_u32(self, v: u32) -> Result<Built, Unsupported> {
        number(f64::from(v))
    }
    fn serialize_u64(self, v: u64) -> Result<Built, Unsupported> {
        number(v as f64)
    }
    fn serialize_u128(self, v: u128) -> Result<Built, Unsupported> {
        match u64::try_from(v) {
            Ok(u) => number(u as f64),
            Err(_) => Err(Unsupported("number out of range".into())),
        }
    }
    fn serialize_f32(self, v: f32) -> Result<Built, Unsupported> {
        number(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Result<Built, Unsupported> {
        number(v)
    }
    fn serialize_char(self, v: char) -> Result<Built, Unsupported> {
        string(v.to_string())
    }
    fn serialize_str(self, v: &str) -> Result<Built, Unsupported> {
        string(v.to_owned())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Built, Unsupported> {
        let items = v
            .iter()
            .map(|b| Box::new(CelDouble::from(f64::from(*b))) as Box<dyn Val>)
            .collect::<Vec<_>>();
        val(CelList::from(items))
    }
    fn serialize_none(self) -> Result<Built, Unsupported> {
        val(CelNull)
    }
    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<Built, Unsupported> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Built, Unsupported> {
        val(CelNull)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<Built, Unsupported> {
        val(CelNull)
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Built, Unsupported> {
        string(variant.to_owned())
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Built, Unsupported> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Built, Unsupported> {
        let Some(reads) = self.reads.field(variant) else {
            return Ok(Built::Object(Vec::new()));
        };
        let inner = value.serialize(Builder { reads })?.into_val();
        Ok(Built::Object(vec![(variant.to_owned(), inner)]))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Seq, Unsupported> {
        Ok(Seq::new(len))
    }
    fn serialize_tuple(self, len: usize) -> Result<Seq, Unsupported> {
        Ok(Seq::new(Some(len)))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Seq, Unsupported> {
        Ok(Seq::new(Some(len)))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Variant<Seq>, Unsupported> {
        Ok(Variant {
            name: variant,
            keep: self.reads.field(variant).is_some(),
            inner: Seq::new(Some(len)),
        })
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Object<'r>, Unsupported> {
        Ok(Object::new(self.reads))
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Object<'r>, Unsupported> {
        Ok(Object::new(self.reads))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Variant<Object<'r>>, Unsupported> {
        let reads = self.reads.field(variant);
        Ok(Variant {
            name: variant,
            keep: reads.is_some(),
            inner: Object::new(reads.unwrap_or(self.reads)),
        })
    }
}

/// A list: always whole (selecting a field of a list fails whatever it holds).
struct Seq {
    items: Vec<Box<dyn Val>>,
}

impl Seq {
    fn new(len: Option<usize>) -> Self {
        Seq {
            items: Vec::with_capacity(len.unwrap_or(0)),
        }
    }

    fn push<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Unsupported> {
        static WHOLE: Reads = Reads {
            whole: true,
            fields: BTreeMap::new(),
        };
        self.items
            .push(value.serialize(Builder { reads: &WHOLE })?.into_val());
        Ok(())
    }

    fn finish(self) -> Box<dyn Val> {
        Box::new(CelList::from(self.items))
    }
}

/// A list, a tuple and a tuple struct all serialize as a JSON array.
macro_rules! seq_impl {
    ($($trait:ident :: $method:ident),*) => {$(
        impl ser::$trait for Seq {
            type Ok = Built;
            type Error = Unsupported;
            fn $method<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Unsupported> {
                self.push(value)
            }
            fn end(self) -> Result<Built, Unsupported> {
                Ok(Built::Val(self.finish()))
            }
        }
    )*};
}

seq_impl!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field
);

/// An object: the entries that are read, in the order written.
struct Object<'r> {
    reads: &'r Reads,
    entries: Entries,
    /// The key given to `serialize_key`, and what is read under it (`None`: skip its value).
    pending: Option<(String, Option<&'r Reads>)>,
}

impl<'r> Object<'r> {
    fn new(reads: &'r Reads) -> Self {
        Object {
            reads,
            entries: Vec::new(),
            pending: None,
        }
    }

    fn field<T: ?Sized + Serialize>(&mut self, key: &str, value: &T) -> Result<(), Unsupported> {
        if let Some(reads) = self.reads.field(key) {
            let v = value.serialize(Builder { reads })?.into_val();
            self.entries.push((key.to_owned(), v));
        }
        Ok(())
    }
}

impl ser::SerializeMap for Object<'_> {
    type Ok = Built;
    type Error = Unsupported;
    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<(), Unsupported> {
        let key = key.serialize(KeyBuilder)?;
        let reads = self.reads.field(&key);
        self.pending = Some((key, reads));
        Ok(())
    }
    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Unsupported> {
        match self.pending.take() {
            Some((key, Some(reads))) => {
                let v = value.serialize(Builder { reads })?.into_val();
                self.entries.push((key, v));
                Ok(())
            }
            Some((_, None)) => Ok(()),
            None => Err(Unsupported("a map value without a key".into())),
        }
    }
    fn end(self) -> Result<Built, Unsupported> {
        Ok(Built::Object(self.entries))
    }
}

impl ser::SerializeStruct for Object<'_> {
    type Ok = Built;
    type Error = Unsupported;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Unsupported> {
        self.field(key, value)
    }
    fn end(self) -> Result<Built, Unsupported> {
        Ok(Built::Object(self.entries))
    }
}

/// `{"variant": ...}`, as `serde_json` writes an enum variant with data.
struct Variant<S> {
    name: &'static str,
    /// Whether the variant's name is read at all; its data is skipped otherwise.
    keep: bool,
    inner: S,
}

impl<S> Variant<S> {
    fn wrap(name: &'static str, keep: bool, inner: Box<dyn Val>) -> Built {
        if keep {
            Built::Object(vec![(name.to_owned(), inner)])
        } else {
            Built::Object(Vec::new())
        }
    }
}

impl ser::SerializeTupleVariant for Variant<Seq> {
    type Ok = Built;
    type Error = Unsupported;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Unsupported> {
        if self.keep {
            self.inner.push(value)?;
        }
        Ok(())
    }
    fn end(self) -> Result<Built, Unsupported> {
        Ok(Self::wrap(self.name, self.keep, self.inner.finish()))
    }
}

impl ser::SerializeStructVariant for Variant<Object<'_>> {
    type Ok = Built;
    type Error = Unsupported;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Unsupported> {
        if self.keep {
            self.inner.field(key, value)?;
        }
        Ok(())
    }
    fn end(self) -> Result<Built, Unsupported> {
        let inner = Built::Object(self.inner.entries).into_val();
        Ok(Self::wrap(self.name, self.keep, inner))
    }
}

/// Map keys as `serde_json` writes them: strings as they are, integers and `bool` as text. The
/// others (floats, which `serde_json` formats its own way) are left to the general path.
struct KeyBuilder;

fn key_unsupported() -> Unsupported {
    Unsupported("a map key that is not a string, an integer or a bool".into())
}

impl ser::Serializer for KeyBuilder {
    type Ok = String;
    type Error = Unsupported;
    type SerializeSeq = ser::Impossible<String, Unsupported>;
    type SerializeTuple = ser::Impossible<String, Unsupported>;
    type SerializeTupleStruct = ser::Impossible<String, Unsupported>;
    type SerializeTupleVariant = ser::Impossible<String, Unsupported>;
    type SerializeMap = ser::Impossible<String, Unsupported>;
    type SerializeStruct = ser::Impossible<String, Unsupported>;
    type SerializeStructVariant = ser::Impossible<String, Unsupported>;

    fn serialize_str(self, v: &str) -> Result<String, Unsupported> {
        Ok(v.to_owned())
    }
    fn serialize_char(self, v: char) -> Result<String, Unsupported> {
        Ok(v.to_string())
    }
    fn serialize_bool(self, v: bool) -> Result<String, Unsupported> {
        Ok(v.to_string())
    }
    fn serialize_i8(self, v: i8) -> Result<String, Unsupported> {
        Ok(v.to_string())
    }
    fn serialize_i16(self, v: i16) -> Result<String, Unsupported> {
        Ok(v.to_string())
    }
    fn serialize_i32(self, v: i32) -> Result<String, Unsupported> {
        Ok(v.to_string())
    }
    fn serialize_i64(self, v: i64) -> Result<String, Unsupported> {
        Ok(v.to_string())
    }
    fn serialize_i128(self, v: i128) -> Result<String, Unsupported> {
        Ok(v.to_string())
    }
    fn serialize_u8(self, v: u8) -> Result<String, Unsupported> {
        Ok(v.to_string())
    }
    fn serialize_u16(self, v: u16) -> Result<String, Unsupported> {
        Ok(v.to_string())
    }
    fn serialize_u32(self, v: u32) -> Result<String, Unsupported> {
        Ok(v.to_string())
    }
    fn serialize_u64(self, v: u64) -> Result<String, Unsupported> {
        Ok(v.to_string())
    }
    fn serialize_u128(self, v: u128) -> Result<String, Unsupported> {
        Ok(v.to_string())
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<String, Unsupported> {
        Ok(variant.to_owned())
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<String, Unsupported> {
        value.serialize(self)
    }
    fn serialize_f32(self, _v: f32) -> Result<String, Unsupported> {
        Err(key_unsupported())
    }
    fn serialize_f64(self, _v: f64) -> Result<String, Unsupported> {
        Err(key_unsupported())
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result<String, Unsupported> {
        Err(key_unsupported())
    }
    fn serialize_none(self) -> Result<String, Unsupported> {
        Err(key_unsupported())
    }
    fn serialize_some<T: ?Sized + Serialize>(self, _value: &T) -> Result<String, Unsupported> {
        Err(key_unsupported())
    }
    fn serialize_unit(self) -> Result<String, Unsupported> {
        Err(key_unsupported())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<String, Unsupported> {
        Err(key_unsupported())
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<String, Unsupported> {
        Err(key_unsupported())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, Unsupported> {
        Err(key_unsupported())
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, Unsupported> {
        Err(key_unsupported())
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, Unsupported> {
        Err(key_unsupported())
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, Unsupported> {
        Err(key_unsupported())
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, Unsupported> {
        Err(key_unsupported())
    }
    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, Unsupported> {
        Err(key_unsupported())
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, Unsupported> {
        Err(key_unsupported())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::compile::parse_cel;
    use crate::engine::{Catalogue, analyze};
    use crate::snapshot::Snapshot;

    fn fixtures() -> Vec<(String, Snapshot)> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let mut out: Vec<(String, Snapshot)> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .map(|p| {
                let snap = crate::snapshot::load(&p).unwrap();
                (p.display().to_string(), snap)
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        assert!(out.len() >= 10, "the recorded fixtures are there");
        out
    }

    fn reads_of(exprs: &[&str]) -> Reads {
        let mut reads = Reads::default();
        for e in exprs {
            let ast = parse_cel(e).unwrap();
            reads.record(&ast, &|n| ["cpu", "mysql", "tcp", "listeners"].contains(&n));
        }
        reads
    }

    fn leaf() -> Reads {
        Reads::everything()
    }

    fn node(fields: &[(&str, Reads)]) -> Reads {
        Reads {
            whole: false,
            fields: fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
        }
    }

    #[test]
    fn selections_from_snapshot_names_are_recorded() {
        let reads = reads_of(&[
            "mysql.variables.max_connections > 0.0",
            "has(listeners.sockets) && tcp.sysctls[?'net.core.somaxconn'].orValue(1.0) > 0.0",
            "mysql.processlist.?sleeping_max_idle_s.orValue(0.0)",
            // a comprehension variable named like a section is not the section
            "[1].exists(cpu, cpu > 0) && pl.x > 0.0",
        ]);
        let expected = node(&[
            (
                "mysql",
                node(&[
                    ("variables", node(&[("max_connections", leaf())])),
                    ("processlist", node(&[("sleeping_max_idle_s", leaf())])),
                ]),
            ),
            ("listeners", node(&[("sockets", leaf())])),
            (
                "tcp",
                node(&[("sysctls", node(&[("net.core.somaxconn", leaf())]))]),
            ),
        ]);
        assert_eq!(reads, expected);
    }

    /// A `let` bound to a path is read through: its selections read under the path, any other
    /// use reads the path whole, an alias of an alias too, and a comprehension variable of the
    /// same name is not the alias.
    #[test]
    fn aliases_read_through_to_their_paths() {
        let is_root = |n: &str| ["mysql", "tcp"].contains(&n);
        let mut aliases = Aliases::new();
        let gs = parse_cel("mysql.global_status").unwrap();
        aliases.insert("gs".into(), alias_of(&gs, &is_root, &aliases).unwrap());
        let q = parse_cel("gs.?Questions").unwrap();
        aliases.insert("q".into(), alias_of(&q, &is_root, &aliases).unwrap());
        assert_eq!(aliases["q"], ["mysql", "global_status", "Questions"]);
        assert_eq!(
            alias_of(&parse_cel("gs.x + 1.0").unwrap(), &is_root, &aliases),
            None
        );
        assert_eq!(
            alias_of(&parse_cel("other.x").unwrap(), &is_root, &aliases),
            None
        );

        let mut reads = Reads::default();
        for e in [
            "gs.Threads_running.total > 0.0",
            "q.per_s > 1.0",
            "[1].exists(gs, gs > 0)",
        ] {
            reads.record_with(&parse_cel(e).unwrap(), &is_root, &aliases);
        }
        let status = |r: &Reads| {
            r.field("mysql")
                .and_then(|m| m.field("global_status"))
                .cloned()
        };
        assert_eq!(
            status(&reads),
            Some(node(&[
                ("Threads_running", node(&[("total", leaf())])),
                ("Questions", node(&[("per_s", leaf())])),
            ]))
        );
        assert!(!reads.whole_at(&["mysql", "global_status"]));
        reads.record_with(&parse_cel("size(gs) > 0").unwrap(), &is_root, &aliases);
        assert!(reads.whole_at(&["mysql", "global_status"]));

        // Bound and never selected from: built, with nothing under it.
        let mut reads = Reads::default();
        reads.ensure(&["mysql", "global_status"]);
        assert_eq!(status(&reads), Some(Reads::default()));
    }

    #[test]
    fn any_other_use_reads_the_value_whole() {
        let reads = reads_of(&[
            "mysql.variables.max_connections",
            // bound to a let, iterated, indexed by a computed key, handed to a function
            "mysql.processlist",
            "mysql.global_status.exists(k, k == 'x')",
            "tcp.counters[string(1)]",
            "size(cpu)",
        ]);
        let expected = node(&[
            (
                "mysql",
                node(&[
                    ("variables", node(&[("max_connections", leaf())])),
                    ("processlist", leaf()),
                    ("global_status", leaf()),
                ]),
            ),
            ("tcp", node(&[("counters", leaf())])),
            ("cpu", leaf()),
        ]);
        assert_eq!(reads, expected);
    }

    /// Rules compiled apart and merged read what they read compiled together, in any split.
    #[test]
    fn merged_reads_are_the_reads_recorded_together() {
        let exprs = [
            "mysql.variables.max_connections > 0.0",
            "mysql.variables",
            "mysql.processlist.?sleeping_max_idle_s.orValue(0.0)",
            "tcp.sysctls[?'net.core.somaxconn'].orValue(1.0) > 0.0",
            "size(cpu)",
            "cpu.load_1 > 0.0",
            "mysql.global_status.Threads_connected > 0.0",
        ];
        let together = reads_of(&exprs);
        for split in 0..=exprs.len() {
            for (a, b) in [exprs.split_at(split), {
                let (a, b) = exprs.split_at(split);
                (b, a)
            }] {
                let mut merged = reads_of(a);
                merged.merge(reads_of(b));
                assert_eq!(merged, together, "split at {split}");
            }
        }
    }

    /// A value as text with its CEL kind (`1.0` and `1` are equal in CEL, not here), map keys
    /// sorted.
    fn canon(v: &cel::Value) -> String {
        use cel::Value as V;
        match v {
            V::Map(m) => {
                let mut entries: Vec<String> = m
                    .map
                    .iter()
                    .map(|(k, v)| format!("{k:?}: {}", canon(v)))
                    .collect();
                entries.sort();
                format!("{{{}}}", entries.join(", "))
            }
            V::List(l) => format!("[{}]", l.iter().map(canon).collect::<Vec<_>>().join(", ")),
            other => format!("{other:?}"),
        }
    }

    /// Read whole, the view is `to_value` made CEL values the way the engine always did it.
    #[test]
    fn whole_view_is_the_snapshot_json() {
        for (name, snap) in fixtures() {
            let vars = variables(&snap, &Reads::everything()).unwrap();
            let json = serde_json::to_value(&snap).unwrap();
            let top = json.as_object().unwrap();
            assert_eq!(vars.len(), top.len(), "{name}");
            for (k, v) in vars {
                let expected: Box<dyn Val> =
                    crate::engine::expr::to_cel(&top[&k]).try_into().unwrap();
                let (got, want) = (
                    canon(&cel::Value::try_from(v.as_ref()).unwrap()),
                    canon(&cel::Value::try_from(expected.as_ref()).unwrap()),
                );
                assert!(got == want, "{name}: `{k}` differs:\n{got}\n{want}");
            }
        }
    }

    /// Reading only what the rules select gives every rule the same outcome as the whole
    /// snapshot does, on every recorded fixture.
    #[test]
    fn rules_see_the_same_through_the_view() {
        let mut pruned = Catalogue::load(None).unwrap();
        assert!(pruned.reads.names().any(|n| n == "mysql"));
        let mut whole = Catalogue::load(None).unwrap();
        whole.reads = Reads::everything();
        for (name, snap) in fixtures() {
            let a = serde_json::to_value(analyze(&pruned, &snap)).unwrap();
            let b = serde_json::to_value(analyze(&whole, &snap)).unwrap();
            assert_eq!(a, b, "{name}");
        }
        pruned.reads = Reads::default();
        assert!(
            analyze(&pruned, &fixtures()[0].1)
                .not_checked
                .iter()
                .any(|n| n.reason.contains("unknown name")),
            "the check above can fail: with nothing read, rules cannot be evaluated"
        );
    }
}
