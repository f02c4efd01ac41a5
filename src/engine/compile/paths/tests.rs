//! The load-time check as a rule author meets it: the exact message and where it points, for
//! each kind of mistake, and the dynamic forms it must let through.

use crate::engine::compile::{Catalogue, LogNames};
use crate::engine::rules::Source;

/// A rule file whose line 7 is `body`'s first line.
fn rule(body: &str) -> Source {
    Source {
        path: "d/x.toml".into(),
        text: format!(
            "id = \"x\"\ntitle = \"t\"\nlayer = \"cpu\"\nkind = \"root-cause\"\nsummary = \"s\"\nfix = \"f\"\n{body}"
        ),
        doc: None,
        builtin: false,
    }
}

fn error(body: &str) -> String {
    Catalogue::from_sources(&[rule(body)])
        .expect_err("the rule is refused")
        .to_string()
}

fn notes(body: &str) -> Vec<String> {
    let c = Catalogue::from_sources(&[rule(body)]).unwrap_or_else(|e| panic!("{e}"));
    c.rules[0]
        .notes
        .iter()
        .map(|n| format!("{}{n}", if n.warning { "warning: " } else { "" }))
        .collect()
}

fn accepted(body: &str) {
    let n = notes(body);
    assert!(n.is_empty(), "{n:?}");
}

#[test]
fn a_nested_typo_names_the_path_and_the_nearest_field() {
    assert_eq!(
        error("when = \"cpu.busy_pctt > 90.0\"\nscore = \"1.0\"\n"),
        "d/x.toml:7:13: `when`: `cpu.busy_pctt` is not in the snapshot; did you mean `cpu.busy_pct`?"
    );
    // Deeper, through an `Option` and a map of objects, in a group's let.
    assert_eq!(
        error(
            "[[from]]\nname = \"g\"\nwhen = \"true\"\nscore = \"1.0\"\n[from.let]\n\
             w = \"mysql.storage.redo_log.sync_avg_mss\"\n"
        ),
        "d/x.toml:12:29: `from[g].let.w`: `mysql.storage.redo_log.sync_avg_mss` is not in the \
         snapshot; did you mean `mysql.storage.redo_log.sync_avg_ms`?"
    );
    // A top-level name.
    assert_eq!(
        error("when = \"cpux.busy_pct > 1.0\"\nscore = \"1.0\"\n"),
        "d/x.toml:7:9: `when`: `cpux` is not in the snapshot; did you mean `cpu`?"
    );
}

#[test]
fn a_list_element_has_the_element_s_fields() {
    assert_eq!(
        error(
            "when = \"disks.devices.filter(d, d.util_pctt > 90.0).size() > 0\"\nscore = \"1.0\"\n"
        ),
        "d/x.toml:7:35: `when`: `d.util_pctt` is not in the snapshot; did you mean \
         `d.util_pct`? (`d` is an element of `disks.devices`)"
    );
    assert_eq!(
        error("when = \"disks.devices.util_pct > 90.0\"\nscore = \"1.0\"\n"),
        "d/x.toml:7:23: `when`: `disks.devices.util_pct`: `disks.devices` is a list, which has \
         no field `util_pct`; read its elements (`disks.devices.exists(x, x.util_pct ...)`, \
         `disks.devices[0].util_pct`)"
    );
    // An element picked out of a list, through a `let`.
    assert_eq!(
        error(
            "when = \"worst.aqu_szz > 1.0\"\nscore = \"1.0\"\n[let]\n\
             worst = \"disks.devices.filter(d, d.util_pct > 90.0)[0]\"\n"
        ),
        "d/x.toml:7:15: `when`: `worst.aqu_szz` is not in the snapshot; did you mean `worst.aqu_sz`?"
    );
}

#[test]
fn a_let_bound_path_has_the_type_of_what_it_holds() {
    assert_eq!(
        error(
            "when = \"pl.idle_histogram.lt_1mm > 0.0\"\nscore = \"1.0\"\n[let]\n\
             pl = \"mysql.processlist\"\n"
        ),
        "d/x.toml:7:27: `when`: `pl.idle_histogram.lt_1mm` is not in the snapshot; did you mean \
         `pl.idle_histogram.lt_1m`? (`pl` is `mysql.processlist`)"
    );
    // A let of a let.
    assert_eq!(
        error(
            "when = \"h.ge_1hh > 0.0\"\nscore = \"1.0\"\n[let]\npl = \"mysql.processlist\"\n\
             h = \"pl.idle_histogram\"\n"
        ),
        "d/x.toml:7:11: `when`: `h.ge_1hh` is not in the snapshot; did you mean `h.ge_1h`? \
         (`h` is `mysql.processlist.idle_histogram`)"
    );
}

#[test]
fn a_status_variable_typo_is_refused_with_the_server_s_name() {
    assert_eq!(
        error("when = \"mysql.global_status.Threads_conected.total > 1.0\"\nscore = \"1.0\"\n"),
        "d/x.toml:7:29: `when`: `mysql.global_status.Threads_conected` is not in the snapshot: \
         the status variables of MariaDB 10.11 and MySQL 8.0.32 have no `Threads_conected`; did \
         you mean `mysql.global_status.Threads_connected`?"
    );
    // Every way of reading a key: `[...]`, `[?...]`, `.?`, `has()`, `in`; at the key itself.
    assert_eq!(
        error(
            "when = \"mysql.?variables[?'max_conections'].orValue(0.0) > 1.0\"\nscore = \"1.0\"\n"
        ),
        "d/x.toml:7:28: `when`: `mysql.?variables.max_conections` is not in the snapshot: the \
         system variables of MariaDB 10.11 and MySQL 8.0.32 have no `max_conections`; did you \
         mean `mysql.?variables.max_connections`?"
    );
    assert!(
        error("when = \"'wait_timeot' in mysql.variables\"\nscore = \"1.0\"\n").starts_with(
            "d/x.toml:7:10: `when`: `mysql.variables.wait_timeot` is not in the snapshot"
        ),
    );
    // A name far from every listed one may be a newer server's: accepted, and said.
    assert_eq!(
        notes(
            "when = \"mysql.global_status.?Innodb_future_counter.hasValue()\"\nscore = \"1.0\"\n"
        ),
        [
            "d/x.toml:7:30: `when`: `mysql.global_status.Innodb_future_counter`: the status \
          variables of MariaDB 10.11 and MySQL 8.0.32 have no `Innodb_future_counter`, nor a \
          name close to it: accepted as a newer server's; where it is missing the rule is not \
          checked"
        ]
    );
}

#[test]
fn a_kernel_counter_typo_is_a_warning_not_a_refusal() {
    assert_eq!(
        notes("when = \"tcp.counters.TcpExtListenOverflow.delta > 0.0\"\nscore = \"1.0\"\n"),
        [
            "warning: d/x.toml:7:22: `when`: `tcp.counters.TcpExtListenOverflow`: the TCP counters \
          of Linux 6.18 and the kernel's documentation have no `TcpExtListenOverflow`; did you \
          mean `tcp.counters.TcpExtListenOverflows`? (accepted: another kernel may have it; \
          where it is missing the rule is not checked)"
        ]
    );
    // A container's namespace has the same counters; the collector's sysctls are all there is.
    accepted(
        "when = \"containers.containers.exists(c, has(c.net) && c.net.counters.?TcpExtListenDrops.?delta.orValue(0.0) > 0.0)\"\nscore = \"1.0\"\n",
    );
    assert_eq!(
        error("when = \"tcp.sysctls[?'net.core.somaxcon'].orValue(0.0) > 1.0\"\nscore = \"1.0\"\n"),
        "d/x.toml:7:23: `when`: `tcp.sysctls['net.core.somaxcon']` is not in the snapshot: the \
         sysctls doctor reads have no `net.core.somaxcon`; did you mean \
         `tcp.sysctls['net.core.somaxconn']`?"
    );
}

#[test]
fn an_unknown_log_category_is_refused_when_near_a_known_one() {
    assert_eq!(
        error("when = \"logs.categories['db-pool-exausted'].count > 0.0\"\nscore = \"1.0\"\n"),
        "d/x.toml:7:26: `when`: `logs.categories['db-pool-exausted']` is not in the snapshot: \
         the categories of the built-in log patterns have no `db-pool-exausted`; did you mean \
         `logs.categories['db-pool-exhausted']`?"
    );
    // Far from every built-in one: a pattern of one's own, which `analyze` cannot know.
    assert_eq!(
        notes("when = \"logs.categories[?'my-app-errors'].?count.orValue(0.0) > 0.0\"\nscore = \"1.0\"\n").len(),
        1
    );
    // `doctor check` knows every pattern it scans with: then any unknown category is refused.
    let loaded = LogNames::of_patterns(&crate::scan::pattern::load(&[] as &[&str]).unwrap());
    let e = Catalogue::from_sources_with(
        &[rule("when = \"logs.categories[?'my-app-errors'].?count.orValue(0.0) > 0.0\"\nscore = \"1.0\"\n")],
        &loaded,
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.starts_with(
            "d/x.toml:7:27: `when`: `logs.categories['my-app-errors']` is not in the snapshot: \
             the categories of the loaded log patterns are "
        ),
        "{e}"
    );
    // A pattern id, in a source's matches.
    assert!(
        error(
            "when = \"logs.sources.exists(s, 'mysql-queue-limt' in s.matches)\"\nscore = \"1.0\"\n"
        )
        .contains("did you mean `s.matches['mysql-queue-limit']`?"),
    );
}

#[test]
fn type_errors_the_schema_shows() {
    assert_eq!(
        error("when = \"mysql.version * 2.0 > 1.0\"\nscore = \"1.0\"\n"),
        "d/x.toml:7:15: `when`: `mysql.version * 2.0`: `mysql.version` is a string; `*` needs numbers"
    );
    assert_eq!(
        error("when = \"mysql.version + 1.0 > 1.0\"\nscore = \"1.0\"\n"),
        "d/x.toml:7:15: `when`: `mysql.version + 1.0`: `mysql.version` is a string; `+` needs numbers"
    );
    assert_eq!(
        error("when = \"mysql.version < 8.0\"\nscore = \"1.0\"\n"),
        "d/x.toml:7:15: `when`: `mysql.version < 8.0`: `mysql.version` is a string and `8.0` a \
         number: they cannot be compared"
    );
    assert_eq!(
        error("when = \"host.kernel == 6.0\"\nscore = \"1.0\"\n"),
        "d/x.toml:7:14: `when`: `host.kernel == 6.0`: `host.kernel` is a string and `6.0` a \
         number: never equal"
    );
    assert_eq!(
        error("when = \"size(cpu.busy_pct) > 1\"\nscore = \"1.0\"\n"),
        "d/x.toml:7:18: `when`: `size(cpu.busy_pct)`: `cpu.busy_pct` is a number, which has no size"
    );
    assert_eq!(
        error("when = \"cpu.busy_pct.total > 1.0\"\nscore = \"1.0\"\n"),
        "d/x.toml:7:22: `when`: `cpu.busy_pct.total`: `cpu.busy_pct` is a number, which has no \
         field `total`"
    );
    assert_eq!(
        error("when = \"cpu.busy_pct / 2 > 1.0\"\nscore = \"1.0\"\n"),
        "d/x.toml:7:24: `when`: `cpu.busy_pct / 2`: CEL does not mix an int (`2`) with a double \
         (every snapshot number) in `/`; write `2.0`"
    );
    assert_eq!(
        error("when = \"mysql.flavor == 'maria'\"\nscore = \"1.0\"\n"),
        "d/x.toml:7:26: `when`: `mysql.flavor == 'maria'`: `mysql.flavor` is one of `mysql`, \
         `mariadb`: never `maria`; did you mean `mariadb`?"
    );
}

#[test]
fn dynamic_forms_are_not_refused() {
    for body in [
        // `orValue` with a fallback of another type, `fmt` of either.
        "when = \"fmt(mysql.?storage.?redo_log.?sync_avg_ms.orValue('n/a')) != ''\"\nscore = \"1.0\"\n",
        // A server variable is a number or a text: arithmetic and comparison with both.
        "when = \"mysql.variables.innodb_buffer_pool_size / 2.0 > 1.0 && mysql.variables.?log_bin.orValue('OFF') == 'ON'\"\nscore = \"1.0\"\n",
        // `dyn()`: anything goes.
        "when = \"dyn(cpu).anything > 1.0\"\nscore = \"1.0\"\n",
        // A ternary of an element and a literal: a field either has.
        "when = \"hot.name != '' && has(hot.busiest_thread)\"\nscore = \"1.0\"\n[let]\nhot = \"size(processes.top) > 0 ? processes.top[0] : {'name': '', 'pid': 0.0}\"\n",
        // A literal fallback for an absent map.
        "when = \"containers.containers.exists(c, has(c.net) && c.net.?sysctls.orValue({})[?'net.core.somaxconn'].orValue(-1.0) > 0.0)\"\nscore = \"1.0\"\n",
        // Keys taken from the data, map comprehensions, lists of mixed literals.
        "when = \"logs.patterns.filter(k, logs.patterns[k].count > 0.0).size() > 0 && [['a', 1.0]].exists(x, x[1] > 0.0)\"\nscore = \"1.0\"\n",
        // Comparing an int with a double is fine; so is a variable compared with a number.
        "when = \"size(disks.devices) > 0.0 && mysql.variables.max_connections > 0\"\nscore = \"1.0\"\n",
        // The envelope of a section and a comprehension variable named like a section.
        "when = \"cpu.status == 'ok' && [1.0].exists(cpu, cpu > 0.0)\"\nscore = \"1.0\"\n",
    ] {
        accepted(body);
    }
}

#[test]
fn positions_count_toml_escapes_and_placeholders() {
    // `\\` and `\'` in a basic string are two characters in the file, one in the expression.
    assert_eq!(
        error("when = \"true\"\nscore = \"1.0\"\n[let]\nx = \"'a\\\\'b' + cpu.busy_pctt\"\n"),
        "d/x.toml:10:20: `let.x`: `cpu.busy_pctt` is not in the snapshot; did you mean `cpu.busy_pct`?"
    );
    // A placeholder on the second line of a multi-line text.
    let e = Catalogue::from_sources(&[Source {
        path: "d/x.toml".into(),
        text: "id = \"x\"\ntitle = \"t\"\nlayer = \"cpu\"\nkind = \"root-cause\"\nsummary = \"s\"\nwhen = \"true\"\nscore = \"1\"\nfix = \"\"\"\nline one\nvalue {{cpu.busy_pctt}}\n\"\"\"\n".into(),
        doc: None,
        builtin: false,
    }])
    .unwrap_err()
    .to_string();
    assert_eq!(
        e,
        "d/x.toml:10:13: `fix`: `cpu.busy_pctt` is not in the snapshot; did you mean `cpu.busy_pct`?"
    );
    // `has()` points at the field inside it, not at the path's start.
    assert!(
        error("when = \"has(mysql.processlist.sleepingg)\"\nscore = \"1.0\"\n").starts_with(
            "d/x.toml:7:31: `when`: `mysql.processlist.sleepingg` is not in the snapshot"
        ),
    );
}

#[test]
fn names_every_group_defines_are_known_to_the_rule_s_texts() {
    let groups = "[[from]]\nname = \"a\"\nwhen = \"true\"\nscore = \"1.0\"\n[from.let]\n\
                  v = \"mysql.global_status.Threads_connected\"\n[[from]]\nname = \"b\"\n\
                  when = \"true\"\nscore = \"1.0\"\n[from.let]\n\
                  v = \"mysql.global_status.Max_used_connections\"\n";
    accepted(&format!(
        "[[evidence]]\nlabel = \"v\"\nexpr = \"v.total\"\n{groups}"
    ));
    assert_eq!(
        error(&format!(
            "[[evidence]]\nlabel = \"v\"\nexpr = \"v.totall\"\n{groups}"
        )),
        "d/x.toml:9:11: `evidence[0].expr`: `v.totall` is not in the snapshot; did you mean `v.total`?"
    );
}
