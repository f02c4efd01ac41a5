//! The snapshot's objects, their fields and the fields' types: static data written by `build.rs`
//! (`build/shapes.rs`) from the snapshot's own JSON Schema, so the rules know a field the moment
//! it is added to a snapshot type, and nothing is generated at start-up.

/// A JSON value's type, as the snapshot's JSON Schema gives it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Shape {
    /// Any number (every snapshot number is a CEL `double`).
    Number,
    String,
    Bool,
    Null,
    /// A string with only these values (an enum of unit variants: `status`, `flavor`, ...).
    Enum(&'static [&'static str]),
    List(&'static Shape),
    /// An object whose keys are data (a `BTreeMap`: counters, variables, ...).
    Map(&'static Shape),
    /// An object with fixed fields (a struct): an index into [`OBJECTS`].
    Object(usize),
    /// One of these (an `Option` is its type or `Null`).
    AnyOf(&'static [Shape]),
    /// What the schema does not say: anything goes. (The snapshot's schema has none today;
    /// the generator writes it for a form of schema it does not describe.)
    #[allow(dead_code)]
    Any,
}

/// A struct of the snapshot: its name in the JSON Schema and its fields, sorted by name.
#[derive(Debug)]
pub(crate) struct Object {
    pub(crate) name: &'static str,
    pub(crate) fields: &'static [(&'static str, Shape)],
}

include!(concat!(env!("OUT_DIR"), "/snapshot_shapes.rs"));

/// The snapshot itself (the top level a rule reads from).
pub(crate) const ROOT: usize = 0;

pub(crate) fn object(index: usize) -> &'static Object {
    &OBJECTS[index]
}

impl Object {
    /// The shape of field `name`, if the object has it.
    pub(crate) fn field(&self, name: &str) -> Option<&'static Shape> {
        self.fields
            .binary_search_by(|(f, _)| (*f).cmp(name))
            .ok()
            .map(|i| &self.fields[i].1)
    }

    pub(crate) fn field_names(&self) -> impl Iterator<Item = &'static str> {
        self.fields.iter().map(|(f, _)| *f)
    }
}

/// The snapshot's collector sections: its top-level objects named `Section_*` in the schema.
pub(crate) fn sections() -> impl Iterator<Item = &'static str> {
    object(ROOT)
        .fields
        .iter()
        .filter_map(|(name, shape)| match shape {
            Shape::Object(i) if object(*i).name.starts_with("Section_") => Some(*name),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shapes_are_the_snapshot_schema() {
        assert_eq!(object(ROOT).name, "Snapshot");
        let schema = serde_json::to_value(crate::snapshot::json_schema()).unwrap();
        let top: Vec<&str> = schema["properties"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut ours: Vec<&str> = object(ROOT).field_names().collect();
        ours.sort_unstable();
        let mut top = top;
        top.sort_unstable();
        assert_eq!(ours, top);
        for o in OBJECTS {
            assert!(
                o.fields.windows(2).all(|w| w[0].0 < w[1].0),
                "{}: fields are sorted for binary search",
                o.name
            );
        }
        let Some(Shape::Object(tcp)) = object(ROOT).field("tcp") else {
            panic!("tcp is an object")
        };
        let counter = OBJECTS.iter().position(|o| o.name == "Counter").unwrap();
        assert!(
            matches!(object(*tcp).field("counters"), Some(Shape::Map(Shape::Object(c))) if *c == counter)
        );
    }
}
