//! The type of a CEL value as far as the snapshot's schema tells it: what a rule's expression,
//! `let` or comprehension variable holds, for checking the names read from it.
//!
//! A type read off the schema stays a reference to the schema's static data ([`Ty::Shape`]):
//! checking the rules is paid at every start, and building a tree of types for every field a
//! rule reads was most of its cost.

use super::names::{self, Keys};
use super::schema::{self, Shape};
use std::rc::Rc;

/// What a value may be. A union is what a ternary, `orValue` or an `Option` field gives: one of
/// its members, which the check cannot tell apart.
#[derive(Debug, Clone)]
pub(crate) enum Ty {
    /// No value at all: the element of an empty list. Nothing is said about it.
    Never,
    /// Anything: what the check cannot know (`dyn()`, a function it does not model).
    Dyn,
    Null,
    Bool,
    /// A CEL `int` (a literal `2`, `size()`), which CEL does not mix with a `double`.
    Int,
    /// A CEL `double`: every number of the snapshot.
    Num,
    Str,
    Bytes,
    /// A string with only these values (a snapshot enum).
    Enum(&'static [&'static str]),
    /// A snapshot object: an index into the schema's objects.
    Object(usize),
    /// A list, map or choice of the snapshot, as its schema gives it; a map's keys are checked
    /// against `Keys`.
    Shape(&'static Shape, Keys),
    List(Rc<Ty>),
    /// A map with string keys, checked against `Keys`.
    Map(Rc<Ty>, Keys),
    /// A map literal with string keys (`{'name': '', 'pid': 0.0}`).
    Record(Rc<[(String, Ty)]>),
    /// A CEL optional (`x.?y`, `m[?'k']`).
    Opt(Rc<Ty>),
    /// One of these, none of them a union.
    Union(Rc<[Ty]>),
}

/// What kind of value a type certainly is, when every member but `null` agrees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Double,
    Int,
    Str,
    Bool,
    Bytes,
    List,
    Map,
}

impl Kind {
    pub(crate) fn is_number(self) -> bool {
        matches!(self, Kind::Double | Kind::Int)
    }

    pub(crate) fn describe(self) -> &'static str {
        match self {
            Kind::Double => "a number",
            Kind::Int => "an int",
            Kind::Str => "a string",
            Kind::Bool => "a bool",
            Kind::Bytes => "bytes",
            Kind::List => "a list",
            Kind::Map => "a map",
        }
    }
}

/// Unions wider than this are taken as anything: no rule needs them, and they would cost.
const WIDEST: usize = 16;

/// The members of a type, one by one (see [`Ty::members`]).
pub(crate) enum Members<'a> {
    Many(std::slice::Iter<'a, Ty>),
    Shapes(std::slice::Iter<'static, Shape>, Keys),
    One(Option<&'a Ty>),
}

impl Iterator for Members<'_> {
    type Item = Ty;

    fn next(&mut self) -> Option<Ty> {
        match self {
            Members::Many(it) => it.next().cloned(),
            Members::Shapes(it, keys) => it.next().map(|s| Ty::of_shape(s, *keys)),
            Members::One(t) => t.take().cloned(),
        }
    }
}

impl Ty {
    /// The type of a value of `shape`; `keys` is the key list when it is a map (or an optional
    /// map).
    pub(crate) fn of_shape(shape: &'static Shape, keys: Keys) -> Ty {
        match shape {
            Shape::Number => Ty::Num,
            Shape::String => Ty::Str,
            Shape::Bool => Ty::Bool,
            Shape::Null => Ty::Null,
            Shape::Enum(values) => Ty::Enum(values),
            Shape::Object(i) => Ty::Object(*i),
            Shape::List(_) | Shape::Map(_) | Shape::AnyOf(_) => Ty::Shape(shape, keys),
            Shape::Any => Ty::Dyn,
        }
    }

    /// The type of field `name` of snapshot object `object`, if it has one.
    pub(crate) fn of_field(object: usize, name: &str) -> Option<Ty> {
        let o = schema::object(object);
        let shape = o.field(name)?;
        let keys = match shape {
            Shape::Map(_) | Shape::AnyOf(_) => names::keys_of(o.name, name),
            _ => Keys::Any,
        };
        Some(Ty::of_shape(shape, keys))
    }

    /// A list's element type.
    pub(crate) fn as_list(&self) -> Option<Ty> {
        match self {
            Ty::List(item) => Some(item.as_ref().clone()),
            Ty::Shape(Shape::List(item), _) => Some(Ty::of_shape(item, Keys::Any)),
            _ => None,
        }
    }

    /// A map's value type and key list.
    pub(crate) fn as_map(&self) -> Option<(Ty, Keys)> {
        match self {
            Ty::Map(value, keys) => Some((value.as_ref().clone(), *keys)),
            Ty::Shape(Shape::Map(value), keys) => Some((Ty::of_shape(value, Keys::Any), *keys)),
            _ => None,
        }
    }

    /// Each member of a union, or the type itself.
    pub(crate) fn members(&self) -> Members<'_> {
        match self {
            Ty::Union(ms) => Members::Many(ms.iter()),
            Ty::Shape(Shape::AnyOf(shapes), keys) => Members::Shapes(shapes.iter(), *keys),
            t => Members::One(Some(t)),
        }
    }

    /// One of `self` or `other`.
    pub(crate) fn union(self, other: Ty) -> Ty {
        match (&self, &other) {
            (Ty::Never, _) | (_, Ty::Dyn) => return other,
            (_, Ty::Never) | (Ty::Dyn, _) => return self,
            _ => {}
        }
        // Most unions add nothing new (`x.?f.orValue(0.0)` of a number field): no new type.
        if other
            .members()
            .all(|o| self.members().any(|s| same(&s, &o)))
        {
            return self;
        }
        if self
            .members()
            .all(|s| other.members().any(|o| same(&s, &o)))
        {
            return other;
        }
        let mut members: Vec<Ty> = Vec::new();
        for t in self.members().chain(other.members()) {
            add(&mut members, t);
        }
        match members.len() {
            0 => Ty::Never,
            1 => members.pop().unwrap_or(Ty::Never),
            n if n > WIDEST => Ty::Dyn,
            _ => Ty::Union(members.into()),
        }
    }

    /// The kind every member but `null` is, if they agree; `None` when the type may be
    /// anything or its members differ.
    pub(crate) fn kind(&self) -> Option<Kind> {
        let mut kind = None;
        for m in self.members() {
            let k = match m {
                Ty::Null | Ty::Never => continue,
                Ty::Dyn | Ty::Opt(_) | Ty::Union(_) => return None,
                Ty::Bool => Kind::Bool,
                Ty::Int => Kind::Int,
                Ty::Num => Kind::Double,
                Ty::Str | Ty::Enum(_) => Kind::Str,
                Ty::Bytes => Kind::Bytes,
                Ty::List(_) | Ty::Shape(Shape::List(_), _) => Kind::List,
                Ty::Map(..) | Ty::Object(_) | Ty::Record(_) | Ty::Shape(..) => Kind::Map,
            };
            match kind {
                None => kind = Some(k),
                Some(j) if j == k => {}
                Some(_) => return None,
            }
        }
        kind
    }

    /// The values of a snapshot enum, when the type is certainly one (`null` aside).
    pub(crate) fn enum_values(&self) -> Option<&'static [&'static str]> {
        let mut values: Option<&'static [&'static str]> = None;
        for m in self.members() {
            match m {
                Ty::Null | Ty::Never => {}
                Ty::Enum(v) if values.is_none_or(|w| std::ptr::eq(w, v)) => values = Some(v),
                _ => return None,
            }
        }
        values
    }
}

/// Whether two members are the same type (without looking inside built ones).
fn same(a: &Ty, b: &Ty) -> bool {
    match (a, b) {
        (Ty::Never, Ty::Never)
        | (Ty::Dyn, Ty::Dyn)
        | (Ty::Null, Ty::Null)
        | (Ty::Bool, Ty::Bool)
        | (Ty::Int, Ty::Int)
        | (Ty::Num, Ty::Num)
        | (Ty::Str, Ty::Str)
        | (Ty::Bytes, Ty::Bytes) => true,
        (Ty::Enum(x), Ty::Enum(y)) => std::ptr::eq(*x, *y),
        (Ty::Object(x), Ty::Object(y)) => x == y,
        (Ty::Shape(x, kx), Ty::Shape(y, ky)) => std::ptr::eq(*x, *y) && kx == ky,
        (Ty::List(x), Ty::List(y)) | (Ty::Opt(x), Ty::Opt(y)) => Rc::ptr_eq(x, y),
        (Ty::Map(x, kx), Ty::Map(y, ky)) => Rc::ptr_eq(x, y) && kx == ky,
        (Ty::Record(x), Ty::Record(y)) => Rc::ptr_eq(x, y),
        (Ty::Union(x), Ty::Union(y)) => Rc::ptr_eq(x, y),
        _ => false,
    }
}

/// Adds `t` to the members of a union, merging it with a member of the same form.
fn add(members: &mut Vec<Ty>, t: Ty) {
    if matches!(t, Ty::Never) {
        return;
    }
    for m in members.iter_mut() {
        if same(m, &t) {
            return;
        }
        let merged = if let (Some(a), Some(b)) = (m.as_list(), t.as_list()) {
            Some(Ty::List(Rc::new(a.union(b))))
        } else if let (Some((a, ka)), Some((b, kb))) = (m.as_map(), t.as_map()) {
            Some(Ty::Map(
                Rc::new(a.union(b)),
                if ka == kb { ka } else { Keys::Any },
            ))
        } else {
            match (&*m, &t) {
                (Ty::Opt(a), Ty::Opt(b)) => Some(Ty::Opt(Rc::new(
                    a.as_ref().clone().union(b.as_ref().clone()),
                ))),
                (Ty::Str | Ty::Enum(_), Ty::Str | Ty::Enum(_)) => Some(Ty::Str),
                _ => None,
            }
        };
        if let Some(merged) = merged {
            *m = merged;
            return;
        }
    }
    members.push(t);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unions_merge_alike_members() {
        let t = Ty::Num.union(Ty::Null).union(Ty::Num);
        assert_eq!(t.members().count(), 2);
        assert_eq!(t.kind(), Some(Kind::Double), "null aside, a number");
        let lists = Ty::List(Rc::new(Ty::Never)).union(Ty::List(Rc::new(Ty::Str)));
        assert!(matches!(&lists, Ty::List(item) if matches!(**item, Ty::Str)));
        assert!(matches!(Ty::Str.union(Ty::Dyn), Ty::Dyn));
        assert_eq!(Ty::Str.union(Ty::Num).kind(), None, "a variable: either");
        assert!(matches!(Ty::Never.union(Ty::Bool), Ty::Bool));
    }

    #[test]
    fn a_schema_option_stays_the_schema_s() {
        // `memory.major_faults_per_s` is an `Option<f64>`: a number or null, and the union
        // of it and a number (`orValue(0.0)`) is that same type.
        let memory = match Ty::of_field(schema::ROOT, "memory") {
            Some(Ty::Object(i)) => i,
            other => panic!("{other:?}"),
        };
        let t = Ty::of_field(memory, "major_faults_per_s").unwrap();
        assert!(matches!(t, Ty::Shape(Shape::AnyOf(_), _)), "{t:?}");
        assert_eq!(t.kind(), Some(Kind::Double));
        assert!(matches!(t.clone().union(Ty::Num), Ty::Shape(..)));
    }
}
