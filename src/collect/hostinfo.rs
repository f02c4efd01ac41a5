//! Facts about the machine: name, kernel, size, and whether it is a VM or a container.

use super::parse;
use crate::snapshot::HostFacts;

fn text(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

pub fn read() -> HostFacts {
    let meminfo = text("/proc/meminfo")
        .map(|t| parse::meminfo(&t))
        .unwrap_or_default();
    HostFacts {
        hostname: Some(text("/proc/sys/kernel/hostname").unwrap_or_else(|| "unknown".into())),
        kernel: Some(text("/proc/sys/kernel/osrelease").unwrap_or_else(|| "unknown".into())),
        os: text("/etc/os-release").and_then(|t| os_name(&t)),
        // What doctor wrote before the facts could be unknown: a file not readable here gives
        // "unknown" and 0 as it always did, so live snapshots keep their shape.
        cpus: Some(
            text("/sys/devices/system/cpu/online")
                .and_then(|t| parse::cpu_list_len(&t))
                .or_else(|| text("/proc/stat").map(|t| parse::stat(&t).per_cpu.len() as u32))
                .unwrap_or(0),
        ),
        memory_bytes: Some(meminfo.get("MemTotal").copied().unwrap_or(0)),
        uptime_s: Some(
            text("/proc/uptime")
                .and_then(|t| {
                    t.split_ascii_whitespace()
                        .next()
                        .and_then(|u| u.parse().ok())
                })
                .unwrap_or(0.0),
        ),
        virtualization: virtualization(),
        container: container(),
        boot_id: text("/proc/sys/kernel/random/boot_id"),
        addresses: super::addresses::read(),
    }
}

fn os_name(os_release: &str) -> Option<String> {
    os_release
        .lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))
        .map(|v| v.trim_matches('"').to_owned())
}

/// The hypervisor, told from the DMI vendor strings the way systemd-detect-virt does; a VM
/// without DMI (Firecracker, some clouds) is still told by the CPU's `hypervisor` flag.
fn virtualization() -> Option<String> {
    let dmi = [
        text("/sys/class/dmi/id/sys_vendor"),
        text("/sys/class/dmi/id/product_name"),
        text("/sys/class/dmi/id/bios_vendor"),
    ];
    for value in dmi.iter().flatten() {
        if let Some(v) = vendor(value) {
            return Some(v.to_owned());
        }
    }
    let cpuinfo = text("/proc/cpuinfo")?;
    let has_flag = cpuinfo
        .lines()
        .find(|l| l.starts_with("flags"))
        .is_some_and(|l| l.split_ascii_whitespace().any(|f| f == "hypervisor"));
    has_flag.then(|| "vm".to_owned())
}

fn vendor(dmi: &str) -> Option<&'static str> {
    const VENDORS: &[(&str, &str)] = &[
        ("KVM", "kvm"),
        ("QEMU", "qemu"),
        ("VMware", "vmware"),
        ("Microsoft Corporation", "microsoft"),
        ("innotek GmbH", "oracle"),
        ("VirtualBox", "oracle"),
        ("Xen", "xen"),
        ("Amazon EC2", "amazon"),
        ("Google", "google"),
        ("OpenStack", "openstack"),
        ("Parallels", "parallels"),
        ("Alibaba Cloud", "alibaba"),
    ];
    VENDORS
        .iter()
        .find(|(needle, _)| dmi.contains(needle))
        .map(|(_, name)| *name)
}

fn container() -> Option<String> {
    if std::path::Path::new("/.dockerenv").exists() {
        return Some("docker".into());
    }
    if std::path::Path::new("/run/.containerenv").exists() {
        return Some("podman".into());
    }
    if let Ok(env) = std::fs::read("/proc/1/environ") {
        for var in env.split(|b| *b == 0) {
            if let Some(v) = var.strip_prefix(b"container=") {
                return Some(String::from_utf8_lossy(v).into_owned());
            }
        }
    }
    let cgroup = text("/proc/1/cgroup").unwrap_or_default();
    ["docker", "kubepods", "containerd", "lxc"]
        .iter()
        .find(|n| cgroup.contains(*n))
        .map(|n| (*n).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_and_vendor() {
        assert_eq!(
            os_name("NAME=\"CentOS Linux\"\nPRETTY_NAME=\"CentOS Linux 7 (Core)\"\n").as_deref(),
            Some("CentOS Linux 7 (Core)")
        );
        assert_eq!(vendor("Amazon EC2"), Some("amazon"));
        assert_eq!(vendor("Dell Inc."), None);
    }
}
