//! The storage rules on hand-written boundary snapshots (promtool's `test rules` idea: input
//! data, expected findings), for the shapes one machine cannot produce: a device-mapper volume
//! on md RAID on two disks, a loop device over a file on another disk, and a MySQL server whose
//! storage doctor cannot see at all.

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
