//! The storage rules on hand-written boundary snapshots (promtool's `test rules` idea: input
//! data, expected findings), for the shapes one machine cannot produce: a device-mapper volume
//! on md RAID on two disks, a loop device over a file on another disk, and a MySQL server whose
//! storage doctor cannot see at all.

#![allow(clippy::float_cmp)] // scores are whole numbers: exactness is what is tested

use doctor::engine::{Analysis, Catalogue, analyze};
use doctor::snapshot::Snapshot;

fn rules() -> Catalogue {
    Catalogue::load(None).expect("the built-in rules compile")
}

/// A snapshot with the given sections (JSON object members, comma-separated).
fn snapshot(sections: &str) -> Snapshot {
    let text = format!(
        r#"{{"schema":1,"doctor_version":"0","host":{{"hostname":"h","kernel":"k","cpus":2,"memory_bytes":4294967296,"uptime_s":1}},
        "window":{{"start":"2025-01-03T10:09:19Z","start_unix_ms":0,"requested_ms":5000,"elapsed_ms":5000}},
        "overhead":{{"cpu_ms":1,"max_rss_bytes":1,"wall_ms":1}}{}{sections}}}"#,
        if sections.is_empty() { "" } else { "," }
    );
    doctor::snapshot::from_json(text.as_bytes(), std::path::Path::new("t.json")).unwrap()
}

/// One `disks.devices[]` entry: `extra` holds the identity fields (kind, under, ...).
fn device(name: &str, extra: &str, util: f64, aqu: f64, w_await: f64) -> String {
    format!(
        r#"{{"name":"{name}",{extra}"reads_per_s":0,"writes_per_s":50,"read_bytes_per_s":0,
        "write_bytes_per_s":204800,"read_merges_per_s":0,"write_merges_per_s":0,"w_await_ms":{w_await},
        "aqu_sz":{aqu},"util_pct":{util},"in_flight":1}}"#
    )
}

fn disks(devices: &[String]) -> String {
    format!(
        r#""disks":{{"status":"ok","elapsed_ms":1,"devices":[{}]}}"#,
        devices.join(",")
    )
}

fn finding<'a>(a: &'a Analysis, id: &str) -> &'a doctor::engine::Finding {
    a.findings.iter().find(|f| f.id == id).unwrap_or_else(|| {
        panic!(
            "{id} did not fire: {:?}; not checked: {:?}",
            a.findings.iter().map(|f| &f.id).collect::<Vec<_>>(),
            a.not_checked
        )
    })
}

#[test]
fn a_saturated_lvm_volume_names_its_chain_down_to_the_disks() {
    let s = snapshot(&disks(&[
        device(
            "dm-0",
            r#""kind":"dm","dm_name":"vg0-data","under":["md0"],"rotational":false,"#,
            100.0,
            12.0,
            240.0,
        ),
        device(
            "md0",
            r#""kind":"md","under":["sda","sdb"],"rotational":false,"#,
            97.0,
            6.0,
            120.0,
        ),
        device(
            "sda",
            r#""kind":"disk","rotational":true,"#,
            96.0,
            3.0,
            60.0,
        ),
        device(
            "sdb",
            r#""kind":"disk","rotational":true,"#,
            95.0,
            3.0,
            58.0,
        ),
    ]));
    let a = analyze(&rules(), &s);
    let f = finding(&a, "disk-io-saturation");
    assert!(
        f.summary
            .starts_with("dm-0 (vg0-data, on md0 → sda, sdb, non-rotational) busy 100%"),
        "{}",
        f.summary
    );
    assert!(
        f.fix
            .contains("Under it: md0 97% util, aqu-sz 6, w_await 120 ms"),
        "{}",
        f.fix
    );
    let device = f.evidence.iter().find(|e| e.label == "device").unwrap();
    assert_eq!(
        device.value,
        "dm-0 (vg0-data, on md0 → sda, sdb, non-rotational)"
    );
}

#[test]
fn a_saturated_loop_device_names_its_file_and_the_disk_under_it() {
    let s = snapshot(&disks(&[
        device(
            "loop0",
            r#""kind":"loop","backing_file":"/srv/slow.img","under":["vda"],"rotational":false,"#,
            100.0,
            3.0,
            90.0,
        ),
        device(
            "vda",
            r#""kind":"disk","rotational":false,"#,
            20.0,
            0.1,
            1.0,
        ),
    ]));
    let a = analyze(&rules(), &s);
    let f = finding(&a, "disk-io-saturation");
    assert!(
        f.summary
            .starts_with("loop0 (loop over /srv/slow.img, on vda, non-rotational) busy"),
        "{}",
        f.summary
    );
    assert!(f.fix.contains("Under it: vda 20% util"), "{}", f.fix);
}

#[test]
fn a_loop_device_over_a_file_doctor_cannot_place_says_where_to_look() {
    let s = snapshot(&disks(&[device(
        "loop0",
        r#""kind":"loop","backing_file":"/mnt/fuse/disk.img","rotational":false,"#,
        100.0,
        2.0,
        60.0,
    )]));
    let a = analyze(&rules(), &s);
    let f = finding(&a, "disk-io-saturation");
    assert!(
        f.summary
            .starts_with("loop0 (loop over /mnt/fuse/disk.img, non-rotational) busy"),
        "{}",
        f.summary
    );
    assert!(
        f.fix.contains(
            "A loop device is only as fast as the file behind it and the filesystem holding \
             that file (/mnt/fuse/disk.img)"
        ),
        "{}",
        f.fix
    );
}

#[test]
fn a_plain_disk_reads_as_before() {
    // A snapshot from before doctor read kinds: no `kind`, no `under`.
    let s = snapshot(&disks(&[device(
        "sda",
        r#""rotational":true,"#,
        99.0,
        4.0,
        80.0,
    )]));
    let a = analyze(&rules(), &s);
    let f = finding(&a, "disk-io-saturation");
    assert!(
        f.summary.starts_with("sda (rotational) busy 99%"),
        "{}",
        f.summary
    );
    assert!(!f.fix.contains("Under it"), "{}", f.fix);
}

/// A `mysql` section: MariaDB 10.11 with `datadir` and `storage` as given (JSON members, may
/// be empty).
fn mysql(extra: &str) -> String {
    format!(
        r#""mysql":{{"status":"ok","elapsed_ms":3,"flavor":"mariadb","version":"10.11.6-MariaDB","version_major":10,
        "version_minor":11,"version_patch":6,"connection":{{"via":"tcp","address":"10.0.0.5:3306","user":"doctor",
        "source":"url","tls":false}},"uptime_s":3700,"global_status":{{}},"global_status_text":{{}},
        "variables":{{"innodb_flush_log_at_trx_commit":1,"sync_binlog":0,"log_bin":"OFF","innodb_log_buffer_size":16777216}},
        "performance_schema":{{"enabled":true}}{}{extra}}}"#,
        if extra.is_empty() { "" } else { "," }
    )
}

/// Data-file syncs averaging `ms` over `n` syncs, and the status view.
fn storage(n: u32, ms: f64, pending: (i64, i64), log_waits: i64) -> String {
    format!(
        r#""storage":{{"data_files":{{"event":"wait/io/file/innodb/innodb_data_file","writes":40,"write_bytes":655360,
        "syncs":{n},"sync_avg_ms":{ms}}},"data_pending_fsyncs":{{"start":{},"end":{}}},
        "data_pending_writes":{{"start":0,"end":0}},"data_fsyncs_per_s":14.5,"log_waits":{log_waits}}}"#,
        pending.0, pending.1
    )
}

fn ids(a: &Analysis) -> Vec<&str> {
    a.findings.iter().map(|f| f.id.as_str()).collect()
}

#[test]
fn slow_syncs_on_a_device_doctor_cannot_see_stand_alone_and_say_so() {
    let s = snapshot(&mysql(&format!(
        r#""datadir":{{"path":"/var/lib/mysql/","local":false}},{}"#,
        storage(9, 40.0, (0, 1), 0)
    )));
    let a = analyze(&rules(), &s);
    assert_eq!(ids(&a), ["mysql-slow-storage"]);
    let f = &a.findings[0];
    assert_eq!(f.score, 85.0); // 80 at 20 ms, + 20 × ramp(40, 20, 100) = 5
    assert!(f.explained_by.is_none());
    assert!(
        f.summary.starts_with(
            "syncs take 40 ms on average (data file fsync), 14.5 fsyncs/s (Innodb_data_fsyncs); \
             the datadir (/var/lib/mysql/) is not on this machine"
        ),
        "{}",
        f.summary
    );
    assert!(
        f.summary.contains("doctor cannot see that device"),
        "{}",
        f.summary
    );
    assert!(
        f.fix.contains("Measure the storage where it lives"),
        "{}",
        f.fix
    );
}

#[test]
fn a_visible_saturated_device_is_the_cause_and_the_slow_syncs_its_symptom() {
    let s = snapshot(&format!(
        "{},{}",
        disks(&[
            device(
                "loop0",
                r#""kind":"loop","backing_file":"/srv/slow.img","under":["vda"],"rotational":false,"#,
                99.9,
                30.0,
                350.0,
            ),
            device("vda", r#""kind":"disk","rotational":true,"#, 4.0, 0.1, 2.0)
        ]),
        mysql(&format!(
            r#""datadir":{{"path":"/srv/db/data/","local":true,"device":"loop0"}},{}"#,
            storage(9, 40.0, (0, 1), 0)
        ))
    ));
    let a = analyze(&rules(), &s);
    assert_eq!(ids(&a), ["disk-io-saturation", "mysql-slow-storage"]);
    let symptom = &a.findings[1];
    assert_eq!(symptom.explained_by.as_deref(), Some("disk-io-saturation"));
    assert!(
        symptom.summary.ends_with(
            "datadir on loop0 (loop over /srv/slow.img, on vda): 99.9% busy, aqu-sz 30, w_await 350 ms"
        ),
        "{}",
        symptom.summary
    );
}

#[test]
fn thresholds_and_what_counts() {
    let at = |n: u32, ms: f64, pending: (i64, i64), waits: i64| {
        let s = snapshot(&mysql(&format!(
            r#""datadir":{{"path":"/var/lib/mysql/","local":true,"device":"sda"}},{}"#,
            storage(n, ms, pending, waits)
        )));
        let a = analyze(&rules(), &s);
        a.findings
            .iter()
            .find(|f| f.id == "mysql-slow-storage")
            .map(|f| (f.score, f.severity.to_string()))
    };
    assert_eq!(at(9, 9.9, (0, 1), 0), None); // just under etcd's 10 ms
    assert_eq!(at(9, 10.0, (0, 0), 0), Some((50.0, "warning".into())));
    assert_eq!(at(9, 20.0, (0, 0), 0), Some((80.0, "critical".into())));
    assert_eq!(at(1, 500.0, (0, 0), 0), None); // one slow sync is an anecdote
    assert_eq!(at(0, 0.0, (1, 2), 0), Some((50.0, "warning".into()))); // pending at both
    assert_eq!(at(0, 0.0, (1, 0), 0), None); // at one reading only
    assert_eq!(at(0, 0.0, (0, 0), 3), Some((40.0, "info".into()))); // log buffer waits
    // The device is named even when its figures were not collected.
    let s = snapshot(&mysql(&format!(
        r#""datadir":{{"path":"/var/lib/mysql/","local":true,"device":"sda"}},{}"#,
        storage(5, 30.0, (0, 0), 0)
    )));
    let a = analyze(&rules(), &s);
    assert!(
        a.findings[0].summary.ends_with(
            "datadir on sda, whose figures doctor did not collect (disks section missing)"
        ),
        "{}",
        a.findings[0].summary
    );
}

/// MySQL 8: the redo log's own latency, the binary log's, and the log's pending fsyncs.
#[test]
fn the_redo_log_and_binlog_count_where_the_server_times_them() {
    let s = snapshot(&mysql(
        r#""datadir":{"path":"/var/lib/mysql/","local":false},"storage":{
        "redo_log":{"event":"wait/io/file/innodb/innodb_log_file","writes":300,"write_bytes":153600,"write_avg_ms":0.8,"syncs":150,"sync_avg_ms":12.5},
        "data_files":{"event":"wait/io/file/innodb/innodb_data_file","writes":0,"write_bytes":0,"syncs":0},
        "binlog":{"event":"wait/io/file/sql/binlog","writes":150,"write_bytes":90000,"write_avg_ms":0.1,"syncs":150,"sync_avg_ms":11.0},
        "log_pending_fsyncs":{"start":1,"end":0},"log_fsyncs_per_s":30,"log_waits":0}"#,
    ));
    let a = analyze(&rules(), &s);
    let f = finding(&a, "mysql-slow-storage");
    assert_eq!(f.score, 58.0); // 50 + 30 × ramp(12.5, 10, 20) = 57.5
    assert!(
        f.summary
            .starts_with("syncs take 12.5 ms on average (redo log fsync)"),
        "{}",
        f.summary
    );
    let redo = f
        .evidence
        .iter()
        .find(|e| e.label.starts_with("redo log"))
        .unwrap();
    assert_eq!(redo.value, "12.5 / 0.8 (150 syncs)");
    assert!(
        f.fix.contains("redo log fsync 12.5 ms on average, redo log write 0.8 ms on average, binary log fsync 11 ms on average"),
        "{}",
        f.fix
    );
}

/// A snapshot from before doctor read `mysql.storage`: not checked, never "fine".
#[test]
fn without_the_storage_figures_the_rule_is_not_checked() {
    let s = snapshot(&mysql(
        r#""datadir":{"path":"/var/lib/mysql/","local":true}"#,
    ));
    let a = analyze(&rules(), &s);
    let n = a
        .not_checked
        .iter()
        .find(|n| n.id == "mysql-slow-storage")
        .expect("not checked");
    assert!(n.reason.contains("no `storage`"), "{}", n.reason);
    assert!(!a.passed.iter().any(|p| p == "mysql-slow-storage"));
}
