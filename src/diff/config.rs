//! The configuration facts of one snapshot that bound performance — what a laptop and a server
//! differ in before any load arrives — and the ones that differ between two snapshots.

use crate::snapshot::Snapshot;
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::BTreeMap;

/// The MySQL variables that change throughput or latency on their own (pt-mysql-summary's and
/// MySQLTuner's short lists): connection limits, the buffer pool, durability and caches.
const MYSQL_VARIABLES: &[&str] = &[
    "max_connections",
    "innodb_buffer_pool_size",
    "innodb_buffer_pool_instances",
    "innodb_flush_log_at_trx_commit",
    "sync_binlog",
    "innodb_log_file_size",
    "innodb_redo_log_capacity",
    "innodb_flush_method",
    "innodb_io_capacity",
    "innodb_doublewrite",
    "thread_cache_size",
    "table_open_cache",
    "tmp_table_size",
    "max_heap_table_size",
    "wait_timeout",
    "open_files_limit",
    "log_bin",
    "performance_schema",
    "thread_handling",
];

/// One configuration fact on both sides. Absent means the snapshot does not say (a section
/// skipped, an import that did not show it), which is shown as such, never as a value.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ConfigChange {
    /// What it is, as the user knows it (`net.core.somaxconn`, `mysql innodb_buffer_pool_size`).
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub a: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub b: Option<String>,
    /// Findings that hold on one side only and whose evidence, summary or fix reads this value: the
    /// configuration difference most likely to explain them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub explains: Vec<String>,
}

/// A fact's display name, the word a rule's evidence expression holds when it reads the fact
/// (matched against `Evidence::expr`), and its value.
pub(super) struct Fact {
    /// The snapshot section it comes from (`host` is always there).
    pub section: &'static str,
    pub name: String,
    pub needle: String,
    pub value: String,
}

/// Every configuration fact the snapshot holds, keyed by display name.
pub(super) fn facts(s: &Snapshot) -> BTreeMap<String, Fact> {
    let mut out = BTreeMap::new();
    host_facts(s, &mut out);
    service_facts(s, &mut out);
    out
}

/// A fact into `out` when the snapshot holds it.
fn put(
    out: &mut BTreeMap<String, Fact>,
) -> impl FnMut(&'static str, String, &str, Option<String>) + '_ {
    move |section: &'static str, name: String, needle: &str, value: Option<String>| {
        if let Some(value) = value {
            out.insert(
                name.clone(),
                Fact {
                    section,
                    name,
                    needle: needle.to_owned(),
                    value,
                },
            );
        }
    }
}

/// The machine: CPUs, memory, kernel, disks.
fn host_facts(s: &Snapshot, out: &mut BTreeMap<String, Fact>) {
    let mut put = put(out);
    let h = &s.host;
    put("host", "cpus".into(), "cpus", h.cpus.map(|c| c.to_string()));
    put(
        "host",
        "memory".into(),
        "memory_bytes",
        h.memory_bytes.map(bytes),
    );
    put("host", "kernel".into(), "kernel", h.kernel.clone());
    put("host", "os".into(), "host.os", h.os.clone());
    put(
        "host",
        "virtualization".into(),
        "virtualization",
        h.virtualization.clone(),
    );
    put(
        "host",
        "runs in container".into(),
        "host.container",
        h.container.clone(),
    );
    if let Some(d) = s.disks.get() {
        for disk in &d.devices {
            put(
                "disks",
                format!("disk {} kind", disk.name),
                "",
                disk.kind.clone(),
            );
            put(
                "disks",
                format!("disk {} rotational", disk.name),
                "rotational",
                disk.rotational.map(|r| r.to_string()),
            );
            put(
                "disks",
                format!("disk {} size", disk.name),
                "size_bytes",
                disk.size_bytes.map(bytes),
            );
        }
    }
}

/// The services' limits: TCP sysctls, MySQL variables, containers' cgroup limits.
fn service_facts(s: &Snapshot, out: &mut BTreeMap<String, Fact>) {
    let mut put = put(out);
    if let Some(t) = s.tcp.get() {
        for (k, v) in &t.sysctls {
            put("tcp", k.clone(), k, Some(v.to_string()));
        }
        if let Some(c) = &t.conntrack {
            put(
                "tcp",
                "net.netfilter.nf_conntrack_max".into(),
                "conntrack.max",
                Some(c.max.to_string()),
            );
        }
    }
    if let Some(m) = s.mysql.get() {
        put(
            "mysql",
            "mysql version".into(),
            "mysql.version",
            m.version.clone(),
        );
        for name in MYSQL_VARIABLES {
            put(
                "mysql",
                format!("mysql {name}"),
                name,
                m.variables.get(*name).map(|v| match v.as_f64() {
                    // Sizes read better as sizes: 128 MiB against 6 MiB.
                    Some(n) if name.ends_with("_size") && n >= 0.0 => bytes(n as u64),
                    _ => v.to_string(),
                }),
            );
        }
    }
    if let Some(c) = s.containers.get() {
        // One line per container: a container on one side only is one difference, not three.
        for k in &c.containers {
            let cg = k.cgroup.as_ref();
            // No cgroup read (a pasted `docker stats`, or one doctor could not read): the limit
            // is unknown, not absent.
            let cpu = match cg {
                None => "cpu limit unknown".to_owned(),
                Some(g) => g.cpu_limit_cores.map_or_else(
                    || "no cpu limit".to_owned(),
                    |c| format!("cpu limit {c} cores"),
                ),
            };
            let mem = cg
                .and_then(|g| g.memory_limit_bytes)
                .or(k.memory_limit_bytes)
                .map_or_else(
                    || "no memory limit".to_owned(),
                    |m| format!("memory limit {}", bytes(m)),
                );
            put(
                "containers",
                format!("container {}", k.name),
                // A finding about a container names it.
                &k.name,
                Some(format!(
                    "{}, {cpu}, {mem}",
                    k.image.as_deref().unwrap_or("image unknown")
                )),
            );
        }
    }
}

/// The facts that differ (or all of them with `all`), with the differing findings whose
/// evidence reads each. `evidence` is, per differing finding id, its evidence expressions.
pub(super) fn compare(
    a: &Snapshot,
    b: &Snapshot,
    evidence: &[(String, Vec<String>)],
    all: bool,
) -> (Vec<ConfigChange>, usize) {
    // A section read on one side only is one line, not one per value it would have held.
    let (sa, sb) = (sections(a), sections(b));
    let one_sided: Vec<&str> = sa
        .iter()
        .zip(&sb)
        .filter(|((_, x), (_, y))| x.is_none() != y.is_none())
        .map(|((name, _), _)| *name)
        .collect();
    let mut out: Vec<ConfigChange> = sa
        .iter()
        .zip(&sb)
        .filter(|((name, _), _)| one_sided.contains(name))
        .map(|((name, x), (_, y))| ConfigChange {
            name: format!("{name} section"),
            a: Some(x.clone().unwrap_or_else(|| "read".to_owned())),
            b: Some(y.clone().unwrap_or_else(|| "read".to_owned())),
            explains: Vec::new(),
        })
        .collect();
    let keep = |f: &Fact| !one_sided.contains(&f.section);
    let fa: BTreeMap<String, Fact> = facts(a).into_iter().filter(|(_, f)| keep(f)).collect();
    let fb: BTreeMap<String, Fact> = facts(b).into_iter().filter(|(_, f)| keep(f)).collect();
    let mut names: Vec<&String> = fa.keys().chain(fb.keys()).collect();
    names.sort();
    names.dedup();
    let mut equal = 0;
    for name in names {
        let (x, y) = (fa.get(name), fb.get(name));
        let same = x.map(|f| &f.value) == y.map(|f| &f.value);
        if same {
            equal += 1;
            if !all {
                continue;
            }
        }
        let needle = x.or(y).map_or("", |f| f.needle.as_str());
        let explains = if same {
            Vec::new()
        } else {
            evidence
                .iter()
                .filter(|(_, exprs)| exprs.iter().any(|e| reads(e, needle)))
                .map(|(id, _)| id.clone())
                .collect()
        };
        out.push(ConfigChange {
            name: x.or(y).map_or_else(|| name.clone(), |f| f.name.clone()),
            a: x.map(|f| f.value.clone()),
            b: y.map(|f| f.value.clone()),
            explains,
        });
    }
    // Those that explain a differing finding first; then by name (already sorted, stable).
    out.sort_by_key(|c| std::cmp::Reverse(c.explains.len()));
    (out, equal)
}

/// Each compared section's name and, when it holds no data, why (`skipped: no MySQL server
/// found`); `None` when it was read.
pub(super) fn sections(s: &Snapshot) -> Vec<(&'static str, Option<String>)> {
    fn state<T>(s: &crate::snapshot::Section<T>) -> Option<String> {
        if s.get().is_some() {
            None
        } else {
            Some(match &s.message {
                // The first clause says why; the rest is advice for the live run.
                Some(m) => format!(
                    "{}: {}",
                    s.status.as_str(),
                    m.split(';').next().unwrap_or(m).trim()
                ),
                None => s.status.as_str().to_owned(),
            })
        }
    }
    vec![
        ("cpu", state(&s.cpu)),
        ("memory", state(&s.memory)),
        ("disks", state(&s.disks)),
        ("tcp", state(&s.tcp)),
        ("mysql", state(&s.mysql)),
        ("containers", state(&s.containers)),
    ]
}

/// Whether an evidence expression reads the fact: the fact's name appears in it as a whole
/// word (so `cpus` does not match `online_cpus`).
fn reads(expr: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return false;
    }
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    expr.match_indices(needle).any(|(i, _)| {
        let before = expr[..i].chars().next_back();
        let after = expr[i + needle.len()..].chars().next();
        !before.is_some_and(word) && !after.is_some_and(word)
    })
}

/// Bytes as a person reads a memory size: `128 MiB`, exact when it divides.
pub(super) fn bytes(n: u64) -> String {
    const UNITS: &[(&str, u64)] = &[("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)];
    for (unit, size) in UNITS {
        if n >= *size {
            return if n % size == 0 {
                format!("{} {unit}", n / size)
            } else {
                format!("{:.1} {unit}", n as f64 / *size as f64)
            };
        }
    }
    format!("{n} B")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_read_only_as_a_whole_word() {
        assert!(reads("host.cpus * 2", "cpus"));
        assert!(!reads("c.online_cpus", "cpus"));
        assert!(reads(
            "tcp.sysctls[\"net.core.somaxconn\"]",
            "net.core.somaxconn"
        ));
        assert!(reads(
            "mysql.variables.innodb_buffer_pool_size",
            "innodb_buffer_pool_size"
        ));
        assert!(!reads("anything", ""));
    }

    #[test]
    fn sizes_read_like_memory() {
        assert_eq!(bytes(134_217_728), "128 MiB");
        assert_eq!(bytes(6_291_456), "6 MiB");
        assert_eq!(bytes(25_276_182_528), "23.5 GiB");
        assert_eq!(bytes(512), "512 B");
    }
}
