//! No two files of `src/` import each other, directly or round a longer circle (STYLE.md: a
//! file you cannot read without the file that reads it back is two jobs tangled).
//!
//! A file depends on another when it names an item defined there: in a `use` (`crate::`,
//! `super::`, `self::` or a child module; `pub use` re-exports included) or in a path written in
//! the code (`super::tcp::combine(..)`, `cpu::begin` in the parent that declares `mod cpu`),
//! macro arguments included. A name is followed through re-exports to the file that defines it,
//! so `use super::Counter` in `snapshot/mysql.rs` depends on `snapshot/counter.rs`, not on the
//! `mod.rs` that re-exports it: a `mod.rs` may re-export and orchestrate its children as long as
//! none of them needs something defined in it. Test code (`#[cfg(test)]` items and files) is
//! left out: a unit test may use the API assembled above it. A method called on a type whose
//! `impl` block sits in another file is not an import and is not seen.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::Path;
use syn::visit::{self, Visit};

#[test]
fn no_file_imports_a_file_that_imports_it_back() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths = Vec::new();
    rust_files(&root.join("src"), &mut paths);
    let sources: Vec<(String, String)> = paths
        .iter()
        .map(|p| {
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            (rel, std::fs::read_to_string(p).unwrap())
        })
        .filter(|(rel, _)| rel != "src/main.rs")
        .collect();
    let graph = Graph::of(&sources);
    // A check that reads nothing passes whatever the layout: make sure it sees the imports.
    assert!(
        graph.edges.len() > 100,
        "only {} imports between files found: the check's reading of the source is broken",
        graph.edges.len()
    );
    let tangles = graph.tangles();
    assert!(
        tangles.is_empty(),
        "files that import each other (move what both need to a file of its own, or make one \
         side hand the other what it needs):\n\n{}",
        tangles.join("\n\n")
    );
}

#[test]
fn a_child_needing_its_parents_item_is_a_circle_a_re_export_is_not() {
    let files = |list: &[(&str, &str)]| -> Vec<(String, String)> {
        list.iter()
            .map(|(p, t)| ((*p).to_owned(), (*t).to_owned()))
            .collect()
    };
    let tangled = files(&[
        ("src/lib.rs", "pub mod a;"),
        (
            "src/a/mod.rs",
            "mod b;\npub struct Options;\npub fn run() { println!(\"{:?}\", b::go()); }",
        ),
        (
            "src/a/b.rs",
            "use super::Options; // crate::a::c\npub fn go() {}",
        ),
    ]);
    let tangles = Graph::of(&tangled).tangles();
    assert_eq!(tangles.len(), 1, "{tangles:?}");
    assert!(tangles[0].contains("src/a/b.rs `super::Options` → src/a/mod.rs"));
    assert!(tangles[0].contains("src/a/mod.rs `b::go` → src/a/b.rs"));

    let untangled = files(&[
        ("src/lib.rs", "pub mod a;"),
        (
            "src/a/mod.rs",
            "mod b;\nmod options;\npub use options::Options;\npub fn run() { b::go(); }",
        ),
        ("src/a/options.rs", "pub struct Options;"),
        (
            "src/a/b.rs",
            "use super::Options;\npub fn go() {}\n#[cfg(test)]\nmod tests { use crate::a::run; }",
        ),
    ]);
    let graph = Graph::of(&untangled);
    assert_eq!(graph.tangles(), Vec::<String>::new());
    assert_eq!(graph.edges.len(), 3, "{:?}", graph.edges);
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// `src/a/b.rs` and `src/a/b/mod.rs` → `["a", "b"]`; `src/lib.rs` → `[]`.
fn module_of(rel: &str) -> Vec<String> {
    let rel = rel.trim_start_matches("src/").trim_end_matches(".rs");
    let mut parts: Vec<String> = rel.split('/').map(str::to_owned).collect();
    if parts == ["lib"] || parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

/// A path named somewhere in a file: as written, in which (inline) module, in a `use` or not.
#[derive(Debug)]
struct Named {
    path: Vec<String>,
    module: Vec<String>,
    in_use: bool,
}

/// What one file defines, brings in and names, test code left out.
#[derive(Debug, Default)]
struct File {
    module: Vec<String>,
    /// Its top level's items, `mod`s included.
    defined: HashSet<String>,
    /// Names its top level brings in with `use`, with the path as written.
    aliases: HashMap<String, Vec<String>>,
    /// Its top level's `use path::*`.
    globs: Vec<Vec<String>>,
    /// Modules declared in it (`mod x;`, `mod x { … }`), by the module they are declared in.
    children: HashMap<Vec<String>, HashSet<String>>,
    /// Child files declared only for tests.
    test_children: HashSet<String>,
    named: Vec<Named>,
}

/// Walks one file's syntax tree into a [`File`].
struct Reader {
    file: File,
    /// The module being read (the file's, or an inline one inside it).
    module: Vec<String>,
    /// Inside a function body or a block: `use` there names, but brings nothing into the module.
    in_body: usize,
}

fn is_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && matches!(&a.meta, syn::Meta::List(l) if l.tokens.to_string() == "test")
    })
}

fn item_attrs_and_name(item: &syn::Item) -> (&[syn::Attribute], Option<String>) {
    use syn::Item as I;
    let (attrs, ident) = match item {
        I::Const(i) => (&i.attrs[..], Some(&i.ident)),
        I::Enum(i) => (&i.attrs[..], Some(&i.ident)),
        I::Fn(i) => (&i.attrs[..], Some(&i.sig.ident)),
        I::Macro(i) => (&i.attrs[..], i.ident.as_ref()),
        I::Mod(i) => (&i.attrs[..], Some(&i.ident)),
        I::Static(i) => (&i.attrs[..], Some(&i.ident)),
        I::Struct(i) => (&i.attrs[..], Some(&i.ident)),
        I::Trait(i) => (&i.attrs[..], Some(&i.ident)),
        I::Type(i) => (&i.attrs[..], Some(&i.ident)),
        I::Union(i) => (&i.attrs[..], Some(&i.ident)),
        I::Impl(i) => (&i.attrs[..], None),
        I::Use(i) => (&i.attrs[..], None),
        _ => (&[][..], None),
    };
    (attrs, ident.map(ToString::to_string))
}

/// Every leaf of a `use` tree: its path, and the name it brings in (`None`: a glob or `as _`).
fn use_leaves(tree: &syn::UseTree, prefix: &mut Vec<String>, out: &mut Vec<UseLeaf>) {
    let leaf = |prefix: &[String], ident: &syn::Ident| -> Vec<String> {
        let mut path = prefix.to_vec();
        if ident != "self" {
            path.push(ident.to_string());
        }
        path
    };
    match tree {
        syn::UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            use_leaves(&p.tree, prefix, out);
            prefix.pop();
        }
        syn::UseTree::Name(n) => {
            let path = leaf(prefix, &n.ident);
            let name = path.last().cloned();
            out.push((path, name));
        }
        syn::UseTree::Rename(r) => {
            let name = (r.rename != "_").then(|| r.rename.to_string());
            out.push((leaf(prefix, &r.ident), name));
        }
        syn::UseTree::Glob(_) => out.push((prefix.clone(), None)),
        syn::UseTree::Group(g) => {
            for t in &g.items {
                use_leaves(t, prefix, out);
            }
        }
    }
}

type UseLeaf = (Vec<String>, Option<String>);

impl Reader {
    fn name(&mut self, path: Vec<String>, in_use: bool) {
        self.file.named.push(Named {
            path,
            module: self.module.clone(),
            in_use,
        });
    }

    /// `a::b::c` sequences in a macro's tokens (`format!("{}", super::x(..))`).
    fn macro_paths(&mut self, tokens: proc_macro2::TokenStream) {
        use proc_macro2::TokenTree as T;
        let t: Vec<T> = tokens.into_iter().collect();
        let colons = |i: usize| {
            matches!((t.get(i), t.get(i + 1)), (Some(T::Punct(a)), Some(T::Punct(b)))
                if a.as_char() == ':' && b.as_char() == ':')
        };
        let mut i = 0;
        while i < t.len() {
            match &t[i] {
                T::Group(g) => self.macro_paths(g.stream()),
                T::Ident(first) if i < 2 || !colons(i - 2) => {
                    let mut path = vec![first.to_string()];
                    while colons(i + 1) {
                        let Some(T::Ident(next)) = t.get(i + 3) else {
                            break;
                        };
                        path.push(next.to_string());
                        i += 3;
                    }
                    if path.len() > 1 {
                        self.name(path, false);
                    }
                }
                _ => {}
            }
            i += 1;
        }
    }
}

impl<'ast> Visit<'ast> for Reader {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        let (attrs, name) = item_attrs_and_name(item);
        let top = self.in_body == 0 && self.module == self.file.module;
        if is_test(attrs) {
            if let (syn::Item::Mod(m), true) = (item, top) {
                self.file.test_children.insert(m.ident.to_string());
            }
            return;
        }
        if let (Some(name), true) = (name, top) {
            self.file.defined.insert(name);
        }
        match item {
            syn::Item::Use(u) => {
                let mut leaves = Vec::new();
                if u.leading_colon.is_none() {
                    use_leaves(&u.tree, &mut Vec::new(), &mut leaves);
                }
                for (path, name) in leaves {
                    if top {
                        match &name {
                            Some(n) => {
                                self.file.aliases.insert(n.clone(), path.clone());
                            }
                            None => self.file.globs.push(path.clone()),
                        }
                    }
                    self.name(path, true);
                }
            }
            syn::Item::Mod(m) if self.in_body == 0 => {
                let module = self.module.clone();
                let name = m.ident.to_string();
                self.file
                    .children
                    .entry(module)
                    .or_default()
                    .insert(name.clone());
                if let Some((_, items)) = &m.content {
                    self.module.push(name);
                    for i in items {
                        self.visit_item(i);
                    }
                    self.module.pop();
                }
            }
            _ => visit::visit_item(self, item),
        }
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        if !is_test(&f.attrs) {
            visit::visit_impl_item_fn(self, f);
        }
    }

    fn visit_block(&mut self, b: &'ast syn::Block) {
        self.in_body += 1;
        visit::visit_block(self, b);
        self.in_body -= 1;
    }

    fn visit_path(&mut self, p: &'ast syn::Path) {
        if p.leading_colon.is_none() && p.segments.len() > 1 {
            let path = p.segments.iter().map(|s| s.ident.to_string()).collect();
            self.name(path, false);
        }
        visit::visit_path(self, p);
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        self.macro_paths(m.tokens.clone());
        visit::visit_macro(self, m);
    }
}

/// The files, and which depends on which with the first path that says so.
struct Graph {
    names: Vec<String>,
    edges: BTreeMap<(usize, usize), String>,
}

impl Graph {
    fn of(sources: &[(String, String)]) -> Graph {
        let files: Vec<File> = sources
            .iter()
            .map(|(rel, text)| {
                let syntax = syn::parse_file(text).unwrap_or_else(|e| panic!("{rel}: {e}"));
                let module = module_of(rel);
                let mut reader = Reader {
                    file: File {
                        module: module.clone(),
                        ..File::default()
                    },
                    module,
                    in_body: 0,
                };
                reader.visit_file(&syntax);
                reader.file
            })
            .collect();
        let test_files: HashSet<Vec<String>> = files
            .iter()
            .flat_map(|f| f.test_children.iter().map(|c| child(&f.module, c)))
            .collect();
        let resolver = Resolver {
            by_module: files
                .iter()
                .enumerate()
                .map(|(i, f)| (f.module.clone(), i))
                .collect(),
            files: &files,
        };
        let mut edges = BTreeMap::new();
        for (from, f) in files.iter().enumerate() {
            if test_files.contains(&f.module) {
                continue;
            }
            for n in &f.named {
                let to = absolute(f, &n.module, &n.path, n.in_use)
                    .and_then(|abs| resolver.resolve(&abs, 0));
                if let Some(to) = to.filter(|to| *to != from) {
                    edges.entry((from, to)).or_insert_with(|| n.path.join("::"));
                }
            }
        }
        Graph {
            names: sources.iter().map(|(rel, _)| rel.clone()).collect(),
            edges,
        }
    }

    /// Each group of files that reach each other, with every import among them.
    fn tangles(&self) -> Vec<String> {
        let n = self.names.len();
        let reach: Vec<HashSet<usize>> = (0..n)
            .map(|start| {
                let mut seen = HashSet::new();
                let mut todo = vec![start];
                while let Some(v) = todo.pop() {
                    for (&(_, to), _) in self.edges.range((v, 0)..(v + 1, 0)) {
                        if seen.insert(to) {
                            todo.push(to);
                        }
                    }
                }
                seen
            })
            .collect();
        let mut placed = HashSet::new();
        let mut out = Vec::new();
        for a in 0..n {
            let group: BTreeSet<usize> = (0..n)
                .filter(|&b| b != a && reach[a].contains(&b) && reach[b].contains(&a))
                .chain([a])
                .collect();
            if group.len() < 2 || !placed.insert(a) {
                continue;
            }
            placed.extend(group.iter().copied());
            let files: Vec<&str> = group.iter().map(|&i| self.names[i].as_str()).collect();
            let imports: Vec<String> = self
                .edges
                .iter()
                .filter(|((a, b), _)| group.contains(a) && group.contains(b))
                .map(|((a, b), path)| format!("  {} `{path}` → {}", self.names[*a], self.names[*b]))
                .collect();
            out.push(format!("{}:\n{}", files.join(", "), imports.join("\n")));
        }
        out
    }
}

fn child(module: &[String], name: &str) -> Vec<String> {
    let mut m = module.to_vec();
    m.push(name.to_owned());
    m
}

/// `path` as written in `module` of file `f`, from the crate root; `None` when it leaves the
/// crate (`std::`, `serde::`, an enum's variant...).
fn absolute(f: &File, module: &[String], path: &[String], in_use: bool) -> Option<Vec<String>> {
    let (first, rest) = path.split_first()?;
    let mut abs = match first.as_str() {
        "crate" => Vec::new(),
        "self" => module.to_vec(),
        "super" => {
            let mut m = module.to_vec();
            m.pop()?;
            let mut rest = rest;
            while rest.first().is_some_and(|s| s == "super") {
                m.pop()?;
                rest = &rest[1..];
            }
            m.extend(rest.iter().cloned());
            return Some(m);
        }
        name if f.children.get(module).is_some_and(|c| c.contains(name)) => child(module, name),
        // A name a `use` of the file brought in, then used as a path (`engine::analyze`).
        name if !in_use && module == f.module.as_slice() => {
            let mut abs = absolute(f, module, f.aliases.get(name)?, true)?;
            abs.extend(rest.iter().cloned());
            return Some(abs);
        }
        _ => return None,
    };
    abs.extend(rest.iter().cloned());
    Some(abs)
}

struct Resolver<'a> {
    files: &'a [File],
    by_module: HashMap<Vec<String>, usize>,
}

impl Resolver<'_> {
    /// The file of the longest prefix of `abs` that is a file's module, and what follows.
    fn file_of<'p>(&self, abs: &'p [String]) -> Option<(usize, &'p [String])> {
        (0..=abs.len())
            .rev()
            .find_map(|k| self.by_module.get(&abs[..k]).map(|&f| (f, &abs[k..])))
    }

    /// The file that defines what `abs` names, through re-exports.
    fn resolve(&self, abs: &[String], depth: usize) -> Option<usize> {
        let (file, rest) = self.file_of(abs)?;
        let f = &self.files[file];
        let Some(name) = rest.first() else {
            return Some(file);
        };
        if depth > 16 || f.defined.contains(name) {
            return Some(file);
        }
        if let Some(path) = f.aliases.get(name) {
            // `None`: re-exported from outside the crate.
            let mut target = absolute(f, &f.module, path, true)?;
            target.extend(rest[1..].iter().cloned());
            return self.resolve(&target, depth + 1);
        }
        for glob in &f.globs {
            let Some(mut target) = absolute(f, &f.module, glob, true) else {
                continue;
            };
            target.extend(rest.iter().cloned());
            let found = self.file_of(&target).is_some_and(|(g, more)| {
                more.first().is_none_or(|n| {
                    self.files[g].defined.contains(n) || self.files[g].aliases.contains_key(n)
                })
            });
            if found {
                return self.resolve(&target, depth + 1);
            }
        }
        // Not found (a variant of an enum brought in by a glob, say): the module's own file.
        Some(file)
    }
}
