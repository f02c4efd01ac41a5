//! The walk over one expression: the type of every part, and the problems the snapshot's schema
//! shows in it (a name it lacks, a key no listed server or kernel has, an operation that cannot
//! work on the field's type).
//!
//! Conservative by design: a problem is reported only when it is certain from the schema. What
//! may be one of several types (a ternary, `orValue` with a fallback of another type, a server
//! variable that is a number or a text, `dyn()`, a function the check does not model) is only
//! wrong when every possibility is.

use super::distance;
use super::names::{self, Keys, LogNames, Verdict};
use super::schema::{self, ROOT};
use super::ty::{Kind, Ty};
use cel::common::ast::operators::{
    ADD, CONDITIONAL, DIVIDE, EQUALS, GREATER, GREATER_EQUALS, IN, INDEX, LESS, LESS_EQUALS,
    LOGICAL_AND, LOGICAL_NOT, LOGICAL_OR, MODULO, MULTIPLY, NEGATE, NOT_EQUALS, NOT_STRICTLY_FALSE,
    OPT_INDEX, OPT_SELECT, SUBSTRACT,
};
use cel::common::ast::{
    CallExpr, ComprehensionExpr, EntryExpr, Expr as Ast, IdedExpr, LiteralValue,
};
use std::rc::Rc;

/// How serious a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Level {
    /// The rule is refused.
    Error,
    /// Accepted, and said on standard error at every load: most likely a typo, but a name the
    /// check's list may lack (a kernel counter).
    Warning,
    /// Accepted, and shown by `doctor rules explain`: a name no listed version has.
    Note,
}

/// Where in the expression a problem is: the node, and which of its characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Anchor {
    /// An identifier, at its first character.
    Ident,
    /// A field selection (`.field`, `.?field`, `has(x.field)`): the field's name after its dot.
    Field(String),
    /// A string key (`['key']`, a literal): the text inside the quotes.
    Key,
    /// The node's own position (an operator, a call).
    Node,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    /// The CEL node the problem is about.
    pub(crate) id: u64,
    pub(crate) anchor: Anchor,
    pub(crate) level: Level,
    pub(crate) message: String,
}

/// A name in scope: a `let` value or a comprehension variable, with its type.
#[derive(Debug, Clone)]
pub(crate) struct Binding {
    pub(crate) name: String,
    pub(crate) ty: Ty,
    /// What it holds, for messages: `` `mysql.processlist` ``, `` an element of `disks.devices` ``.
    pub(crate) origin: Option<String>,
}

/// A comprehension variable: borrowed from the expression, so binding one costs nothing.
struct Local<'e> {
    name: &'e str,
    ty: Ty,
    /// The list it is an element of.
    element_of: Option<&'e IdedExpr>,
}

/// Walks one expression (`'e`) in a scope of `let` values.
pub(crate) struct Infer<'a, 'e> {
    lets: &'a [Binding],
    logs: &'a LogNames,
    /// Comprehension variables, innermost last.
    bound: Vec<Local<'e>>,
    pub(crate) problems: Vec<Problem>,
}

/// What a name in scope is.
enum Found<'s> {
    Let(&'s Binding),
    Local(&'s Ty, Option<&'s IdedExpr>),
}

impl Found<'_> {
    fn ty(&self) -> &Ty {
        match self {
            Found::Let(b) => &b.ty,
            Found::Local(t, _) => t,
        }
    }

    fn origin(&self) -> Option<String> {
        match self {
            Found::Let(b) => b.origin.clone(),
            Found::Local(_, Some(range)) => Some(format!("an element of `{}`", render(range))),
            Found::Local(_, None) => None,
        }
    }
}

/// Why a field could not be selected from one member of a type.
enum Miss {
    /// A snapshot object without that field (its fields are the suggestions).
    NoObjectField(usize),
    /// A map literal without that key.
    NoRecordField(Rc<[(String, Ty)]>),
    /// A value that has no fields at all.
    NotAnObject(Kind),
}

impl<'a, 'e> Infer<'a, 'e> {
    pub(crate) fn new(lets: &'a [Binding], logs: &'a LogNames) -> Self {
        Infer {
            lets,
            logs,
            bound: Vec::new(),
            problems: Vec::new(),
        }
    }

    fn problem(&mut self, id: u64, anchor: Anchor, level: Level, message: String) {
        let p = Problem {
            id,
            anchor,
            level,
            message,
        };
        if !self.problems.contains(&p) {
            self.problems.push(p);
        }
    }

    fn error(&mut self, (id, anchor): (u64, Anchor), message: String) {
        self.problem(id, anchor, Level::Error, message);
    }

    fn lookup(&self, name: &str) -> Option<Found<'_>> {
        if let Some(l) = self.bound.iter().rev().find(|l| l.name == name) {
            return Some(Found::Local(&l.ty, l.element_of));
        }
        self.lets.iter().find(|b| b.name == name).map(Found::Let)
    }

    /// The type of `e`, recording the problems found in it.
    pub(crate) fn expr(&mut self, e: &'e IdedExpr) -> Ty {
        match &e.expr {
            Ast::Ident(name) => self.ident(e.id, name),
            Ast::Select(s) => {
                let operand = self.expr(&s.operand);
                let t = self.select(
                    e,
                    &s.operand,
                    &operand,
                    &s.field,
                    (e.id, Anchor::Field(s.field.clone())),
                    s.test,
                );
                if s.test { Ty::Bool } else { t }
            }
            Ast::Call(call) => self.call(e, call),
            Ast::Comprehension(c) => self.comprehension(c),
            Ast::List(l) => {
                let mut item = Ty::Never;
                for x in &l.elements {
                    item = item.union(self.expr(x));
                }
                Ty::List(Rc::new(item))
            }
            Ast::Map(m) => {
                let mut fields: Vec<(String, Ty)> = Vec::new();
                let mut values = Ty::Never;
                let mut literal_keys = true;
                for entry in &m.entries {
                    match &entry.expr {
                        EntryExpr::MapEntry(me) => {
                            self.expr(&me.key);
                            let v = self.expr(&me.value);
                            match &me.key.expr {
                                Ast::Literal(LiteralValue::String(k)) => {
                                    fields.push((k.inner().to_owned(), v.clone()));
                                }
                                _ => literal_keys = false,
                            }
                            values = values.union(v);
                        }
                        EntryExpr::StructField(f) => {
                            self.expr(&f.value);
                            literal_keys = false;
                        }
                    }
                }
                if literal_keys {
                    Ty::Record(fields.into())
                } else {
                    Ty::Map(Rc::new(values), Keys::Any)
                }
            }
            Ast::Struct(s) => {
                for entry in &s.entries {
                    if let EntryExpr::StructField(f) = &entry.expr {
                        self.expr(&f.value);
                    }
                }
                Ty::Dyn
            }
            Ast::Literal(l) => match l {
                LiteralValue::Int(_) | LiteralValue::UInt(_) => Ty::Int,
                LiteralValue::Double(_) => Ty::Num,
                LiteralValue::String(_) => Ty::Str,
                LiteralValue::Boolean(_) => Ty::Bool,
                LiteralValue::Null => Ty::Null,
                LiteralValue::Bytes(_) => Ty::Bytes,
            },
            Ast::Unspecified => Ty::Dyn,
        }
    }

    fn ident(&mut self, id: u64, name: &str) -> Ty {
        if let Some(found) = self.lookup(name) {
            return found.ty().clone();
        }
        if let Some(t) = Ty::of_field(ROOT, name) {
            return t;
        }
        let lets: Vec<String> = self.lets.iter().map(|b| b.name.clone()).collect();
        let candidates: Vec<String> = schema::object(ROOT)
            .field_names()
            .map(str::to_owned)
            .chain(lets.iter().cloned())
            .chain(self.bound.iter().map(|b| b.name.to_owned()))
            .collect();
        let message = if let Some((near, _)) =
            distance::nearest(name, candidates.iter().map(String::as_str), 2)
        {
            format!("`{name}` is not in the snapshot; did you mean `{near}`?")
        } else {
            let mut names: Vec<&str> = schema::object(ROOT).field_names().collect();
            names.sort_unstable();
            let lets = if lets.is_empty() {
                String::new()
            } else {
                format!("; `let` names before it: {}", lets.join(", "))
            };
            format!(
                "`{name}` is not in the snapshot; names are: {}{lets}",
                names.join(", ")
            )
        };
        self.error((id, Anchor::Ident), message);
        Ty::Dyn
    }

    /// The type of `operand.field` (or `operand['field']`), `whole` being the selection.
    /// `optional`: `.?`, `[?]` and `has()`, which answer "absent" for a map's or a literal's
    /// missing key rather than failing (a schema object's missing field is still an error:
    /// it is never there).
    fn select(
        &mut self,
        whole: &IdedExpr,
        operand_expr: &IdedExpr,
        operand: &Ty,
        field: &str,
        at: (u64, Anchor),
        optional: bool,
    ) -> Ty {
        let mut found = Ty::Never;
        let mut any_found = false;
        let mut fields: Vec<String> = Vec::new();
        let mut not_object = None;
        let mut keyed: Vec<Keys> = Vec::new();
        for m in operand.members() {
            match Self::member(&m, field, optional, &mut keyed) {
                Ok(Some(t)) => {
                    any_found = true;
                    found = found.union(t);
                }
                Ok(None) => {}
                Err(Miss::NoObjectField(i)) => {
                    fields.extend(schema::object(i).field_names().map(str::to_owned));
                }
                Err(Miss::NoRecordField(r)) => fields.extend(r.iter().map(|(k, _)| k.clone())),
                Err(Miss::NotAnObject(k)) => not_object = not_object.or(Some(k)),
            }
        }
        for keys in keyed {
            self.key(operand_expr, keys, field, &at);
        }
        if any_found {
            return found;
        }
        if !fields.is_empty() {
            let path = render_path(whole);
            let near = distance::nearest(field, fields.iter().map(String::as_str), 2)
                .map(|(n, _)| with_last(operand_expr, n));
            let mut message = if let Some(near) = near {
                format!("`{path}` is not in the snapshot; did you mean `{near}`?")
            } else {
                fields.sort();
                fields.dedup();
                format!(
                    "`{path}` is not in the snapshot; `{}` has: {}",
                    render(operand_expr),
                    fields.join(", ")
                )
            };
            message.push_str(&self.origin_of(operand_expr));
            self.error(at, message);
        } else if let Some(kind) = not_object {
            let operand_text = render(operand_expr);
            let mut message = if kind == Kind::List {
                format!(
                    "`{}`: `{operand_text}` is a list, which has no field `{field}`; read its \
                     elements (`{operand_text}.exists(x, x.{field} ...)`, `{operand_text}[0].{field}`)",
                    render_path(whole)
                )
            } else {
                format!(
                    "`{}`: `{operand_text}` is {}, which has no field `{field}`",
                    render_path(whole),
                    kind.describe()
                )
            };
            message.push_str(&self.origin_of(operand_expr));
            self.error(at, message);
        }
        Ty::Dyn
    }

    /// `field` of one member of a type: `Ok(None)` for a member that says nothing (`null`).
    /// Maps with known keys are pushed to `keyed`, for their key to be checked once.
    fn member(
        t: &Ty,
        field: &str,
        optional: bool,
        keyed: &mut Vec<Keys>,
    ) -> Result<Option<Ty>, Miss> {
        match t {
            // A union's members are never unions; were one, it would say nothing certain.
            Ty::Dyn | Ty::Union(_) => Ok(Some(Ty::Dyn)),
            Ty::Never => Ok(Some(Ty::Never)),
            Ty::Null => Ok(None),
            Ty::Object(i) => Ty::of_field(*i, field)
                .map(Some)
                .ok_or(Miss::NoObjectField(*i)),
            Ty::Record(fields) => match fields.iter().find(|(k, _)| k == field) {
                Some((_, t)) => Ok(Some(t.clone())),
                None if optional => Ok(Some(Ty::Never)),
                None => Err(Miss::NoRecordField(fields.clone())),
            },
            Ty::Opt(inner) => {
                let mut found = Ty::Never;
                let mut any = false;
                for m in inner.members() {
                    if let Some(t) = Self::member(&m, field, optional, keyed)? {
                        any = true;
                        found = found.union(t);
                    }
                }
                Ok(any.then(|| Ty::Opt(Rc::new(found))))
            }
            other => match other.as_map() {
                Some((value, keys)) => {
                    if !keyed.contains(&keys) {
                        keyed.push(keys);
                    }
                    Ok(Some(value))
                }
                None => Err(Miss::NotAnObject(other.kind().unwrap_or(Kind::Map))),
            },
        }
    }

    /// Checks the key `key` read of a map whose keys are listed.
    fn key(&mut self, map: &IdedExpr, keys: Keys, key: &str, at: &(u64, Anchor)) {
        let path = with_last(map, key);
        let (level, message) = match names::verdict(keys, key, self.logs) {
            Verdict::Known => return,
            Verdict::Error {
                near: Some(near),
                list,
            } => (
                Level::Error,
                format!(
                    "`{path}` is not in the snapshot: {list} have no `{key}`; did you mean `{}`?",
                    with_last(map, &near)
                ),
            ),
            Verdict::Error { near: None, list } => (
                Level::Error,
                format!(
                    "`{path}` is not in the snapshot: {list} are {}",
                    names::listing(keys).unwrap_or_else(|| "others".into())
                ),
            ),
            Verdict::Warning { near, list } => (
                Level::Warning,
                format!(
                    "`{path}`: {list} have no `{key}`; did you mean `{}`? (accepted: another \
                     kernel may have it; where it is missing the rule is not checked)",
                    with_last(map, &near)
                ),
            ),
            Verdict::Note { list } => {
                let whose = match keys {
                    Keys::LogPatterns | Keys::LogCategories => {
                        "a pattern of one's own (`doctor check --patterns DIR` checks it against \
                         the loaded ones)"
                    }
                    Keys::TcpCounters => "another kernel's counter",
                    _ => "a newer server's",
                };
                (
                    Level::Note,
                    format!(
                        "`{path}`: {list} have no `{key}`, nor a name close to it: accepted as \
                         {whose}; where it is missing the rule is not checked"
                    ),
                )
            }
        };
        let message = message + &self.origin_of(map);
        self.problem(at.0, at.1.clone(), level, message);
    }

    /// ` (`pl` is `mysql.processlist`)` when the path starts at a `let` or a comprehension
    /// variable that says what it holds.
    fn origin_of(&self, e: &IdedExpr) -> String {
        let mut cur = e;
        loop {
            match &cur.expr {
                Ast::Select(s) => cur = &s.operand,
                Ast::Call(c)
                    if c.target.is_none()
                        && c.args.len() == 2
                        && [INDEX, OPT_INDEX, OPT_SELECT].contains(&c.func_name.as_str()) =>
                {
                    cur = &c.args[0];
                }
                Ast::Ident(name) => {
                    return self
                        .lookup(name)
                        .and_then(|f| f.origin())
                        .map(|o| format!(" (`{name}` is {o})"))
                        .unwrap_or_default();
                }
                _ => return String::new(),
            }
        }
    }

    fn call(&mut self, e: &'e IdedExpr, call: &'e CallExpr) -> Ty {
        let f = call.func_name.as_str();
        let args = &call.args;
        if call.target.is_none() && args.len() == 2 {
            match f {
                INDEX | OPT_INDEX | OPT_SELECT => return self.index(e, call),
                _ => {}
            }
        }
        if let Some(target) = &call.target {
            // `optional.of(x)`, `optional.none()`: a namespace, not a name of the snapshot.
            if matches!(&target.expr, Ast::Ident(n) if n == "optional" && self.lookup(n).is_none())
            {
                let arg = args.first().map_or(Ty::Never, |a| self.expr(a));
                for a in args.iter().skip(1) {
                    self.expr(a);
                }
                return Ty::Opt(Rc::new(arg));
            }
            let t = self.expr(target);
            let a = self.args(args);
            return self.method(target, &t, f, a.as_slice());
        }
        let a = self.args(args);
        match (f, a.as_slice()) {
            (CONDITIONAL, [_, then, otherwise]) => then.clone().union(otherwise.clone()),
            (LOGICAL_AND | LOGICAL_OR | LOGICAL_NOT | NOT_STRICTLY_FALSE, _) => Ty::Bool,
            (IN, [item, container]) => {
                self.contains(&args[0], item, &args[1], container);
                Ty::Bool
            }
            (EQUALS | NOT_EQUALS, [l, r]) => {
                self.equality(e, &args[0], l, &args[1], r);
                Ty::Bool
            }
            (LESS | LESS_EQUALS | GREATER | GREATER_EQUALS, [l, r]) => {
                self.ordering(e, &args[0], l, &args[1], r);
                Ty::Bool
            }
            (ADD | SUBSTRACT | MULTIPLY | DIVIDE | MODULO, [l, r]) => {
                self.arithmetic(e, f, &args[0], l, &args[1], r)
            }
            (NEGATE, [x]) => match x.kind() {
                Some(Kind::Double) => Ty::Num,
                Some(Kind::Int) => Ty::Int,
                _ => Ty::Dyn,
            },
            ("size", [x]) => {
                self.sized(&args[0], x);
                Ty::Int
            }
            ("fmt" | "fmt_bytes" | "fmt_duration" | "fmt_fixed" | "string", _) => Ty::Str,
            ("double" | "ramp" | "clamp", _) => Ty::Num,
            ("int" | "uint", _) => Ty::Int,
            ("bool" | "matches", _) => Ty::Bool,
            ("take", [list, _]) | ("sorted", [list]) => list.clone(),
            ("max" | "min" | "sum", [list]) => list.as_list().unwrap_or(Ty::Dyn),
            ("max" | "min", several) => several.iter().cloned().fold(Ty::Never, Ty::union),
            _ => Ty::Dyn,
        }
    }

    /// The types of a call's arguments; without allocating for the few most calls have.
    fn args(&mut self, args: &'e [IdedExpr]) -> Args {
        if args.len() > FEW {
            return Args::Many(args.iter().map(|x| self.expr(x)).collect());
        }
        let mut few: [Ty; FEW] = std::array::from_fn(|_| Ty::Never);
        for (slot, x) in few.iter_mut().zip(args) {
            *slot = self.expr(x);
        }
        Args::Few(few, args.len())
    }

    /// `target.f(args)`.
    fn method(&mut self, target_expr: &IdedExpr, target: &Ty, f: &str, args: &[Ty]) -> Ty {
        match (f, args) {
            ("orValue", [fallback]) => {
                let mut inner = Ty::Never;
                for m in target.members() {
                    match m {
                        Ty::Opt(t) => inner = inner.union(t.as_ref().clone()),
                        _ => return Ty::Dyn,
                    }
                }
                inner.union(fallback.clone())
            }
            ("value", []) => match target {
                Ty::Opt(t) => t.as_ref().clone(),
                _ => Ty::Dyn,
            },
            ("or", [other]) => target.clone().union(other.clone()),
            ("hasValue" | "contains" | "startsWith" | "endsWith" | "matches", _) => Ty::Bool,
            ("size", []) => {
                self.sized(target_expr, target);
                Ty::Int
            }
            (
                "join" | "lowerAscii" | "upperAscii" | "trim" | "replace" | "substring" | "charAt"
                | "format" | "quote" | "reverse",
                _,
            ) => Ty::Str,
            ("split", _) => Ty::List(Rc::new(Ty::Str)),
            ("indexOf" | "lastIndexOf", _) => Ty::Int,
            _ => Ty::Dyn,
        }
    }

    /// `m['k']`, `m[?'k']`, `x.?f`, `l[0]`.
    fn index(&mut self, e: &'e IdedExpr, call: &'e CallExpr) -> Ty {
        let f = call.func_name.as_str();
        let (operand_expr, key_expr) = (&call.args[0], &call.args[1]);
        let operand = self.expr(operand_expr);
        let optional = f != INDEX;
        let t = if let Ast::Literal(LiteralValue::String(k)) = &key_expr.expr {
            let anchor = if f == OPT_SELECT {
                Anchor::Field(k.inner().to_owned())
            } else {
                Anchor::Key
            };
            self.select(
                e,
                operand_expr,
                &operand,
                k.inner(),
                (key_expr.id, anchor),
                optional,
            )
        } else {
            let key = self.expr(key_expr);
            let mut item = Ty::Never;
            for m in operand.members() {
                if let Some(t) = m.as_list().or_else(|| m.as_map().map(|(v, _)| v)) {
                    item = item.union(t);
                    continue;
                }
                let t = match m {
                    Ty::Record(fields) => fields
                        .iter()
                        .map(|(_, t)| t.clone())
                        .fold(Ty::Never, Ty::union),
                    Ty::Null => continue,
                    _ => Ty::Dyn,
                };
                item = item.union(t);
            }
            if let Some(kind @ (Kind::Double | Kind::Str | Kind::Bool)) = operand.kind()
                && key.kind().is_some()
            {
                self.error(
                    anchor_of(operand_expr),
                    format!(
                        "`{}`: `{}` is {}, which cannot be indexed",
                        render(e),
                        render(operand_expr),
                        kind.describe()
                    ),
                );
                return Ty::Dyn;
            }
            item
        };
        if optional { Ty::Opt(Rc::new(t)) } else { t }
    }

    fn comprehension(&mut self, c: &'e ComprehensionExpr) -> Ty {
        let range = self.expr(&c.iter_range);
        let mut first = Ty::Never;
        let mut second = Ty::Never;
        for m in range.members() {
            if let Some(item) = m.as_list() {
                first = first.union(Ty::Int);
                second = second.union(item);
                continue;
            }
            if let Some((value, _)) = m.as_map() {
                first = first.union(Ty::Str);
                second = second.union(value);
                continue;
            }
            let (a, b) = match m {
                Ty::Record(fields) => (
                    Ty::Str,
                    fields
                        .iter()
                        .map(|(_, t)| t.clone())
                        .fold(Ty::Never, Ty::union),
                ),
                Ty::Object(_) => (Ty::Str, Ty::Dyn),
                Ty::Null | Ty::Never => continue,
                _ => (Ty::Dyn, Ty::Dyn),
            };
            first = first.union(a);
            second = second.union(b);
        }
        if let Some(kind @ (Kind::Double | Kind::Int | Kind::Str | Kind::Bool)) = range.kind() {
            self.error(
                anchor_of(&c.iter_range),
                format!(
                    "`{}` is {}: it has no elements to go through",
                    render(&c.iter_range),
                    kind.describe()
                ),
            );
        }
        let origin = Some(&c.iter_range);
        let n = self.bound.len();
        let init = self.expr(&c.accu_init);
        if let Some(v) = &c.iter_var2 {
            // `all(i, v, ...)`: the index or key, then the value.
            self.bind(&c.iter_var, first, None);
            self.bind(v, second, origin);
        } else {
            // One variable: a list's element, a map's key.
            let t = range
                .members()
                .map(|m| match m.as_list() {
                    Some(item) => item,
                    None if m.as_map().is_some() || matches!(m, Ty::Record(_) | Ty::Object(_)) => {
                        Ty::Str
                    }
                    None if matches!(m, Ty::Null | Ty::Never) => Ty::Never,
                    None => Ty::Dyn,
                })
                .fold(Ty::Never, Ty::union);
            let origin = range
                .members()
                .any(|m| m.as_list().is_some())
                .then_some(origin)
                .flatten();
            self.bind(&c.iter_var, t, origin);
        }
        self.bind(&c.accu_var, init.clone(), None);
        self.expr(&c.loop_cond);
        let step = self.expr(&c.loop_step);
        if let Some(accu) = self.bound.last_mut() {
            accu.ty = init.union(step);
        }
        let result = self.expr(&c.result);
        self.bound.truncate(n);
        result
    }

    fn bind(&mut self, name: &'e str, ty: Ty, element_of: Option<&'e IdedExpr>) {
        self.bound.push(Local {
            name,
            ty,
            element_of,
        });
    }

    /// `size(x)`: of a string, list or map.
    fn sized(&mut self, x_expr: &IdedExpr, x: &Ty) {
        if let Some(kind @ (Kind::Double | Kind::Int | Kind::Bool)) = x.kind() {
            self.error(
                anchor_of(x_expr),
                format!(
                    "`size({0})`: `{0}` is {1}, which has no size",
                    render(x_expr),
                    kind.describe()
                ),
            );
        }
    }

    /// `'key' in m`: a literal key of a map with known keys is checked as if read.
    fn contains(&mut self, item_expr: &IdedExpr, _item: &Ty, map_expr: &IdedExpr, map: &Ty) {
        let Ast::Literal(LiteralValue::String(k)) = &item_expr.expr else {
            return;
        };
        for m in map.members() {
            if let Some((_, keys)) = m.as_map() {
                self.key(map_expr, keys, k.inner(), &(item_expr.id, Anchor::Key));
            }
        }
    }

    fn equality(&mut self, e: &IdedExpr, le: &IdedExpr, l: &Ty, re: &IdedExpr, r: &Ty) {
        for (x_expr, x, y_expr) in [(le, l, re), (re, r, le)] {
            if let (Some(values), Ast::Literal(LiteralValue::String(s))) =
                (x.enum_values(), &y_expr.expr)
                && !values.contains(&s.inner())
            {
                let near = distance::nearest(s.inner(), values.iter().copied(), 2)
                    .map(|(n, _)| format!("; did you mean `{n}`?"))
                    .unwrap_or_default();
                self.error(
                    (y_expr.id, Anchor::Key),
                    format!(
                        "`{}`: `{}` is one of {}: never `{}`{near}",
                        render(e),
                        render(x_expr),
                        values
                            .iter()
                            .map(|v| format!("`{v}`"))
                            .collect::<Vec<_>>()
                            .join(", "),
                        s.inner()
                    ),
                );
                return;
            }
        }
        if let (Some(a), Some(b)) = (l.kind(), r.kind())
            && ((a == Kind::Str && b.is_number()) || (a.is_number() && b == Kind::Str))
        {
            let (s, n) = if a == Kind::Str { (le, re) } else { (re, le) };
            self.error(
                anchor_of(s),
                format!(
                    "`{}`: `{}` is a string and `{}` a number: never equal",
                    render(e),
                    render(s),
                    render(n)
                ),
            );
        }
    }

    fn ordering(&mut self, e: &IdedExpr, le: &IdedExpr, l: &Ty, re: &IdedExpr, r: &Ty) {
        let (Some(a), Some(b)) = (l.kind(), r.kind()) else {
            return;
        };
        let comparable = (a.is_number() && b.is_number())
            || (a == b && matches!(a, Kind::Str | Kind::Bool | Kind::Bytes));
        if !comparable {
            let (x, y) = if a.is_number() { (re, le) } else { (le, re) };
            let (kx, ky) = if a.is_number() { (b, a) } else { (a, b) };
            self.error(
                anchor_of(x),
                format!(
                    "`{}`: `{}` is {} and `{}` {}: they cannot be compared",
                    render(e),
                    render(x),
                    kx.describe(),
                    render(y),
                    ky.describe()
                ),
            );
        }
    }

    fn arithmetic(
        &mut self,
        e: &IdedExpr,
        op: &str,
        le: &IdedExpr,
        l: &Ty,
        re: &IdedExpr,
        r: &Ty,
    ) -> Ty {
        let symbol = operator(op);
        let (a, b) = (l.kind(), r.kind());
        // `+` joins strings and lists too.
        if op == ADD {
            match (a, b) {
                (Some(Kind::Str), Some(Kind::Str)) => return Ty::Str,
                (Some(Kind::List), Some(Kind::List)) => return l.clone().union(r.clone()),
                _ => {}
            }
        }
        // An operand certainly not a number, when the other is certainly one: a string
        // added to a number, a number times a list.
        for (x, kx, ky) in [(le, a, b), (re, b, a)] {
            if let Some(k) = kx
                && !k.is_number()
                && (op != ADD
                    || ky.is_some_and(Kind::is_number)
                    || matches!(k, Kind::Bool | Kind::Map))
            {
                self.error(
                    anchor_of(x),
                    format!(
                        "`{}`: `{}` is {}; `{symbol}` needs numbers",
                        render(e),
                        render(x),
                        k.describe()
                    ),
                );
                return Ty::Dyn;
            }
        }
        match (a, b) {
            (Some(Kind::Double), Some(Kind::Double)) => Ty::Num,
            (Some(Kind::Int), Some(Kind::Int)) => Ty::Int,
            (Some(Kind::Double), Some(Kind::Int)) | (Some(Kind::Int), Some(Kind::Double)) => {
                let int = if a == Some(Kind::Int) { le } else { re };
                let fix = match &int.expr {
                    Ast::Literal(LiteralValue::Int(i)) => format!("write `{}.0`", i.inner()),
                    _ => format!("write `double({})`", render(int)),
                };
                self.error(
                    anchor_of(int),
                    format!(
                        "`{}`: CEL does not mix an int (`{}`) with a double (every snapshot \
                         number) in `{symbol}`; {fix}",
                        render(e),
                        render(int)
                    ),
                );
                Ty::Dyn
            }
            _ => Ty::Dyn,
        }
    }
}

/// How many arguments a call has without its types being put on the heap.
const FEW: usize = 4;

enum Args {
    Few([Ty; FEW], usize),
    Many(Vec<Ty>),
}

impl Args {
    fn as_slice(&self) -> &[Ty] {
        match self {
            Args::Few(a, n) => &a[..*n],
            Args::Many(v) => v,
        }
    }
}

/// Where an expression's problem is shown: a path's last name, an identifier, or the node.
fn anchor_of(e: &IdedExpr) -> (u64, Anchor) {
    match &e.expr {
        Ast::Ident(_) => (e.id, Anchor::Ident),
        Ast::Select(s) => (e.id, Anchor::Field(s.field.clone())),
        Ast::Call(c) if c.target.is_none() && c.args.len() == 2 => {
            match (c.func_name.as_str(), &c.args[1].expr) {
                (OPT_SELECT, Ast::Literal(LiteralValue::String(f))) => {
                    (c.args[1].id, Anchor::Field(f.inner().to_owned()))
                }
                (INDEX | OPT_INDEX, Ast::Literal(LiteralValue::String(_))) => {
                    (c.args[1].id, Anchor::Key)
                }
                _ => (e.id, Anchor::Node),
            }
        }
        _ => (e.id, Anchor::Node),
    }
}

fn operator(f: &str) -> &str {
    match f {
        ADD => "+",
        SUBSTRACT => "-",
        MULTIPLY => "*",
        DIVIDE => "/",
        MODULO => "%",
        EQUALS => "==",
        NOT_EQUALS => "!=",
        LESS => "<",
        LESS_EQUALS => "<=",
        GREATER => ">",
        GREATER_EQUALS => ">=",
        LOGICAL_AND => "&&",
        LOGICAL_OR => "||",
        IN => "in",
        other => other,
    }
}

/// `operand.name` (or `operand['name']` for a name that is not an identifier).
fn with_last(operand: &IdedExpr, name: &str) -> String {
    let base = render(operand);
    if !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit())
    {
        format!("{base}.{name}")
    } else {
        format!("{base}['{name}']")
    }
}

/// A selection as written, without the `has()` around it.
fn render_path(e: &IdedExpr) -> String {
    match &e.expr {
        Ast::Select(s) if s.test => format!("{}.{}", render(&s.operand), s.field),
        _ => render(e),
    }
}

/// An expression as a rule author would write it, shortened: paths in full, other parts as `…`.
pub(crate) fn render(e: &IdedExpr) -> String {
    let text = render_full(e, 0);
    if text.chars().count() > 80 {
        let cut: String = text.chars().take(77).collect();
        format!("{cut}…")
    } else {
        text
    }
}

fn render_full(e: &IdedExpr, depth: usize) -> String {
    if depth > 12 {
        return "…".into();
    }
    let r = |x: &IdedExpr| render_full(x, depth + 1);
    match &e.expr {
        Ast::Ident(name) => name.clone(),
        Ast::Select(s) if s.test => format!("has({}.{})", r(&s.operand), s.field),
        Ast::Select(s) => format!("{}.{}", r(&s.operand), s.field),
        Ast::Literal(l) => match l {
            LiteralValue::String(s) => format!("'{}'", s.inner()),
            LiteralValue::Int(i) => i.inner().to_string(),
            LiteralValue::UInt(u) => format!("{}u", u.inner()),
            LiteralValue::Double(d) => {
                let d = d.inner();
                if d.fract() == 0.0 && d.abs() < 1e15 {
                    format!("{d:.1}")
                } else {
                    d.to_string()
                }
            }
            LiteralValue::Boolean(b) => b.inner().to_string(),
            LiteralValue::Null => "null".into(),
            LiteralValue::Bytes(_) => "b'…'".into(),
        },
        Ast::Call(c) => {
            let f = c.func_name.as_str();
            match (&c.target, f, c.args.as_slice()) {
                (None, OPT_SELECT, [o, k]) => match &k.expr {
                    Ast::Literal(LiteralValue::String(s)) => format!("{}.?{}", r(o), s.inner()),
                    _ => format!("{}.?…", r(o)),
                },
                (None, INDEX, [o, k]) => format!("{}[{}]", r(o), r(k)),
                (None, OPT_INDEX, [o, k]) => format!("{}[?{}]", r(o), r(k)),
                (None, LOGICAL_NOT, [x]) => format!("!{}", r(x)),
                (None, NEGATE, [x]) => format!("-{}", r(x)),
                (None, CONDITIONAL, [a, b, c]) => format!("{} ? {} : {}", r(a), r(b), r(c)),
                (None, _, [a, b]) if operator(f) != f => {
                    format!("{} {} {}", r(a), operator(f), r(b))
                }
                (Some(t), _, args) => format!("{}.{f}({})", r(t), list(args, &r)),
                (None, _, args) => format!("{f}({})", list(args, &r)),
            }
        }
        Ast::List(l) => format!("[{}]", list(&l.elements, &r)),
        Ast::Comprehension(c) => format!("{}.…", r(&c.iter_range)),
        Ast::Map(_) | Ast::Struct(_) => "{…}".into(),
        Ast::Unspecified => "…".into(),
    }
}

fn list(items: &[IdedExpr], r: &dyn Fn(&IdedExpr) -> String) -> String {
    items.iter().map(r).collect::<Vec<_>>().join(", ")
}
